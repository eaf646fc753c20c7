"""Finding or creating the active event of a user, department and day, safely under concurrency."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from sqlalchemy import Table, literal_column, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session as DatabaseSession

from medrecord.aggregation.derive import DerivedEvent
from medrecord.models.medical_event import EventStatus, MedicalEvent

__all__ = ["insert_event_if_missing", "lock_event", "write_event"]

_ACTIVE_DAY_COLUMNS = ["user_id", "agent_type", "event_date"]

_EVENTS = cast(Table, MedicalEvent.__table__)


def insert_event_if_missing(database: DatabaseSession, values: dict[str, Any]) -> bool:
    """Insert an empty active event unless one exists for its user, department and day.

    The insert relies on the partial unique index on (user_id, agent_type, event_date)
    where status is active: of two concurrent inserts, the second waits for the first
    transaction and then does nothing. Returns whether this call created the event.
    """
    dialect = database.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = _EVENTS
    statement = (
        insert(table)
        .values(**values)
        .on_conflict_do_nothing(
            index_elements=_ACTIVE_DAY_COLUMNS,
            # The status goes into the SQL as a literal. psycopg prepares a statement after
            # 5 runs on one connection, and PostgreSQL switches it to a generic plan 5 runs
            # later. A generic plan cannot match a bind parameter to the partial index's
            # predicate, so from the 11th insert on a connection PostgreSQL 15 raised "no
            # unique or exclusion constraint matching the ON CONFLICT specification".
            index_where=table.c.status == literal_column(f"'{EventStatus.ACTIVE.value}'"),
        )
        .returning(table.c.id)
    )
    return database.execute(statement).first() is not None


def lock_event(
    database: DatabaseSession, *, user_id: int, agent_type: str, event_date: dt.date
) -> tuple[int, list[Any], dict[str, Any]]:
    """Read the active event's id, snapshots and analysis, and lock its row.

    The lock lasts until the transaction ends.

    On PostgreSQL the row is locked with ``FOR UPDATE``. SQLite has no row locks: the
    library's engines begin every transaction with ``BEGIN IMMEDIATE``, which already holds
    the database's write lock.
    """
    table = _EVENTS
    statement = (
        select(table.c.id, table.c.sessions, table.c.ai_analysis)
        .where(
            table.c.user_id == user_id,
            table.c.agent_type == agent_type,
            table.c.event_date == event_date,
            table.c.status == EventStatus.ACTIVE.value,
        )
        .with_for_update()
    )
    row = database.execute(statement).one()
    analysis = row.ai_analysis if isinstance(row.ai_analysis, dict) else {}
    return row.id, list(row.sessions or []), dict(analysis)


def write_event(
    database: DatabaseSession,
    event_id: int,
    derived: DerivedEvent,
    *,
    analysis: dict[str, Any],
    updated_at: dt.datetime,
) -> None:
    """Write the derived fields of an event in one UPDATE.

    ``analysis`` is the event's stored ``ai_analysis``: the derived keys replace theirs and
    keys written by others are kept.
    The snapshot list is always a new object written by the statement itself, so no
    in-place change can go undetected. An instance of the event already loaded in the
    database session is expired, so it reloads the new values.
    """
    table = _EVENTS
    statement = (
        update(table)
        .where(table.c.id == event_id)
        .values(
            sessions=derived.sessions,
            session_count=derived.session_count,
            chief_complaint=derived.chief_complaint,
            risk_level=derived.risk_level,
            attachment_count=derived.attachment_count,
            start_time=derived.start_time,
            end_time=derived.end_time,
            ai_analysis={**analysis, **derived.analysis},
            updated_at=updated_at,
        )
    )
    database.execute(statement)

    loaded = database.identity_map.get(database.identity_key(MedicalEvent, event_id))
    if loaded is not None:
        database.expire(loaded)
