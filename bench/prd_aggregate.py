"""The PRD's ``aggregate_session`` endpoint, ported onto medrecord's models as a benchmark baseline.

This is the aggregation code of the product team's requirements document (PRD: API design, the
"aggregate session into medical event" endpoint), kept faithful on purpose, defects
included: it is what ``medrecord.aggregate`` replaces, and ``aggregate_bench.py`` measures
both on the same tables. Do not fix it, and do not import it from the library or the tests.

Defects this baseline keeps:

- It loads every message of the session as an ORM object, then keeps only
  ``messages[:50]`` in the snapshot, so the end of a long chat is dropped.
- After ``commit`` every loaded object is expired (``expire_on_commit`` is on by default),
  so computing ``has_images`` for the response runs one SELECT per message until the first
  image message: N+1 statements for a chat without images.
- "Today" is the UTC day, and the event lookup is ``start_time >=`` UTC midnight, which
  splits the evening of UTC+8 users.
- Find-then-create without a constraint or lock: concurrent requests create duplicate
  events. ``event_date`` is left NULL, so medrecord's partial unique index does not apply.
- ``risk_level`` defaults to "low", the chief complaint to "", and the summary to a
  generic "<department>问诊 - " text: fabricated values. An unknown ``agent_type`` silently
  becomes 全科 / general.
- ``RiskLevel(risk_level)`` raises ``ValueError`` on any other spelling ("中", "MEDIUM").
- The new snapshot is appended to the JSON list read from the row and the same object is
  assigned back. On a plain JSON column SQLAlchemy does not see that change and the
  session is lost. NOTE: medrecord's ``MedicalEvent.sessions`` is a ``MutableList``, which
  tracks the append, so on these models the snapshot is kept.
- No upsert: aggregating a session again keeps its stale snapshot, and risk level,
  attachment count and end time of an existing event are never updated.
- A session without any user message is aggregated anyway.

Only what medrecord's models require was adapted. ``ChatSession`` replaces the PRD's
``Session`` class, and string columns replace the PRD's enums (sender, agent type, status,
risk level). Datetimes are aware UTC in place of naive, for the same UTC day and midnight.
medrecord's ``SessionNotFoundError`` replaces the HTTP 404, arguments replace the request
and the current user, and a dict replaces the response model.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy.orm import Session as DatabaseSession

from medrecord import (
    ChatSession,
    EventStatus,
    MedicalEvent,
    Message,
    RiskLevel,
    SessionNotFoundError,
)

__all__ = ["aggregate_session", "get_agent_type", "get_department_name"]

logger = logging.getLogger(__name__)

# The PRD's AgentType enum values, stored in medical_events.agent_type.
_AGENT_TYPES = {
    "dermatology": "derma",
    "cardiology": "cardio",
    "orthopedics": "ortho",
    "general": "general",
    "neurology": "neuro",
    "endocrinology": "endo",
    "gastroenterology": "gastro",
    "respiratory": "respiratory",
}

_DEPARTMENT_NAMES = {
    "dermatology": "皮肤科",
    "cardiology": "心血管科",
    "orthopedics": "骨科",
    "general": "全科",
    "neurology": "神经科",
    "endocrinology": "内分泌科",
    "gastroenterology": "消化科",
    "respiratory": "呼吸科",
}


def get_department_name(agent_type: str) -> str:
    """Return the Chinese department name, falling back to 全科 as the PRD does."""
    return _DEPARTMENT_NAMES.get(agent_type, "全科")


def get_agent_type(agent_type: str) -> str:
    """Return the PRD's short event agent type, falling back to "general" as the PRD does."""
    return _AGENT_TYPES.get(agent_type, "general")


def aggregate_session(
    *, db: DatabaseSession, user_id: int, session_id: str, session_type: str | None = None
) -> dict[str, Any]:
    """Aggregate a session into the user's event of the UTC day, as the PRD's endpoint does.

    ``session_type`` is accepted and ignored, like the request field of the same name.
    Commits, and returns the PRD's response body.
    """
    # 1. The session, by id and owner.
    session = (
        db.query(ChatSession)
        .filter(
            ChatSession.id == session_id,
            ChatSession.user_id == user_id,
        )
        .first()
    )

    if not session:
        raise SessionNotFoundError(session_id, user_id)

    # 2. Every message of the session.
    messages = (
        db.query(Message)
        .filter(Message.session_id == session_id)
        .order_by(Message.created_at)
        .all()
    )

    # 3. Values from agent_state, with the PRD's defaults.
    state = session.agent_state or {}
    chief_complaint = state.get("chief_complaint", "")
    symptoms = state.get("symptoms", [])
    risk_level = state.get("risk_level", "low")
    stage = state.get("stage", "completed")

    # 4. The session snapshot.
    session_data = {
        "session_id": session.id,
        "session_type": session.agent_type,
        "timestamp": session.created_at.isoformat(),
        "summary": f"{get_department_name(session.agent_type)}问诊 - {chief_complaint}",
        "chief_complaint": chief_complaint,
        "symptoms": symptoms,
        "risk_level": risk_level,
        "stage": stage,
        "message_count": len(messages),
        "messages": [
            {
                "role": msg.sender,
                "content": msg.content,
                "timestamp": msg.created_at.isoformat(),
                "type": msg.message_type,
            }
            for msg in messages[:50]
        ],
        "skin_analyses": state.get("skin_analyses", []),
        "ecg_interpretations": state.get("ecg_interpretations", []),
        "possible_diseases": state.get("possible_diseases", []),
        "recommendations": state.get("recommendations", {}),
    }

    # 5. Find or create the event of the UTC day.
    department = get_department_name(session.agent_type)
    agent_type = get_agent_type(session.agent_type)

    today = dt.datetime.now(dt.UTC).date()
    existing_event = (
        db.query(MedicalEvent)
        .filter(
            MedicalEvent.user_id == user_id,
            MedicalEvent.agent_type == agent_type,
            MedicalEvent.status == EventStatus.ACTIVE.value,
            MedicalEvent.start_time >= dt.datetime.combine(today, dt.time.min, tzinfo=dt.UTC),
        )
        .first()
    )

    is_new_event = False

    if existing_event:
        sessions_list = existing_event.sessions or []
        if not any(s.get("session_id") == session_id for s in sessions_list):
            sessions_list.append(session_data)
            existing_event.sessions = sessions_list
            existing_event.session_count = len(sessions_list)
            if chief_complaint and not existing_event.chief_complaint:
                existing_event.chief_complaint = chief_complaint
        event = existing_event
    else:
        event = MedicalEvent(
            user_id=user_id,
            title=f"{department} {today.strftime('%Y-%m-%d')}",
            department=department,
            agent_type=agent_type,
            chief_complaint=chief_complaint,
            risk_level=RiskLevel(risk_level).value,
            status=EventStatus.ACTIVE.value,
            sessions=[session_data],
            session_count=1,
        )
        db.add(event)
        is_new_event = True

    db.commit()
    db.refresh(event)

    logger.info("aggregated session %s into event %s", session_id, event.id)

    return {
        "event_id": str(event.id),
        "message": "会话已聚合到病历事件",
        "is_new_event": is_new_event,
        "session_summary": {
            "chief_complaint": chief_complaint,
            "symptoms": symptoms,
            "risk_level": risk_level,
            "message_count": len(messages),
            "has_images": any(msg.message_type == "image" for msg in messages),
        },
    }
