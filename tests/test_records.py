"""Records: escaping, absent data, locales, department sections and template errors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import medrecord_departments.dermatology
import pytest
from sqlalchemy.orm import Session as DatabaseSession

from medrecord import (
    ConfigurationError,
    Department,
    MedicalEvent,
    RecordRenderError,
    hookimpl,
    load_departments,
)
from medrecord.records import render_record
from tests.departments import SleepClinicPlugin
from tests.factories import aggregate_session, make_session

SCRIPT = "<script>alert('x')</script>"

DERMATOLOGY_STATE = {
    "chief_complaint": "左手背红疹三天",
    "symptoms": ["红疹", "瘙痒"],
    "symptom_details": {
        "发热": {"status": "absent"},
        "瘙痒": {"duration": "3天", "severity": "中度"},
    },
    "risk_level": "MEDIUM",
    "skin_location": "左手背",
    "skin_analyses": [
        {"image_url": "https://example.invalid/a.jpg", "conditions": ["湿疹"], "confidence": 0.8}
    ],
    "possible_conditions": [{"name": "湿疹", "probability": 0.7}],
    "recommendations": {"lifestyle": ["避免搔抓"]},
}


def aggregated_event(db: DatabaseSession, registry: Any, **session_options: Any) -> MedicalEvent:
    chat_session = make_session(db, **session_options)
    result = aggregate_session(db, registry, chat_session)
    db.commit()
    event = db.get(MedicalEvent, result.event_id)
    assert event is not None
    return event


@pytest.mark.parametrize("output_format", ["markdown", "html"])
@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_script_in_chat_is_escaped(
    db: DatabaseSession, registry: Any, output_format: str, locale: str
) -> None:
    event = aggregated_event(db, registry, agent_state={"chief_complaint": SCRIPT}, message_count=2)
    event.sessions[0]["messages"][0]["content"] = SCRIPT
    db.commit()

    record = render_record(event, registry=registry, format=output_format, locale=locale)

    assert "<script>" not in record
    assert "&lt;script&gt;" in record


def test_absent_data_renders_not_provided(db: DatabaseSession, registry: Any) -> None:
    event = aggregated_event(db, registry, agent_state={}, message_count=2)

    zh_record = render_record(event, registry=registry, locale="zh-CN")
    en_record = render_record(event, registry=registry, locale="en")

    assert "## 主诉\n\n未提供" in zh_record
    assert "风险评估：未评估" in zh_record
    assert "## 辅助检查\n\n未提供" in zh_record
    assert "## Chief complaint\n\nnot provided" in en_record
    assert "Risk assessment: not assessed" in en_record
    for invented in ("低", "low", "completed"):
        assert f"风险评估：{invented}" not in zh_record


def test_zh_record_has_outpatient_sections(db: DatabaseSession, registry: Any) -> None:
    event = aggregated_event(db, registry, agent_state=DERMATOLOGY_STATE, image_positions=[0])

    record = render_record(event, registry=registry, locale="zh-CN")

    headings = [line for line in record.splitlines() if line.startswith("## ")]
    assert headings == [
        "## 主诉",
        "## 现病史",
        "## 既往史",
        "## 辅助检查",
        "## 初步诊断 / 可能情况",
        "## 处理意见 / 建议",
        "## 对话记录",
    ]


def test_dermatology_sections_show_department_fields(db: DatabaseSession, registry: Any) -> None:
    event = aggregated_event(db, registry, agent_state=DERMATOLOGY_STATE, image_positions=[0])

    record = render_record(event, registry=registry, locale="zh-CN")

    assert "左手背红疹三天" in record
    assert "- 否认：发热" in record
    assert "- 皮损部位：左手背" in record
    assert "湿疹；置信度 80%" in record
    assert "风险评估：中" in record
    assert "患者：user message 0［附件 1 个］" in record


def test_record_marks_patient_and_ai_sources(db: DatabaseSession, registry: Any) -> None:
    event = aggregated_event(db, registry, agent_state=DERMATOLOGY_STATE)

    record = render_record(event, registry=registry, format="html", locale="zh-CN")

    assert "患者：user message 0" in record
    assert "AI 问诊助手：assistant message 1" in record
    assert "来源：AI 问诊助手推测" in record


def test_omitted_messages_are_announced(db: DatabaseSession, registry: Any) -> None:
    chat_session = make_session(db, message_count=12)
    result = aggregate_session(db, registry, chat_session, message_cap=4)
    db.commit()
    event = db.get(MedicalEvent, result.event_id)
    assert event is not None

    record = render_record(event, registry=registry, locale="zh-CN")

    assert "中间省略 8 条消息" in record
    assert "共 12 条消息" in record
    assert "user message 0" in record
    assert "assistant message 11" in record
    assert "user message 4" not in record


def test_department_without_templates_uses_base(db: DatabaseSession, registry: Any) -> None:
    event = aggregated_event(
        db, registry, agent_type="sleep", agent_state={"chief_complaint": "入睡困难"}
    )

    record = render_record(event, registry=registry, locale="en")

    assert record.startswith("# Sleep clinic 2024-03-01")
    assert "入睡困难" in record


def test_undefined_template_variable_fails(
    db: DatabaseSession, registry: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "typo_department_templates"
    (package / "templates" / "zh-CN").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "templates" / "zh-CN" / "record.md.j2").write_text("{{ record.chief_complant }}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    typo = Department(
        code="sleep",
        event_agent_type="sleep",
        display_names={"zh-CN": "睡眠门诊", "en": "Sleep clinic"},
        template_package="typo_department_templates",
    )

    @hookimpl
    def medrecord_department() -> Department:
        return typo

    typo_registry = load_departments(
        plugins=[("typo", SimpleNamespace(medrecord_department=medrecord_department))],
        entry_points=False,
    )
    event = aggregated_event(db, registry, agent_type="sleep")

    with pytest.raises(RecordRenderError) as raised:
        render_record(event, registry=typo_registry, locale="zh-CN")

    assert "chief_complant" in str(raised.value)


def test_record_context_hook_adds_variables(
    db: DatabaseSession, registry: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "context_department_templates"
    (package / "templates" / "en").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "templates" / "en" / "record.md.j2").write_text(
        "clinic hours: {{ extra.clinic_hours }}\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    department = Department(
        code="sleep",
        event_agent_type="sleep",
        display_names={"zh-CN": "睡眠门诊", "en": "Sleep clinic"},
        template_package="context_department_templates",
    )

    class ContextPlugin:
        @hookimpl
        def medrecord_department(self) -> Department:
            return department

        @hookimpl
        def medrecord_record_context(
            self, department: Department, event: MedicalEvent, locale: str
        ) -> dict[str, str]:
            return {"clinic_hours": f"{department.code}-{locale}-{event.session_count}"}

    context_registry = load_departments(plugins=[("context", ContextPlugin())], entry_points=False)
    event = aggregated_event(db, registry, agent_type="sleep")

    record = render_record(event, registry=context_registry, locale="en")

    assert record == "clinic hours: sleep-en-1\n"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"format": "pdf"}, "invalid record format 'pdf'"),
        ({"locale": "fr"}, "unsupported locale 'fr'"),
    ],
    ids=["format", "locale"],
)
def test_invalid_render_options_are_rejected(
    db: DatabaseSession, registry: Any, options: dict[str, str], message: str
) -> None:
    event = aggregated_event(db, registry)

    with pytest.raises(ConfigurationError, match=message):
        render_record(event, registry=registry, **options)  # type: ignore[arg-type]


def test_registry_fixture_is_limited_to_test_departments(registry: Any) -> None:
    assert registry.codes == ["dermatology", "sleep"]
    assert medrecord_departments.dermatology.DEPARTMENT in list(registry)
    assert isinstance(SleepClinicPlugin(), SleepClinicPlugin)


def test_later_session_details_are_kept(db: DatabaseSession, registry: Any) -> None:
    morning = make_session(
        db, agent_state={"symptoms": ["心悸"], "symptom_details": {"心悸": {"severity": "轻"}}}
    )
    evening = make_session(
        db,
        started_at=morning.created_at + dt.timedelta(hours=8),
        agent_state={
            "symptoms": ["心悸", "胸痛"],
            "symptom_details": {"心悸": {"severity": "加重"}, "胸痛": {"duration": "20分钟"}},
        },
    )
    aggregate_session(db, registry, morning)
    result = aggregate_session(db, registry, evening)
    db.commit()
    event = db.get(MedicalEvent, result.event_id)
    assert event is not None

    record = render_record(event, registry=registry, locale="zh-CN")

    assert "- 心悸（会话 1）：持续时间 未提供；程度 轻；部位 未提供" in record
    assert "- 心悸（会话 2）：持续时间 未提供；程度 加重；部位 未提供" in record
    assert "- 胸痛（会话 2）：持续时间 20分钟；程度 未提供；部位 未提供" in record
