"""Database reads of medical events: a user's events page by page, and their JSON form."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session as DatabaseSession

from medrecord.models import MedicalEvent
from medrecord_api.pagination import EventKey

__all__ = ["event_fields", "page_events"]


def page_events(
    db: DatabaseSession, *, user_id: int, limit: int, before: EventKey | None
) -> tuple[list[MedicalEvent], bool]:
    """Return up to ``limit`` events of a user after a key, and whether more follow.

    The order is that of ``medrecord.events.list_events``: newest day first, then newest
    id first, and events without a day last.
    """
    statement = select(MedicalEvent).where(MedicalEvent.user_id == user_id)
    if before is not None:
        day, event_id = before
        if day is None:
            statement = statement.where(
                MedicalEvent.event_date.is_(None), MedicalEvent.id < event_id
            )
        else:
            statement = statement.where(
                or_(
                    MedicalEvent.event_date < day,
                    and_(MedicalEvent.event_date == day, MedicalEvent.id < event_id),
                    MedicalEvent.event_date.is_(None),
                )
            )
    statement = statement.order_by(
        MedicalEvent.event_date.desc().nulls_last(), MedicalEvent.id.desc()
    ).limit(limit + 1)
    rows = list(db.scalars(statement))
    return rows[:limit], len(rows) > limit


def event_fields(event: MedicalEvent) -> dict[str, Any]:
    """Return the listing fields of an event; ``risk_level`` is None when not assessed."""
    return {
        "event_id": event.id,
        "title": event.title,
        "department": event.department,
        "agent_type": event.agent_type,
        "status": event.status,
        "event_date": event.event_date,
        "chief_complaint": event.chief_complaint,
        "risk_level": event.risk_level,
        "session_count": event.session_count,
        "attachment_count": event.attachment_count,
        "start_time": event.start_time,
        "end_time": event.end_time,
        "created_at": event.created_at,
        "updated_at": event.updated_at,
    }
