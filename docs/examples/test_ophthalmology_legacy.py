"""Tests of the legacy mapper of the ophthalmology package beside this file.

They create the legacy ``eye_sessions`` table in a scratch SQLite database, insert rows as
the legacy app wrote them, and migrate and verify with medrecord's own engine. pytest puts
the folder of this file on ``sys.path``, so the package imports without being installed,
and the tests register it by name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import medrecord_ophthalmology
import pytest
from medrecord_ophthalmology.legacy import EYE_SESSIONS, EYE_SESSIONS_MAPPER, eye_metadata
from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session as DatabaseSession

import medrecord
from medrecord import ChatSession, DepartmentRegistry, LegacyRowError, Message
from medrecord.legacy import legacy_mappers

STARTED_AT = dt.datetime(2026, 11, 21, 1, 0)
"""A legacy time without an offset, in UTC as the legacy app wrote it."""


def legacy_row(legacy_id: str, **columns: Any) -> dict[str, Any]:
    """Return an ``eye_sessions`` row with every column, empty unless given."""
    row: dict[str, Any] = dict.fromkeys(EYE_SESSIONS.columns.keys())
    row.update(id=legacy_id, user_id=3001, created_at=STARTED_AT, **columns)
    return row


LEGACY_ROWS = [
    legacy_row(
        "eye-0001",
        stage="completed",
        chief_complaint="左眼视物模糊两天",
        eye="L",
        vision_change="看远处发虚",
        risk_level="中",
        messages=[
            {
                "role": "user",
                "content": "左眼这两天看东西模糊。",
                "timestamp": "2026-11-21T01:00:00",
            },
            {
                "role": "assistant",
                "content": "建议尽快到眼科检查视力。",
                "timestamp": "2026-11-21T01:02:00",
                "task_type": "chat",
            },
        ],
        last_reply="建议尽快到眼科检查视力。",
        updated_at=dt.datetime(2026, 11, 21, 1, 2),
    ),
    legacy_row("eye-0002", stage="collecting", eye="X", messages=[]),
    legacy_row(
        "eye-0003",
        stage="collecting",
        eye="R",
        messages=[{"role": "nurse", "content": "请稍等。", "timestamp": "2026-11-21T01:00:00"}],
    ),
]


@pytest.fixture
def registry() -> DepartmentRegistry:
    return medrecord.load_departments(
        plugins=[("ophthalmology", medrecord_ophthalmology)], entry_points=False, strict=True
    )


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = medrecord.create_engine(f"sqlite:///{tmp_path / 'legacy.db'}")
    medrecord.upgrade_schema(engine)
    eye_metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(insert(EYE_SESSIONS), LEGACY_ROWS)
    yield engine
    engine.dispose()


def test_mapper_registered(registry: DepartmentRegistry) -> None:
    mappers = legacy_mappers(registry)

    assert list(mappers) == ["eye"]
    assert mappers["eye"].department == "ophthalmology"


def test_eye_code_translated(registry: DepartmentRegistry) -> None:
    department = registry.departments["ophthalmology"]

    mapped = EYE_SESSIONS_MAPPER.map_row(
        LEGACY_ROWS[0], department=department, legacy_time_zone=dt.UTC
    )

    assert mapped.agent_state["affected_eye"] == "left"
    assert mapped.agent_state["risk_level"] == "medium"
    assert mapped.status == "completed"
    assert mapped.created_at == dt.datetime(2026, 11, 21, 1, 0, tzinfo=dt.UTC)


def test_unknown_eye_code_raises(registry: DepartmentRegistry) -> None:
    department = registry.departments["ophthalmology"]

    with pytest.raises(LegacyRowError) as raised:
        EYE_SESSIONS_MAPPER.map_row(LEGACY_ROWS[1], department=department, legacy_time_zone=dt.UTC)

    assert raised.value.reason == "invalid_state"
    assert raised.value.legacy_id == "eye-0002"


def test_migration_quarantines_bad_rows(engine: Engine, registry: DepartmentRegistry) -> None:
    report = medrecord.migrate_legacy(engine, registry=registry)

    assert report.migrated == 1
    assert report.migrated_messages == 2
    assert {row.legacy_id: row.reason for row in report.quarantine} == {
        "eye-0002": "invalid_state",
        "eye-0003": "unknown_role",
    }


def test_migrated_session_keeps_conversation(engine: Engine, registry: DepartmentRegistry) -> None:
    medrecord.migrate_legacy(engine, registry=registry)

    with DatabaseSession(engine) as db:
        session = db.get(ChatSession, "eye-0001")
        senders = db.scalars(
            select(Message.sender)
            .where(Message.session_id == "eye-0001")
            .order_by(Message.created_at, Message.id)
        ).all()

    assert session is not None
    assert session.agent_type == "ophthalmology"
    assert session.status == "completed"
    assert session.last_message == "建议尽快到眼科检查视力。"
    assert session.agent_state is not None
    assert session.agent_state["affected_eye"] == "left"
    assert senders == ["user", "assistant"]


def test_second_run_adds_nothing(engine: Engine, registry: DepartmentRegistry) -> None:
    medrecord.migrate_legacy(engine, registry=registry)

    again = medrecord.migrate_legacy(engine, registry=registry)
    verification = medrecord.verify_migration(engine, registry=registry)

    assert again.migrated == 0
    assert again.already_migrated == 1
    assert verification.passed
    assert verification.quarantined == 2
