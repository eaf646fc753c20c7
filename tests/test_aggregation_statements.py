"""One aggregation runs the same statements whatever the number of messages or sessions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session as DatabaseSession

from medrecord import DepartmentRegistry, aggregate
from tests.factories import DEFAULT_STARTED_AT, aggregate_session, make_session

EXPECTED_STATEMENTS = {
    # BEGIN IMMEDIATE, then the same five statements as on PostgreSQL.
    "sqlite": ["BEGIN", "SELECT", "SELECT", "INSERT", "SELECT", "UPDATE"],
    # The session, the message window, the event insert, the locked event read, the update.
    "postgresql": ["SELECT", "SELECT", "INSERT", "SELECT", "UPDATE"],
}

SMALL_USER_ID = 4001
LARGE_USER_ID = 4002


@contextmanager
def recorded_statements(engine: Engine) -> Iterator[list[str]]:
    """Collect the SQL text of every statement the engine sends while the block runs."""
    statements: list[str] = []

    def record(
        connection: Any,
        cursor: Any,
        statement: str,
        parameters: Any,
        context: Any,
        executemany: bool,
    ) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def statements_of_aggregation(
    db: DatabaseSession, engine: Engine, registry: DepartmentRegistry, user_id: int, session_id: str
) -> list[str]:
    """Aggregate a committed session in a transaction of its own and return its statements."""
    db.commit()

    with recorded_statements(engine) as statements:
        aggregate(session=db, registry=registry, user_id=user_id, session_id=session_id)
    db.commit()

    return statements


def verbs(statements: list[str]) -> list[str]:
    """Return the first keyword of each statement."""
    return [statement.split(maxsplit=1)[0].upper() for statement in statements]


def test_statements_same_for_message_counts(
    db: DatabaseSession, engine: Engine, registry: DepartmentRegistry, backend: str
) -> None:
    short = make_session(db, user_id=SMALL_USER_ID, message_count=10)
    long = make_session(db, user_id=LARGE_USER_ID, message_count=1_000, image_positions={0, 999})
    short_id, long_id = short.id, long.id

    short_statements = statements_of_aggregation(db, engine, registry, SMALL_USER_ID, short_id)
    long_statements = statements_of_aggregation(db, engine, registry, LARGE_USER_ID, long_id)

    assert verbs(short_statements) == EXPECTED_STATEMENTS[backend]
    assert verbs(long_statements) == EXPECTED_STATEMENTS[backend]
    assert long_statements == short_statements


def test_statements_same_for_event_sizes(
    db: DatabaseSession, engine: Engine, registry: DepartmentRegistry, backend: str
) -> None:
    latest = {}
    for user_id, existing_sessions in ((SMALL_USER_ID, 1), (LARGE_USER_ID, 50)):
        for index in range(existing_sessions):
            earlier = make_session(
                db, user_id=user_id, started_at=DEFAULT_STARTED_AT + dt.timedelta(minutes=index)
            )
            aggregate_session(db, registry, earlier)
        latest[user_id] = make_session(
            db, user_id=user_id, started_at=DEFAULT_STARTED_AT + dt.timedelta(hours=2)
        ).id

    one_session_statements = statements_of_aggregation(
        db, engine, registry, SMALL_USER_ID, latest[SMALL_USER_ID]
    )
    fifty_session_statements = statements_of_aggregation(
        db, engine, registry, LARGE_USER_ID, latest[LARGE_USER_ID]
    )

    assert verbs(one_session_statements) == EXPECTED_STATEMENTS[backend]
    assert verbs(fifty_session_statements) == EXPECTED_STATEMENTS[backend]
    assert fifty_session_statements == one_session_statements


def test_reaggregation_runs_same_statements(
    db: DatabaseSession, engine: Engine, registry: DepartmentRegistry, backend: str
) -> None:
    chat_session = make_session(db, message_count=12)
    session_id, user_id = chat_session.id, chat_session.user_id

    first = statements_of_aggregation(db, engine, registry, user_id, session_id)
    second = statements_of_aggregation(db, engine, registry, user_id, session_id)

    assert verbs(first) == EXPECTED_STATEMENTS[backend]
    assert second == first
