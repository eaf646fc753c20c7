"""Concurrent aggregations: one event per user, department and day, and no lost session.

Every aggregation runs in its own thread with its own database session and commit. A
barrier releases the threads together, so their transactions overlap on PostgreSQL and
queue for the write lock on SQLite.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session as DatabaseSession

from medrecord import AggregationResult, DepartmentRegistry, MedicalEvent, aggregate, create_engine
from tests.factories import fixed_clock, make_session

THREAD_COUNT = 16
ROUNDS = 3
"""Each round aggregates on another local day, so one test run races several times."""

BARRIER_TIMEOUT_SECONDS = 30
RESULT_TIMEOUT_SECONDS = 120

USER_ID = 3003
FIRST_DAY_START = dt.datetime(2024, 5, 1, 1, 0, tzinfo=dt.UTC)
"""09:00 on 2024-05-01 in Asia/Shanghai."""


@pytest.fixture
def concurrent_engine(engine: Engine) -> Iterator[Engine]:
    """Second engine on the test database, with one pooled connection for each thread."""
    pooled = create_engine(engine.url, pool_size=THREAD_COUNT, max_overflow=0)

    # Connect every pooled connection up front, so connecting does not stagger the start.
    connections = [pooled.connect() for _ in range(THREAD_COUNT)]
    for connection in connections:
        connection.close()

    try:
        yield pooled
    finally:
        pooled.dispose()


def aggregate_together(
    engine: Engine, registry: DepartmentRegistry, jobs: Sequence[tuple[int, str]], now: dt.datetime
) -> list[AggregationResult]:
    """Aggregate every (user id, session id) job in its own thread, all released at once."""
    barrier = threading.Barrier(len(jobs))

    def run(user_id: int, session_id: str) -> AggregationResult:
        with DatabaseSession(engine) as database:
            barrier.wait(timeout=BARRIER_TIMEOUT_SECONDS)
            result = aggregate(
                session=database,
                registry=registry,
                user_id=user_id,
                session_id=session_id,
                clock=fixed_clock(now),
            )
            database.commit()
            return result

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        futures = [pool.submit(run, user_id, session_id) for user_id, session_id in jobs]
        return [future.result(timeout=RESULT_TIMEOUT_SECONDS) for future in futures]


def active_events(engine: Engine, user_id: int) -> list[MedicalEvent]:
    """Load a user's events in a fresh database session."""
    with DatabaseSession(engine, expire_on_commit=False) as fresh:
        events = list(fresh.scalars(select(MedicalEvent).where(MedicalEvent.user_id == user_id)))
        fresh.commit()
    return events


def test_concurrent_sessions_share_one_event(
    db: DatabaseSession, concurrent_engine: Engine, registry: DepartmentRegistry
) -> None:
    for round_number in range(ROUNDS):
        day_start = FIRST_DAY_START + dt.timedelta(days=round_number)
        session_ids = []
        for index in range(THREAD_COUNT):
            chat_session = make_session(
                db,
                user_id=USER_ID,
                agent_state={"chief_complaint": f"complaint {index}", "risk_level": "low"},
                started_at=day_start + dt.timedelta(minutes=index),
                message_count=2 + index % 3,
                image_positions={0},
            )
            session_ids.append(chat_session.id)
        db.commit()

        results = aggregate_together(
            concurrent_engine,
            registry,
            [(USER_ID, session_id) for session_id in session_ids],
            now=day_start + dt.timedelta(hours=1),
        )

        events = [
            event
            for event in active_events(concurrent_engine, USER_ID)
            if event.event_date == day_start.date()
        ]
        assert len(events) == 1, f"round {round_number}: {len(events)} events for one day"
        stored_event = events[0]
        snapshot_ids = sorted(snapshot["session_id"] for snapshot in stored_event.sessions or [])
        assert snapshot_ids == sorted(session_ids), f"round {round_number}: sessions lost"
        assert stored_event.session_count == THREAD_COUNT
        assert stored_event.attachment_count == THREAD_COUNT
        assert stored_event.chief_complaint == "complaint 0"
        assert stored_event.ai_analysis is not None
        assert stored_event.ai_analysis["message_count"] == sum(
            2 + index % 3 for index in range(THREAD_COUNT)
        )
        assert {result.event_id for result in results} == {stored_event.id}
        assert sum(result.is_new_event for result in results) == 1


def test_concurrent_reaggregation_keeps_one_snapshot(
    db: DatabaseSession, concurrent_engine: Engine, registry: DepartmentRegistry
) -> None:
    for round_number in range(ROUNDS):
        day_start = FIRST_DAY_START + dt.timedelta(days=round_number)
        chat_session = make_session(
            db, user_id=USER_ID, started_at=day_start, agent_state={"chief_complaint": "耳后脱屑"}
        )
        session_id = chat_session.id
        db.commit()

        results = aggregate_together(
            concurrent_engine,
            registry,
            [(USER_ID, session_id), (USER_ID, session_id)],
            now=day_start + dt.timedelta(hours=1),
        )

        events = [
            event
            for event in active_events(concurrent_engine, USER_ID)
            if event.event_date == day_start.date()
        ]
        assert len(events) == 1, f"round {round_number}: {len(events)} events for one session"
        assert [snapshot["session_id"] for snapshot in events[0].sessions or []] == [session_id]
        assert events[0].session_count == 1
        assert sorted(result.is_new_event for result in results) == [False, True]
