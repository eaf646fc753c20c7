"""The rule-based intake agent: what it records, what it asks, and what it never invents."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
from medrecord_api import HistoryMessage, IntakeTurn, RuleBasedIntakeAgent, SessionInfo, TurnResult
from medrecord_api.agent.extraction import extract_facts, shorten_complaint
from medrecord_api.agent.rule_based import QUESTION_ORDER
from medrecord_api.state_updates import merge_state, validate_state_update

from medrecord import DepartmentRegistry, read_agent_state
from medrecord.state import SymptomStatus

AGENT = RuleBasedIntakeAgent(chunk_size=5, chunk_delay=0)
MOMENT = dt.datetime(2026, 3, 1, 2, 0, tzinfo=dt.UTC)

DIAGNOSIS_WORDS = ("诊断为", "确诊", "湿疹", "皮炎", "感冒", "流感", "心梗")


class Conversation:
    """Drives the agent as the app does: history grows, updates merge into the state."""

    def __init__(self, registry: DepartmentRegistry, department: str) -> None:
        self.department = registry.resolve(department)
        self.state: dict[str, Any] = {}
        self.history: list[HistoryMessage] = []

    def say(
        self, text: str, attachments: tuple[dict[str, Any], ...] = ()
    ) -> tuple[str, TurnResult]:
        self.history.append(
            HistoryMessage(
                id=len(self.history) + 1,
                sender="user",
                content=text,
                message_type="image" if attachments else "text",
                created_at=MOMENT,
                attachments=attachments,
            )
        )
        turn = IntakeTurn(
            session=SessionInfo("session-1", 1, self.department),
            history=list(self.history),
            state=read_agent_state(self.state, self.department.state_schema).state,
            action="conversation",
        )
        outputs = asyncio.run(collect(turn))
        chunks = [output for output in outputs if isinstance(output, str)]
        result = outputs[-1]
        assert isinstance(result, TurnResult)
        assert all(len(chunk) <= 5 for chunk in chunks)
        update = validate_state_update(self.department.state_schema, result.state_update)
        self.state = merge_state(self.state, update)
        reply = "".join(chunks)
        self.history.append(
            HistoryMessage(len(self.history) + 1, "assistant", reply, "text", MOMENT)
        )
        return reply, result


async def collect(turn: IntakeTurn) -> list[object]:
    return [output async for output in AGENT.respond(turn)]


# Extraction


@pytest.mark.parametrize(
    ("text", "duration"),
    [
        ("三天了", "三天"),
        ("3天", "3天"),
        ("两周", "两周"),
        ("一个月以上", "一个月以上"),
        ("1-3天", "1-3天"),
        ("半个月", "半个月"),
        ("十几天", "十几天"),
        ("今天刚开始", "今天刚开始"),
        ("大概一年多", "一年多"),
        ("3月份开始", None),
        ("没多久", None),
    ],
)
def test_duration_patterns(text: str, duration: str | None) -> None:
    assert extract_facts(text).duration == duration


@pytest.mark.parametrize(
    ("text", "present", "absent"),
    [
        ("手臂起了红疹，很痒", ["红疹", "瘙痒"], []),
        ("没有发热", [], ["发热"]),
        ("不咳嗽，嗓子疼", ["咽痛"], ["咳嗽"]),
        ("没有发热和咳嗽", [], ["发热", "咳嗽"]),
        ("不知道为什么起了红疹", ["红疹"], []),
        ("不停地咳嗽", ["咳嗽"], []),
        ("头疼，但是不发烧", ["头痛"], ["发热"]),
        ("肚子疼还拉肚子", ["腹痛", "腹泻"], []),
    ],
)
def test_symptoms_and_denials(text: str, present: list[str], absent: list[str]) -> None:
    facts = extract_facts(text)

    assert sorted(facts.present) == sorted(present)
    assert sorted(facts.absent) == sorted(absent)


def test_uncertain_symptom() -> None:
    facts = extract_facts("好像有点发烧")

    assert [(m.name, m.status) for m in facts.mentions] == [("发热", SymptomStatus.UNCERTAIN)]


@pytest.mark.parametrize(
    ("text", "severity"),
    [
        ("有点痒", "轻度"),
        ("疼得很厉害", "重度"),
        ("不太严重", "轻度"),
        ("比较疼", "中度"),
        ("痒", None),
    ],
)
def test_severity_words(text: str, severity: str | None) -> None:
    assert extract_facts(text).severity == severity


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("医生你好，我手臂上起了红疹。已经三天了", "我手臂上起了红疹"),
        ("你好", None),
        ("您好！头痛", "头痛"),
        ("   ", None),
        ("我" + "很" * 60 + "痒", "我" + "很" * 39),
        (
            "我这两天一直在咳嗽，晚上尤其厉害，白天好一点，吃了药也没有明显好转，还有点发烧，睡不好",
            "我这两天一直在咳嗽，晚上尤其厉害，白天好一点，吃了药也没有明显好转，还有点发烧",
        ),
    ],
)
def test_shorten_complaint(text: str, complaint: str | None) -> None:
    assert shorten_complaint(text) == complaint


# Conversation


def test_full_intake_asks_in_order_and_concludes(installed_registry: DepartmentRegistry) -> None:
    chat = Conversation(installed_registry, "dermatology")

    first, result = chat.say("医生你好，我的手臂上起了红疹，很痒，没有发热")
    assert "皮肤科" in first
    assert "持续多久" in first
    assert result.quick_options
    assert chat.state["chief_complaint"] == "我的手臂上起了红疹，很痒，没有发热"
    assert chat.state["symptoms"] == ["红疹", "瘙痒"]
    assert chat.state["symptom_details"]["发热"] == {"status": "absent"}
    assert chat.state["can_conclude"] is False

    chat.say("三天了")
    assert chat.state["symptom_details"]["红疹"]["duration"] == "三天"

    chat.say("中度，有些影响")
    assert chat.state["symptom_details"]["瘙痒"]["severity"] == "中度"

    chat.say("没有其他不适")
    last, result = chat.say("有过敏史，对青霉素过敏")

    assert chat.state["past_history"] == "有过敏史，对青霉素过敏"
    assert chat.state["can_conclude"] is True
    assert chat.state["stage"] == "concluding"
    assert chat.state["progress"] == 100
    assert chat.state["intake_topics_asked"] == list(QUESTION_ORDER[1:])
    assert "生成病历" in result.quick_options
    assert "risk_level" not in chat.state
    assert not any(word in last for word in DIAGNOSIS_WORDS)


def test_known_answers_skip_questions(installed_registry: DepartmentRegistry) -> None:
    chat = Conversation(installed_registry, "neurology")

    reply, _ = chat.say("头痛三天了，很厉害")

    assert "持续多久" not in reply
    assert "有多严重" not in reply
    assert "其他不舒服" in reply
    assert chat.state["symptom_details"]["头痛"] == {
        "status": "present",
        "duration": "三天",
        "severity": "重度",
    }


def test_greeting_only_asks_for_complaint(installed_registry: DepartmentRegistry) -> None:
    chat = Conversation(installed_registry, "general")

    reply, _ = chat.say("你好")
    assert "哪里不舒服" in reply
    assert "chief_complaint" not in chat.state

    chat.say("最近总是没力气")
    assert chat.state["chief_complaint"] == "最近总是没力气"
    assert chat.state["symptoms"] == ["乏力"]


@pytest.mark.parametrize("text", ["突然胸痛，出冷汗", "喘不过气来", "刚才晕倒了一次"])
def test_red_flag_sets_high_risk_and_urgent_advice(
    installed_registry: DepartmentRegistry, text: str
) -> None:
    chat = Conversation(installed_registry, "cardiology")

    reply, _ = chat.say(text)

    assert chat.state["risk_level"] == "high"
    assert "急诊" in reply
    assert "120" in reply
    assert chat.state["recommendations"]["urgency"]


def test_denied_red_flag_sets_no_risk(installed_registry: DepartmentRegistry) -> None:
    chat = Conversation(installed_registry, "cardiology")

    reply, _ = chat.say("心慌，没有胸痛")

    assert "risk_level" not in chat.state
    assert "急诊" not in reply


def test_image_is_acknowledged_not_analysed(installed_registry: DepartmentRegistry) -> None:
    chat = Conversation(installed_registry, "dermatology")
    image = {"type": "image", "mime_type": "image/png", "size": 10, "sha256": "0" * 64}

    reply, _ = chat.say("看看这个", attachments=(image,))

    assert "1 张图片" in reply
    assert "skin_analyses" not in chat.state


def test_agent_rejects_invalid_chunking() -> None:
    with pytest.raises(ValueError, match="chunk_size"):
        RuleBasedIntakeAgent(chunk_size=0)
