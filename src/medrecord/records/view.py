"""The view of a medical event that record templates read."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from medrecord.departments.department import Department
from medrecord.models.medical_event import MedicalEvent
from medrecord.state import (
    AgentState,
    DiagnosisCandidate,
    Recommendations,
    SymptomDetail,
    read_agent_state,
)

__all__ = [
    "MessageView",
    "RecordView",
    "SessionView",
    "SymptomDetailView",
    "build_record_view",
]


@dataclass(frozen=True)
class MessageView:
    """One message of a snapshot, with its local time."""

    role: str
    content: str
    time: str
    message_type: str
    attachment_count: int
    position: int | None


@dataclass(frozen=True)
class SymptomDetailView:
    """The details one session gave of one symptom; ``session_number`` counts from 1."""

    name: str
    detail: SymptomDetail
    session_number: int


@dataclass(frozen=True)
class SessionView:
    """One session of the event: its validated state and the messages its snapshot kept."""

    id: str
    started_at: str
    chief_complaint: str | None
    symptoms: list[str]
    denied_symptoms: list[str]
    uncertain_symptoms: list[str]
    risk_level: str | None
    state: AgentState
    state_problem_count: int
    messages: list[MessageView]
    message_count: int
    omitted_message_count: int
    attachment_count: int


@dataclass(frozen=True)
class RecordView:
    """Everything a record shows. None and empty lists mean the sessions lack the value."""

    event_id: int
    title: str
    """The department's name in the record's locale and the event day."""
    department: Department
    department_name: str
    event_date: str
    start_time: str | None
    end_time: str | None
    chief_complaint: str | None
    risk_level: str | None
    symptoms: list[str]
    denied_symptoms: list[str]
    uncertain_symptoms: list[str]
    symptom_details: list[SymptomDetailView]
    past_history: list[str]
    candidates: list[DiagnosisCandidate]
    recommendations: list[Recommendations]
    session_count: int
    message_count: int
    attachment_count: int
    sessions: list[SessionView] = field(default_factory=list)


def build_record_view(
    event: MedicalEvent, department: Department, *, locale: str, zone: dt.tzinfo
) -> RecordView:
    """Build the view of an event from its stored snapshots."""
    snapshots = [item for item in (event.sessions or []) if isinstance(item, dict)]
    event_date = (
        event.event_date.isoformat() if event.event_date else _local_date(event.start_time, zone)
    )
    sessions = [_session_view(snapshot, department, zone) for snapshot in snapshots]
    analysis = event.ai_analysis if isinstance(event.ai_analysis, dict) else {}

    return RecordView(
        event_id=event.id,
        title=f"{department.display_name(locale)} {event_date}",
        department=department,
        department_name=department.display_name(locale),
        event_date=event_date,
        start_time=_local_time(event.start_time, zone),
        end_time=_local_time(event.end_time, zone),
        chief_complaint=event.chief_complaint,
        risk_level=event.risk_level,
        symptoms=_string_list(analysis.get("symptoms")),
        denied_symptoms=_string_list(analysis.get("denied_symptoms")),
        uncertain_symptoms=_string_list(analysis.get("uncertain_symptoms")),
        symptom_details=_symptom_details(sessions),
        past_history=_unique(s.state.past_history for s in sessions if s.state.past_history),
        candidates=_candidates(sessions),
        recommendations=[s.state.recommendations for s in sessions if s.state.recommendations],
        session_count=event.session_count,
        message_count=sum(session.message_count for session in sessions),
        attachment_count=event.attachment_count,
        sessions=sessions,
    )


def _session_view(
    snapshot: Mapping[str, Any], department: Department, zone: dt.tzinfo
) -> SessionView:
    reading = read_agent_state(snapshot.get("state") or {}, department.state_schema)
    messages = [
        _message_view(message, zone)
        for message in snapshot.get("messages") or []
        if isinstance(message, dict)
    ]

    return SessionView(
        id=str(snapshot.get("session_id")),
        started_at=_local_time(_parse_time(snapshot.get("timestamp")), zone) or "",
        chief_complaint=snapshot.get("chief_complaint"),
        symptoms=_string_list(snapshot.get("symptoms")),
        denied_symptoms=_string_list(snapshot.get("denied_symptoms")),
        uncertain_symptoms=_string_list(snapshot.get("uncertain_symptoms")),
        risk_level=snapshot.get("risk_level"),
        state=reading.state,
        state_problem_count=len(snapshot.get("state_problems") or []),
        messages=messages,
        message_count=int(snapshot.get("message_count") or 0),
        omitted_message_count=int(snapshot.get("omitted_message_count") or 0),
        attachment_count=int(snapshot.get("attachment_count") or 0),
    )


def _message_view(message: Mapping[str, Any], zone: dt.tzinfo) -> MessageView:
    attachments = message.get("attachments")
    message_type = str(message.get("type") or "text")
    if isinstance(attachments, list) and attachments:
        attachment_count = len(attachments)
    else:
        attachment_count = 1 if message_type == "image" else 0

    return MessageView(
        role=str(message.get("role")),
        content=str(message.get("content") or ""),
        time=_local_time(_parse_time(message.get("timestamp")), zone) or "",
        message_type=message_type,
        attachment_count=attachment_count,
        position=message.get("position"),
    )


def _symptom_details(sessions: list[SessionView]) -> list[SymptomDetailView]:
    """List the symptom details of every session, in session order.

    Each session keeps its own details, so a later session that describes a symptom again
    is shown beside the earlier one, not dropped. Within a session, details follow the
    ``symptoms`` list and then the sorted names, so the record reads the same on every
    backend (JSONB does not keep key order).
    """
    views: list[SymptomDetailView] = []
    for number, session in enumerate(sessions, start=1):
        stored = session.state.symptom_details
        ordered = [name for name in session.state.symptoms if name in stored]
        ordered += sorted(name for name in stored if name not in ordered)
        views.extend(SymptomDetailView(name, stored[name], number) for name in ordered)
    return views


def _candidates(sessions: list[SessionView]) -> list[DiagnosisCandidate]:
    """Collect the diagnosis candidates of every state field that contains them."""
    found: dict[str, DiagnosisCandidate] = {}
    for session in sessions:
        for name in type(session.state).model_fields:
            value = getattr(session.state, name)
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, DiagnosisCandidate):
                        found.setdefault(item.name, item)
    return list(found.values())


def _string_list(value: Any) -> list[str]:
    return [str(item) for item in value] if isinstance(value, list) else []


def _unique(values: Any) -> list[str]:
    return list(dict.fromkeys(values))


def _parse_time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        return None


def _local_time(value: dt.datetime | None, zone: dt.tzinfo) -> str | None:
    if value is None:
        return None
    aware = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
    return aware.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _local_date(value: dt.datetime | None, zone: dt.tzinfo) -> str:
    local = _local_time(value, zone)
    return local[:10] if local else ""
