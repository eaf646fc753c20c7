"""No log line of the library carries health data: message text, complaints or symptoms."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlalchemy.orm import Session as DatabaseSession

from medrecord import MedicalEvent
from medrecord.records import render_record
from tests.factories import aggregate_session, make_session

COMPLAINT = "左手背红疹三天伴剧烈瘙痒"
SYMPTOMS = ["红疹", "剧烈瘙痒", "脱屑"]
INVALID_RISK = "说不好的风险"


def test_aggregation_and_rendering_log_no_health_data(
    db: DatabaseSession, registry: Any, caplog: pytest.LogCaptureFixture
) -> None:
    state = {
        "chief_complaint": COMPLAINT,
        "symptoms": SYMPTOMS,
        "symptom_details": {"发热": {"status": "absent"}},
        "risk_level": INVALID_RISK,
    }
    chat_session = make_session(db, agent_state=state, message_count=6, image_positions=[2])

    with caplog.at_level(logging.DEBUG, logger="medrecord"):
        result = aggregate_session(db, registry, chat_session)
        db.commit()
        event = db.get(MedicalEvent, result.event_id)
        assert event is not None
        for output_format in ("markdown", "html"):
            render_record(event, registry=registry, format=output_format)

    library_lines = [
        record.getMessage() for record in caplog.records if record.name.startswith("medrecord")
    ]
    assert any(chat_session.id in line for line in library_lines)
    assert any("invalid value" in line for line in library_lines)
    logged = "\n".join(library_lines)
    for health_text in [COMPLAINT, *SYMPTOMS, "发热", INVALID_RISK, "user message 0"]:
        assert health_text not in logged
