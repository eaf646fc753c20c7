"""A deterministic, rule-based zh-CN intake agent, so the example runs with no LLM.

It records what the patient typed (chief complaint, symptoms, denied symptoms, duration,
severity, body location, past history) and asks follow-up questions in a fixed order:
the complaint if none is known, then duration, severity, accompanying symptoms and
history. It never names a diagnosis and never sets a risk level, except "high" when the
patient reports a red-flag symptom, and then it advises urgent care.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import anyio

from medrecord.state import AgentState, SymptomStatus
from medrecord_api.agent.extraction import ExtractedFacts, extract_facts
from medrecord_api.agent.protocol import AgentOutput, IntakeTurn, TurnResult

__all__ = ["QUESTION_ORDER", "RuleBasedIntakeAgent"]

QUESTION_ORDER = ("complaint", "duration", "severity", "accompanying", "history")
"""The follow-up questions, in the order they are asked; a known answer skips one."""

TOPICS_ASKED_KEY = "intake_topics_asked"
"""State field (kept by every schema as an extra field) listing the questions asked."""

PENDING_QUESTION_KEY = "pending_question"
"""State field naming the question that the next user message replies to."""

_QUESTIONS: Mapping[str, str] = {
    "complaint": "请描述一下您哪里不舒服？",
    "duration": "这些症状持续多久了？",
    "severity": "症状有多严重？对日常生活或睡眠有影响吗？",
    "accompanying": "还有其他不舒服吗？比如{examples}？",
    "history": "以前有过类似情况吗？有没有慢性病或过敏史？",
}

_QUICK_OPTIONS: Mapping[str, Sequence[str]] = {
    "complaint": ("皮肤起疹子", "头痛", "发热咳嗽", "肚子疼"),
    "duration": ("今天刚开始", "1-3天", "一周左右", "一个月以上"),
    "severity": ("轻微", "中度，有些影响", "严重，影响睡眠"),
    "history": ("没有", "有过敏史", "有慢性病"),
}

_ACCOMPANYING_EXAMPLES: Mapping[str, Sequence[str]] = {
    "dermatology": ("发热", "疼痛", "脱皮"),
    "respiratory": ("发热", "咳痰", "胸闷"),
    "cardiology": ("胸闷", "心悸", "头晕"),
    "gastroenterology": ("恶心", "呕吐", "发热"),
    "neurology": ("头晕", "恶心", "麻木"),
    "orthopedics": ("肿胀", "麻木", "发热"),
    "endocrinology": ("口渴", "多尿", "乏力"),
}
_DEFAULT_EXAMPLES = ("发热", "乏力", "头痛")

_CONCLUSION = (
    "谢谢您的回答，主要信息已经收集完整。您可以点击“生成病历”整理本次问诊；"
    "如果症状加重，请及时到医院就诊。"
)
_CONCLUSION_OPTIONS = ("生成病历", "补充其他情况")

_URGENT_ADVICE = "您提到的{flags}可能需要紧急处理，请立即前往最近医院的急诊科，或拨打 120。"
_URGENT_RECOMMENDATION = "立即前往急诊就医"

MAX_HISTORY_LENGTH = 100
"""Maximum number of characters stored from the reply to the past-history question."""


@dataclass(frozen=True)
class _Progress:
    asked: list[str]
    next_question: str | None


class RuleBasedIntakeAgent:
    """The example intake agent: keyword rules, fixed questions, streamed in small chunks.

    ``chunk_size`` is the number of characters per streamed chunk. ``chunk_delay`` is the
    pause in seconds after each chunk, which makes the streaming visible to a person.
    Tests set it to 0.
    """

    def __init__(self, *, chunk_size: int = 6, chunk_delay: float = 0.03) -> None:
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be at least 1, got {chunk_size}")
        if chunk_delay < 0:
            raise ValueError(f"chunk_delay must not be negative, got {chunk_delay}")
        self.chunk_size = chunk_size
        self.chunk_delay = chunk_delay

    async def respond(self, turn: IntakeTurn) -> AsyncIterator[AgentOutput]:
        """Stream the reply to the turn's user message, then the state update."""
        reply, result = self.plan_reply(turn)
        for start in range(0, len(reply), self.chunk_size):
            yield reply[start : start + self.chunk_size]
            if self.chunk_delay:
                await anyio.sleep(self.chunk_delay)
        yield result

    def plan_reply(self, turn: IntakeTurn) -> tuple[str, TurnResult]:
        """Return the whole reply text and the turn result, without streaming."""
        state = turn.state
        extras = state.model_extra or {}
        pending = extras.get(PENDING_QUESTION_KEY)
        stored_topics = extras.get(TOPICS_ASKED_KEY)
        asked = [topic for topic in stored_topics or [] if isinstance(topic, str)]
        text = turn.message.content
        facts = extract_facts(text)
        update: dict[str, Any] = {}

        if state.chief_complaint is None and facts.complaint is not None:
            update["chief_complaint"] = facts.complaint

        details = _detail_updates(state, facts)
        if details:
            update["symptom_details"] = details
        new_symptoms = [name for name in facts.present if name not in state.symptoms]
        if new_symptoms:
            update["symptoms"] = new_symptoms

        if pending == "history" and state.past_history is None and text.strip():
            update["past_history"] = text.strip()[:MAX_HISTORY_LENGTH]

        if facts.red_flags:
            update["risk_level"] = "high"
            update["recommendations"] = {"urgency": _URGENT_RECOMMENDATION}

        progress = _next_question(state, update, asked)
        parts = [*self._acknowledge(turn, facts), *self._urgent_advice(facts)]
        if progress.next_question is None:
            parts.append(_CONCLUSION)
            quick_options: Sequence[str] = _CONCLUSION_OPTIONS
            update["stage"] = "concluding"
            update["can_conclude"] = True
            update[PENDING_QUESTION_KEY] = None
        else:
            parts.append(_question_text(progress.next_question, turn.session.department.code))
            quick_options = _quick_options(progress.next_question, turn.session.department.code)
            update["stage"] = "collecting"
            update["can_conclude"] = False
            update[PENDING_QUESTION_KEY] = progress.next_question

        update[TOPICS_ASKED_KEY] = progress.asked
        update["questions_asked"] = len(progress.asked)
        update["progress"] = _percent_done(progress)
        return "".join(parts), TurnResult(state_update=update, quick_options=list(quick_options))

    def _acknowledge(self, turn: IntakeTurn, facts: ExtractedFacts) -> list[str]:
        parts: list[str] = []
        if sum(1 for message in turn.history if message.sender == "user") == 1:
            name = turn.session.department.display_name("zh-CN")
            parts.append(f"您好，我是{name}的问诊助手（示例程序，按规则提问，不做诊断）。")
        if facts.present:
            parts.append(f"我记下了：{'、'.join(facts.present)}。")
        if facts.absent:
            parts.append(f"您没有{'、'.join(facts.absent)}。")
        if facts.duration:
            parts.append(f"持续时间：{facts.duration}。")

        images = sum(
            1 for attachment in turn.message.attachments if attachment.get("type") == "image"
        )
        if images:
            parts.append(
                f"已收到 {images} 张图片，已保存到本次会话供医生查看；这个示例助手不分析图片内容。"
            )
        elif turn.action in ("analyze_skin", "interpret_report"):
            parts.append("请上传需要查看的照片或报告图片。")
        return parts

    def _urgent_advice(self, facts: ExtractedFacts) -> list[str]:
        if not facts.red_flags:
            return []
        return [_URGENT_ADVICE.format(flags="、".join(facts.red_flags))]


