"""JSON column changes survive the commit: every check reloads in a fresh session or connection."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session as DatabaseSession

from medrecord import DepartmentRegistry, MedicalEvent
from tests.factories import DEFAULT_STARTED_AT, add_message, aggregate_session, make_session


def reload_event(engine: Engine, event_id: int) -> MedicalEvent:
    """Load an event in a new database session, detached so it stays readable after closing."""
    with DatabaseSession(engine, expire_on_commit=False) as fresh:
        loaded = fresh.get(MedicalEvent, event_id)
        assert loaded is not None, f"event {event_id} is missing in a fresh session"
        fresh.commit()
    return loaded


def read_event_columns(engine: Engine, event_id: int) -> dict[str, Any]:
    """Read the JSON columns of an event on a plain connection, without the ORM."""
    table = MedicalEvent.__table__
    with engine.connect() as connection:
        row = connection.execute(
            select(table.c.sessions, table.c.ai_analysis, table.c.session_count).where(
                table.c.id == event_id
            )
        ).one()
        connection.rollback()
    return dict(row._mapping)


def test_snapshot_list_grows_across_commits(
    db: DatabaseSession, engine: Engine, registry: DepartmentRegistry
) -> None:
    sessions = [
        make_session(
            db,
            agent_state={"chief_complaint": f"第{index + 1}次咨询", "symptoms": [f"症状{index}"]},
            started_at=DEFAULT_STARTED_AT + dt.timedelta(hours=index),
        )
        for index in range(3)
    ]
    session_ids = [chat_session.id for chat_session in sessions]
    db.commit()

    for chat_session in sessions:
        result = aggregate_session(db, registry, chat_session)
        db.commit()

    reloaded = reload_event(engine, result.event_id)
    columns = read_event_columns(engine, result.event_id)

    assert [snapshot["session_id"] for snapshot in reloaded.sessions or []] == session_ids
    assert [snapshot["session_id"] for snapshot in columns["sessions"]] == session_ids
    assert columns["session_count"] == 3
    assert columns["ai_analysis"]["symptoms"] == ["症状0", "症状1", "症状2"]
    assert reloaded.ai_analysis == columns["ai_analysis"]


def test_refreshed_snapshot_persists(
    db: DatabaseSession, engine: Engine, registry: DepartmentRegistry
) -> None:
    chat_session = make_session(db, agent_state={"chief_complaint": "足底水疱"})
    result = aggregate_session(db, registry, chat_session)
    db.commit()

    # An in-place change of agent_state must be tracked and reach the next aggregation.
    assert chat_session.agent_state is not None
    chat_session.agent_state["risk_level"] = "高"
    chat_session.agent_state["symptoms"] = ["水疱", "疼痛"]
    add_message(
        db,
        chat_session,
        sender="user",
        content="水疱破了",
        created_at=DEFAULT_STARTED_AT + dt.timedelta(minutes=10),
    )
    db.commit()
    aggregate_session(db, registry, chat_session, now=DEFAULT_STARTED_AT + dt.timedelta(hours=5))
    db.commit()

    columns = read_event_columns(engine, result.event_id)
    snapshots = columns["sessions"]

    assert len(snapshots) == 1
    assert snapshots[0]["risk_level"] == "high"
    assert snapshots[0]["symptoms"] == ["水疱", "疼痛"]
    assert snapshots[0]["message_count"] == 3
    assert columns["ai_analysis"]["symptoms"] == ["水疱", "疼痛"]
    assert columns["ai_analysis"]["message_count"] == 3


def test_analysis_keys_of_others_survive_aggregation(
    db: DatabaseSession, engine: Engine, registry: DepartmentRegistry
) -> None:
    first = make_session(db, agent_state={"symptoms": ["瘙痒"]})
    second = make_session(
        db,
        agent_state={"symptoms": ["红斑"]},
        started_at=DEFAULT_STARTED_AT + dt.timedelta(hours=1),
    )
    result = aggregate_session(db, registry, first)
    db.commit()

    stored_event = db.get(MedicalEvent, result.event_id)
    assert stored_event is not None and stored_event.ai_analysis is not None
    stored_event.ai_analysis["doctor_note"] = "建议门诊复查"
    db.commit()

    aggregate_session(db, registry, second)
    db.commit()

    reloaded = reload_event(engine, result.event_id)
    assert reloaded.ai_analysis is not None
    assert reloaded.ai_analysis["doctor_note"] == "建议门诊复查"
    assert reloaded.ai_analysis["symptoms"] == ["瘙痒", "红斑"]


def test_loaded_event_reloads_after_aggregation(
    db: DatabaseSession, engine: Engine, registry: DepartmentRegistry
) -> None:
    first = make_session(db)
    second = make_session(db, started_at=DEFAULT_STARTED_AT + dt.timedelta(hours=1))
    result = aggregate_session(db, registry, first)
    loaded = db.get(MedicalEvent, result.event_id)
    assert loaded is not None
    assert loaded.session_count == 1

    aggregate_session(db, registry, second)

    assert loaded.session_count == 2
    assert len(loaded.sessions or []) == 2
    db.commit()
    assert reload_event(engine, result.event_id).session_count == 2


def test_orm_append_to_snapshot_list_persists(
    db: DatabaseSession, engine: Engine, registry: DepartmentRegistry
) -> None:
    chat_session = make_session(db)
    session_id = chat_session.id
    result = aggregate_session(db, registry, chat_session)
    db.commit()

    stored_event = db.get(MedicalEvent, result.event_id)
    assert stored_event is not None and stored_event.sessions is not None
    stored_event.sessions.append({"session_id": "appended-by-hand"})
    db.commit()

    reloaded = reload_event(engine, result.event_id)
    assert [snapshot["session_id"] for snapshot in reloaded.sessions or []] == [
        session_id,
        "appended-by-hand",
    ]


def test_times_reload_as_aware_utc(
    db: DatabaseSession, engine: Engine, registry: DepartmentRegistry
) -> None:
    started_at = dt.datetime(2024, 3, 1, 23, 30, tzinfo=dt.UTC)
    chat_session = make_session(db, started_at=started_at, message_count=3)
    result = aggregate_session(db, registry, chat_session, now=started_at + dt.timedelta(hours=1))
    db.commit()

    reloaded = reload_event(engine, result.event_id)

    assert reloaded.event_date == dt.date(2024, 3, 2)
    assert reloaded.start_time == started_at
    assert reloaded.start_time is not None and reloaded.start_time.utcoffset() == dt.timedelta(0)
    assert reloaded.end_time == started_at + dt.timedelta(minutes=2)
    assert reloaded.updated_at == started_at + dt.timedelta(hours=1)
