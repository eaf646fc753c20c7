"""Aggregating one chat session into the medical event of its user, department and day."""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select
from sqlalchemy.orm import Session as DatabaseSession

from medrecord.aggregation.derive import derive_event, merge_snapshot
from medrecord.aggregation.event_upsert import insert_event_if_missing, lock_event, write_event
from medrecord.aggregation.message_window import read_message_window
from medrecord.aggregation.result import AggregationResult, SessionSummary
from medrecord.aggregation.snapshot import build_snapshot, split_message_cap
from medrecord.clock import (
    DEFAULT_TIME_ZONE,
    Clock,
    ensure_utc,
    local_day,
    resolve_time_zone,
    utc_now,
)
from medrecord.departments.department import Department
from medrecord.departments.registry import DepartmentRegistry
from medrecord.errors import DepartmentConflictError, NoUserMessageError, SessionNotFoundError
from medrecord.models.chat_session import ChatSession
from medrecord.models.medical_event import EventStatus
from medrecord.state import read_agent_state

__all__ = ["DEFAULT_MESSAGE_CAP", "aggregate"]

logger = logging.getLogger(__name__)

DEFAULT_MESSAGE_CAP = 100
"""How many messages a snapshot keeps at most: the first half and the last half."""


def aggregate(
    *,
    session: DatabaseSession,
    registry: DepartmentRegistry,
    user_id: int,
    session_id: str,
    department_hint: str | None = None,
    clock: Clock = utc_now,
    time_zone: str | dt.tzinfo = DEFAULT_TIME_ZONE,
    message_cap: int = DEFAULT_MESSAGE_CAP,
) -> AggregationResult:
    """Aggregate a chat session into its medical event, built from real session data only.

    The event is the active one of the user, the session's department and the local
    calendar day (in ``time_zone``) of the session's ``created_at``. It is created when
    missing. The session's snapshot replaces any earlier snapshot of the same session, and
    every event field is derived again from all snapshots. The statements run are the same
    five whatever the number of messages or sessions, and the caller owns the transaction:
    nothing is committed here.

    Raises :class:`SessionNotFoundError` when the session is missing or owned by another
    user, :class:`UnknownDepartmentError` for an unregistered department or hint,
    :class:`DepartmentConflictError` when the hint names another department, and
    :class:`NoUserMessageError` when the session has no user message, and
    :class:`ConfigurationError` (:class:`InvalidTimeZoneError` for the zone) for an invalid
    ``time_zone`` or ``message_cap``; in each case nothing is written.
    """
    zone = resolve_time_zone(time_zone)
    head, tail = split_message_cap(message_cap)

    chat_session = _load_session(session, user_id=user_id, session_id=session_id)
    department = _resolve_department(registry, chat_session, department_hint)
    reading = read_agent_state(
        chat_session.agent_state, department.state_schema, session_id=session_id
    )

    window = read_message_window(session, session_id, head=head, tail=tail)
    if window.user_total == 0:
        raise NoUserMessageError(session_id)

    now = ensure_utc(clock())
    event_date = local_day(chat_session.created_at, zone)
    snapshot = build_snapshot(chat_session, department, reading, window, aggregated_at=now)

    created = insert_event_if_missing(
        session, _new_event_values(user_id, department, event_date, chat_session.created_at, now)
    )
    event_id, snapshots, analysis = lock_event(
        session, user_id=user_id, agent_type=department.event_agent_type, event_date=event_date
    )
    derived = derive_event(merge_snapshot(snapshots, snapshot))
    write_event(session, event_id, derived, analysis=analysis, updated_at=now)

    logger.info(
        "aggregated session %s of user %s into event %s (new=%s, sessions=%d, messages=%d)",
        session_id,
        user_id,
        event_id,
        created,
        derived.session_count,
        window.total,
    )
    return AggregationResult(
        event_id=event_id,
        is_new_event=created,
        department=department.code,
        event_date=event_date,
        session_summary=SessionSummary(
            chief_complaint=snapshot["chief_complaint"],
            symptoms=list(snapshot["symptoms"]),
            risk_level=snapshot["risk_level"],
            message_count=window.total,
            has_images=snapshot["has_images"],
        ),
        state_problems=list(reading.problems),
    )


def _load_session(database: DatabaseSession, *, user_id: int, session_id: str) -> ChatSession:
    statement = (
        select(ChatSession)
        .where(ChatSession.id == session_id, ChatSession.user_id == user_id)
        .execution_options(populate_existing=True)
    )
    chat_session = database.execute(statement).scalar_one_or_none()
    if chat_session is None:
        raise SessionNotFoundError(session_id, user_id)
    return chat_session


def _resolve_department(
    registry: DepartmentRegistry, chat_session: ChatSession, hint: str | None
) -> Department:
    department = registry.resolve(chat_session.agent_type)
    if hint is None or not hint.strip():
        return department

    hinted = registry.resolve(hint)
    if hinted.code != department.code:
        raise DepartmentConflictError(department.code, hint, hinted.code)
    return department


def _new_event_values(
    user_id: int,
    department: Department,
    event_date: dt.date,
    session_created_at: dt.datetime,
    now: dt.datetime,
) -> dict[str, object]:
    display_name = department.display_name("zh-CN")
    return {
        "user_id": user_id,
        "title": f"{display_name} {event_date.isoformat()}",
        "department": display_name,
        "agent_type": department.event_agent_type,
        "status": EventStatus.ACTIVE.value,
        "sessions": [],
        "session_count": 0,
        "attachment_count": 0,
        "ai_analysis": {},
        "start_time": session_created_at,
        "created_at": now,
        "updated_at": now,
        "event_date": event_date,
    }