def _detail_updates(state: AgentState, facts: ExtractedFacts) -> dict[str, dict[str, Any]]:
    """Return the symptom details this message adds or changes."""
    details: dict[str, dict[str, Any]] = {}
    for mention in facts.mentions:
        details[mention.name] = {"status": mention.status.value}

    # Duration, severity and location describe the symptoms named in the same message,
    # or, when it names none, the known symptoms that lack the fact.
    targets = facts.present or [
        name for name in state.present_symptoms() if name not in facts.absent
    ]
    for fact_name, value in (
        ("duration", facts.duration),
        ("severity", facts.severity),
        ("location", facts.location),
    ):
        if value is None:
            continue
        for name in targets:
            known = state.symptom_details.get(name)
            if facts.present or known is None or getattr(known, fact_name) is None:
                details.setdefault(name, {})[fact_name] = value
    return details


def _next_question(state: AgentState, update: Mapping[str, Any], asked: list[str]) -> _Progress:
    answered = _answered_topics(state, update)
    asked = list(asked)
    for topic in QUESTION_ORDER:
        if topic in answered or topic in asked:
            continue
        asked.append(topic)
        return _Progress(asked=asked, next_question=topic)
    return _Progress(asked=asked, next_question=None)


def _answered_topics(state: AgentState, update: Mapping[str, Any]) -> set[str]:
    details: dict[str, dict[str, Any]] = {
        name: detail.model_dump(exclude_none=True) for name, detail in state.symptom_details.items()
    }
    for name, changes in update.get("symptom_details", {}).items():
        details.setdefault(name, {}).update(changes)
    present = [
        name
        for name, detail in details.items()
        if detail.get("status") in (None, SymptomStatus.PRESENT, SymptomStatus.PRESENT.value)
    ]

    answered: set[str] = set()
    if state.chief_complaint or update.get("chief_complaint"):
        answered.add("complaint")
    if any(details[name].get("duration") for name in present):
        answered.add("duration")
    if any(details[name].get("severity") for name in present):
        answered.add("severity")
    if state.past_history or update.get("past_history"):
        answered.add("history")
    return answered


def _percent_done(progress: _Progress) -> int:
    # Every question before the next one is answered or was asked already.
    if progress.next_question is None:
        return 100
    return round(100 * QUESTION_ORDER.index(progress.next_question) / len(QUESTION_ORDER))


def _question_text(topic: str, department: str) -> str:
    examples = _ACCOMPANYING_EXAMPLES.get(department, _DEFAULT_EXAMPLES)
    return _QUESTIONS[topic].format(examples="、".join(examples))


def _quick_options(topic: str, department: str) -> list[str]:
    if topic == "accompanying":
        examples = _ACCOMPANYING_EXAMPLES.get(department, _DEFAULT_EXAMPLES)
        return ["没有其他不适", *examples]
    return list(_QUICK_OPTIONS[topic])
