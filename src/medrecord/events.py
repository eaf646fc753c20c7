"""Reading medical events: the list of a user's events and one event by id."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session as DatabaseSession

from medrecord.errors import EventNotFoundError
from medrecord.models.medical_event import MedicalEvent

__all__ = ["get_event", "list_events"]


def list_events(*, session: DatabaseSession, user_id: int | None = None) -> list[MedicalEvent]:
    """Return the medical events of a user, or of every user, newest day first.

    Events of one day are ordered by id, newest first. Events without a day (written
    before the ``event_date`` column existed) come last.
    """
    statement = select(MedicalEvent).order_by(
        MedicalEvent.event_date.desc().nulls_last(), MedicalEvent.id.desc()
    )
    if user_id is not None:
        statement = statement.where(MedicalEvent.user_id == user_id)
    return list(session.scalars(statement))


def get_event(
    *, session: DatabaseSession, event_id: int, user_id: int | None = None
) -> MedicalEvent:
    """Return a medical event by id, checking its owner when ``user_id`` is given.

    Raises :class:`EventNotFoundError` when the event is missing or belongs to another
    user. Both cases raise the same error, so no caller learns that the event exists.
    """
    statement = select(MedicalEvent).where(MedicalEvent.id == event_id)
    if user_id is not None:
        statement = statement.where(MedicalEvent.user_id == user_id)

    event = session.scalars(statement).one_or_none()
    if event is None:
        raise EventNotFoundError(event_id, user_id)
    return event
