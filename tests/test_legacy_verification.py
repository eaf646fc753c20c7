"""Tests for verifying a legacy migration and retiring the legacy tables, on both backends.

Each tampering test migrates the realistic legacy rows, changes one thing in the unified
tables or the legacy tables, and checks that verification names that row with
the right kind of mismatch and still verifies every other row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any, cast

import pytest
from sqlalchemy import Table, delete, inspect, select, update
from sqlalchemy.engine import Engine

from medrecord import ChatSession, DepartmentRegistry, Message
from medrecord.errors import MigrationNotVerifiedError
from medrecord.legacy import (
    MigrationReport,
    VerificationReport,
    migrate_legacy,
    retire_legacy,
    verify_migration,
)
from tests.legacy_factories import (
    DERMA_LONG_CHAT_ID,
    DERMA_PHOTO_ID,
    DERMA_TABLE,
    DIAGNOSIS_COLLECTING_ID,
    DIAGNOSIS_COMPLETED_ID,
    DIAGNOSIS_TABLE,
    LEGACY_START,
    create_legacy_tables,
    derma_row,
    diagnosis_row,
    drop_legacy_tables,
    insert_generated_derma_rows,
    insert_legacy_rows,
    legacy_id,
    legacy_message,
    realistic_derma_rows,
    realistic_diagnosis_rows,
    run_rows,
    snapshot_legacy_table,
    unified_contents,
)

SESSIONS = cast(Table, ChatSession.__table__)
MESSAGES = cast(Table, Message.__table__)

ROW_COUNT = len(realistic_derma_rows()) + len(realistic_diagnosis_rows())


@pytest.fixture
def bare_engine(engine: Engine) -> Iterator[Engine]:
    """The test database without legacy tables; whatever legacy table a test creates is dropped."""
    drop_legacy_tables(engine)
    try:
        yield engine
    finally:
        drop_legacy_tables(engine)


@pytest.fixture
def migrated_engine(bare_engine: Engine, installed_registry: DepartmentRegistry) -> Engine:
    """The test database with the realistic legacy rows of both tables, migrated."""
    create_legacy_tables(bare_engine)
    insert_legacy_rows(bare_engine, DERMA_TABLE, realistic_derma_rows())
    insert_legacy_rows(bare_engine, DIAGNOSIS_TABLE, realistic_diagnosis_rows())
    report = migrate_legacy(bare_engine, registry=installed_registry)
    assert report.migrated == ROW_COUNT
    return bare_engine


def verify(engine: Engine, registry: DepartmentRegistry, **options: Any) -> VerificationReport:
    return verify_migration(engine, registry=registry, **options)


def migrate(engine: Engine, registry: DepartmentRegistry, **options: Any) -> MigrationReport:
    return migrate_legacy(engine, registry=registry, **options)


def mismatch_kinds(report: VerificationReport, legacy_id: str) -> set[str]:
    return {mismatch.kind for mismatch in report.mismatches if mismatch.legacy_id == legacy_id}


def message_ids(engine: Engine, session_id: str) -> list[int]:
    """Return a session's message ids in conversation order."""
    with engine.connect() as connection:
        statement = (
            select(MESSAGES.c.id)
            .where(MESSAGES.c.session_id == session_id)
            .order_by(MESSAGES.c.created_at, MESSAGES.c.id)
        )
        return list(connection.execute(statement).scalars())


def table_names(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(inspect(connection).get_table_names())


# Tampering, one function per change


def delete_last_message(engine: Engine) -> None:
    last = message_ids(engine, DERMA_PHOTO_ID)[-1]
    with engine.begin() as connection:
        connection.execute(delete(MESSAGES).where(MESSAGES.c.id == last))


def swap_two_contents(engine: Engine) -> None:
    first, second = message_ids(engine, DIAGNOSIS_COMPLETED_ID)[:2]
    with engine.begin() as connection:
        contents = dict(
            connection.execute(
                select(MESSAGES.c.id, MESSAGES.c.content).where(MESSAGES.c.id.in_([first, second]))
            ).all()
        )
        connection.execute(
            update(MESSAGES).where(MESSAGES.c.id == first).values(content=contents[second])
        )
        connection.execute(
            update(MESSAGES).where(MESSAGES.c.id == second).values(content=contents[first])
        )


def shift_message_time(engine: Engine) -> None:
    last = message_ids(engine, DERMA_PHOTO_ID)[-1]
    with engine.begin() as connection:
        connection.execute(
            update(MESSAGES)
            .where(MESSAGES.c.id == last)
            .values(created_at=dt.datetime(2024, 5, 1, 2, 5, 1, tzinfo=dt.UTC))
        )


def change_attachment(engine: Engine) -> None:
    image = message_ids(engine, DERMA_PHOTO_ID)[4]
    with engine.begin() as connection:
        connection.execute(
            update(MESSAGES)
            .where(MESSAGES.c.id == image)
            .values(attachments=[{"type": "image", "url": "https://img.example.invalid/other.jpg"}])
        )


def change_agent_state(engine: Engine) -> None:
    with engine.begin() as connection:
        state = connection.execute(
            select(SESSIONS.c.agent_state).where(SESSIONS.c.id == DERMA_PHOTO_ID)
        ).scalar_one()
        connection.execute(
            update(SESSIONS)
            .where(SESSIONS.c.id == DERMA_PHOTO_ID)
            .values(agent_state={**state, "risk_level": "high"})
        )


def change_status(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(
            update(SESSIONS).where(SESSIONS.c.id == DERMA_PHOTO_ID).values(status="active")
        )


def change_owner(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(
            update(SESSIONS).where(SESSIONS.c.id == DIAGNOSIS_COMPLETED_ID).values(user_id=42)
        )


def delete_session(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(delete(MESSAGES).where(MESSAGES.c.session_id == DERMA_PHOTO_ID))
        connection.execute(delete(SESSIONS).where(SESSIONS.c.id == DERMA_PHOTO_ID))


def change_legacy_complaint(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(
            update(DERMA_TABLE)
            .where(DERMA_TABLE.c.id == DERMA_PHOTO_ID)
            .values(chief_complaint="双臂红疹伴瘙痒5天")
        )


def append_legacy_message(engine: Engine) -> None:
    rows = {row["id"]: row for row in realistic_diagnosis_rows()}
    messages = [
        *rows[DIAGNOSIS_COLLECTING_ID]["messages"],
        legacy_message("user", "一阵一阵的", "2024-05-06T03:00:00Z"),
    ]
    with engine.begin() as connection:
        connection.execute(
            update(DIAGNOSIS_TABLE)
            .where(DIAGNOSIS_TABLE.c.id == DIAGNOSIS_COLLECTING_ID)
            .values(messages=messages)
        )


def break_legacy_row(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(
            update(DERMA_TABLE)
            .where(DERMA_TABLE.c.id == DERMA_LONG_CHAT_ID)
            .values(messages={"role": "user"})
        )


TAMPERING = [
    pytest.param(delete_last_message, DERMA_PHOTO_ID, "message_count", id="message-deleted"),
    pytest.param(swap_two_contents, DIAGNOSIS_COMPLETED_ID, "message_checksum", id="swapped"),
    pytest.param(shift_message_time, DERMA_PHOTO_ID, "message_checksum", id="time-changed"),
    pytest.param(change_attachment, DERMA_PHOTO_ID, "message_checksum", id="attachment"),
    pytest.param(change_agent_state, DERMA_PHOTO_ID, "state", id="state-changed"),
    pytest.param(change_status, DERMA_PHOTO_ID, "session_fields", id="status-changed"),
    pytest.param(change_owner, DIAGNOSIS_COMPLETED_ID, "session_fields", id="owner-changed"),
    pytest.param(delete_session, DERMA_PHOTO_ID, "session_missing", id="session-deleted"),
    pytest.param(
        change_legacy_complaint, DERMA_PHOTO_ID, "legacy_changed", id="legacy-state-changed"
    ),
    pytest.param(
        append_legacy_message,
        DIAGNOSIS_COLLECTING_ID,
        "legacy_changed",
        id="legacy-message-added",
    ),
    pytest.param(break_legacy_row, DERMA_LONG_CHAT_ID, "legacy_changed", id="legacy-unmappable"),
]


def test_verify_passes_after_migration(
    migrated_engine: Engine, installed_registry: DepartmentRegistry
) -> None:
    report = verify(migrated_engine, installed_registry)

    totals = report.to_dict()["totals"]
    assert report.passed
    assert report.mismatches == []
    assert totals["rows"] == ROW_COUNT
    assert totals["verified"] == ROW_COUNT
    assert totals["verified_messages"] == sum(
        len(row["messages"] or []) for row in realistic_derma_rows() + realistic_diagnosis_rows()
    )
    assert totals["quarantined"] == 0
    assert totals["orphaned"] == 0


def test_verify_writes_only_its_run(
    migrated_engine: Engine, installed_registry: DepartmentRegistry
) -> None:
    contents = unified_contents(migrated_engine)
    derma = snapshot_legacy_table(migrated_engine, "derma_sessions")

    verify(migrated_engine, installed_registry, batch_size=2)

    assert unified_contents(migrated_engine) == contents
    assert snapshot_legacy_table(migrated_engine, "derma_sessions") == derma


@pytest.mark.parametrize(("tamper", "changed_id", "kind"), TAMPERING)
def test_tampering_detected(
    migrated_engine: Engine,
    installed_registry: DepartmentRegistry,
    tamper: Callable[[Engine], None],
    changed_id: str,
    kind: str,
) -> None:
    tamper(migrated_engine)

    report = verify(migrated_engine, installed_registry)

    assert not report.passed
    assert kind in mismatch_kinds(report, changed_id)
    assert {mismatch.legacy_id for mismatch in report.mismatches} == {changed_id}
    assert report.to_dict()["totals"]["verified"] == ROW_COUNT - 1
    assert report.to_dict()["totals"]["mismatched"] == 1


def continue_session(engine: Engine, session_id: str) -> None:
    """Add a turn to a migrated session, as the unified app does after the switch."""
    now = dt.datetime.now(dt.UTC)
    with engine.begin() as connection:
        for offset, (sender, content) in enumerate(
            (("user", "还是很痒"), ("assistant", "持续几天了？"))
        ):
            connection.execute(
                MESSAGES.insert().values(
                    session_id=session_id,
                    sender=sender,
                    content=content,
                    message_type="text",
                    created_at=now + dt.timedelta(seconds=offset),
                )
            )
        connection.execute(
            update(SESSIONS)
            .where(SESSIONS.c.id == session_id)
            .values(
                status="active",
                last_message="持续几天了？",
                updated_at=now,
                agent_state={"chief_complaint": "手臂瘙痒", "symptoms": ["瘙痒"]},
            )
        )


def test_continued_session_still_verifies(
    migrated_engine: Engine, installed_registry: DepartmentRegistry
) -> None:
    continue_session(migrated_engine, DIAGNOSIS_COMPLETED_ID)

    report = verify(migrated_engine, installed_registry)

    totals = report.to_dict()["totals"]
    assert report.passed
    assert totals["verified"] == ROW_COUNT
    assert totals["continued"] == 1


def test_continued_session_with_changed_history_fails(
    migrated_engine: Engine, installed_registry: DepartmentRegistry
) -> None:
    continue_session(migrated_engine, DIAGNOSIS_COMPLETED_ID)
    swap_two_contents(migrated_engine)

    report = verify(migrated_engine, installed_registry)

    assert not report.passed
    assert "message_count" in mismatch_kinds(report, DIAGNOSIS_COMPLETED_ID)
    assert report.to_dict()["totals"]["continued"] == 0


def test_deleted_legacy_row_reported(
    migrated_engine: Engine, installed_registry: DepartmentRegistry
) -> None:
    with migrated_engine.begin() as connection:
        connection.execute(delete(DERMA_TABLE).where(DERMA_TABLE.c.id == DERMA_PHOTO_ID))

    report = verify(migrated_engine, installed_registry)

    tables = {table.legacy_table: table for table in report.tables}
    assert not report.passed
    assert [mismatch.kind for mismatch in report.mismatches] == ["legacy_row_missing"]
    assert report.mismatches[0].legacy_table == "derma_sessions"
    assert tables["derma_sessions"].orphaned == 1
    assert tables["diagnosis_sessions"].orphaned == 0
    assert report.to_dict()["totals"]["verified"] == ROW_COUNT - 1


def test_unmigrated_rows_reported(
    migrated_engine: Engine, installed_registry: DepartmentRegistry
) -> None:
    added = legacy_id("added-after-migration")
    unmappable = legacy_id("unmappable-after-migration")
    insert_legacy_rows(migrated_engine, DIAGNOSIS_TABLE, [diagnosis_row(added)])
    insert_legacy_rows(
        migrated_engine,
        DERMA_TABLE,
        [derma_row(unmappable, messages=[legacy_message("nurse", "你好", LEGACY_START)])],
    )

    report = verify(migrated_engine, installed_registry)

    assert not report.passed
    assert mismatch_kinds(report, added) == {"not_migrated"}
    assert mismatch_kinds(report, unmappable) == {"not_migrated"}
    assert report.to_dict()["totals"]["mismatched"] == 2


def test_quarantined_rows_counted_not_failed(
    migrated_engine: Engine, installed_registry: DepartmentRegistry
) -> None:
    bad = legacy_id("quarantined")
    insert_legacy_rows(migrated_engine, DERMA_TABLE, [derma_row(bad, messages="不是列表")])
    migrate(migrated_engine, installed_registry)

    report = verify(migrated_engine, installed_registry)

    assert report.passed
    assert report.quarantined == 1
    assert report.to_dict()["totals"]["verified"] == ROW_COUNT


def test_other_legacy_zone_fails_verification(
    migrated_engine: Engine, installed_registry: DepartmentRegistry
) -> None:
    report = verify(migrated_engine, installed_registry, legacy_time_zone="Asia/Shanghai")

    assert not report.passed
    assert "session_fields" in mismatch_kinds(report, DERMA_PHOTO_ID)


@pytest.mark.parametrize("batch_size", [1, 4, 1000])
def test_verify_batch_sizes_agree(
    migrated_engine: Engine, installed_registry: DepartmentRegistry, batch_size: int
) -> None:
    delete_last_message(migrated_engine)

    report = verify(migrated_engine, installed_registry, batch_size=batch_size)

    assert report.to_dict()["totals"]["verified"] == ROW_COUNT - 1
    assert mismatch_kinds(report, DERMA_PHOTO_ID) == {"message_count"}


def test_verify_batch_above_parameter_limit(
    bare_engine: Engine, installed_registry: DepartmentRegistry
) -> None:
    # psycopg sends at most 65535 bound parameters per statement; SQLite builds differ.
    count = 65_600
    create_legacy_tables(bare_engine)
    insert_generated_derma_rows(bare_engine, count)
    migrated = migrate(bare_engine, installed_registry, only=["derma"], batch_size=count)

    report = verify(bare_engine, installed_registry, only=["derma"], batch_size=count)

    assert migrated.migrated == count
    assert report.passed
    assert report.to_dict()["totals"]["verified"] == count


# Retirement


def test_retire_refused_without_verification(
    migrated_engine: Engine, installed_registry: DepartmentRegistry
) -> None:
    with pytest.raises(MigrationNotVerifiedError, match="never verified"):
        retire_legacy(migrated_engine, registry=installed_registry)

    assert {"derma_sessions", "diagnosis_sessions"} <= table_names(migrated_engine)


def test_retire_refused_after_failed_verification(
    migrated_engine: Engine, installed_registry: DepartmentRegistry
) -> None:
    change_status(migrated_engine)
    verify(migrated_engine, installed_registry)

    with pytest.raises(MigrationNotVerifiedError, match="status 'failed'"):
        retire_legacy(migrated_engine, registry=installed_registry)

    assert {"derma_sessions", "diagnosis_sessions"} <= table_names(migrated_engine)


def test_retire_refused_after_later_migration(
    migrated_engine: Engine, installed_registry: DepartmentRegistry
) -> None:
    verify(migrated_engine, installed_registry)
    migrate(migrated_engine, installed_registry)

    with pytest.raises(MigrationNotVerifiedError, match="ran after the latest verification"):
        retire_legacy(migrated_engine, registry=installed_registry)


def test_retire_allowed_after_dry_run(
    migrated_engine: Engine, installed_registry: DepartmentRegistry
) -> None:
    verify(migrated_engine, installed_registry)
    migrate(migrated_engine, installed_registry, dry_run=True)

    report = retire_legacy(migrated_engine, registry=installed_registry)

    assert set(report.renamed) == {"derma_sessions", "diagnosis_sessions"}


def add_legacy_row(engine: Engine) -> None:
    insert_legacy_rows(engine, DERMA_TABLE, [derma_row(legacy_id("late-row"))])


def touch_legacy_row(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(
            update(DIAGNOSIS_TABLE)
            .where(DIAGNOSIS_TABLE.c.id == DIAGNOSIS_COMPLETED_ID)
            .values(updated_at=dt.datetime(2030, 1, 1))
        )


def delete_legacy_row(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(delete(DERMA_TABLE).where(DERMA_TABLE.c.id == DERMA_LONG_CHAT_ID))


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(add_legacy_row, id="row-added"),
        pytest.param(touch_legacy_row, id="row-updated"),
        pytest.param(delete_legacy_row, id="row-deleted"),
    ],
)
def test_retire_refused_after_legacy_change(
    migrated_engine: Engine,
    installed_registry: DepartmentRegistry,
    change: Callable[[Engine], None],
) -> None:
    assert verify(migrated_engine, installed_registry).passed
    change(migrated_engine)

    with pytest.raises(MigrationNotVerifiedError, match="changed after the latest verification"):
        retire_legacy(migrated_engine, registry=installed_registry)

    assert {"derma_sessions", "diagnosis_sessions"} <= table_names(migrated_engine)


def test_retire_refused_with_quarantined_rows(
    migrated_engine: Engine, installed_registry: DepartmentRegistry
) -> None:
    insert_legacy_rows(
        migrated_engine, DERMA_TABLE, [derma_row(legacy_id("bad"), messages={"a": 1})]
    )
    migrate(migrated_engine, installed_registry)
    assert verify(migrated_engine, installed_registry).passed

    with pytest.raises(MigrationNotVerifiedError, match="--accept-quarantined"):
        retire_legacy(migrated_engine, registry=installed_registry)
    report = retire_legacy(migrated_engine, registry=installed_registry, accept_quarantined=True)

    assert set(report.renamed) == {"derma_sessions", "diagnosis_sessions"}


def test_retire_refused_when_target_exists(
    migrated_engine: Engine, installed_registry: DepartmentRegistry
) -> None:
    with migrated_engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE diagnosis_sessions_deprecated (id VARCHAR(36))")
    verify(migrated_engine, installed_registry)

    with pytest.raises(MigrationNotVerifiedError, match="'diagnosis_sessions_deprecated'"):
        retire_legacy(migrated_engine, registry=installed_registry)

    # Nothing is renamed when one target is taken, not even the other table.
    names = table_names(migrated_engine)
    assert {"derma_sessions", "diagnosis_sessions"} <= names
    assert "derma_sessions_deprecated" not in names


def test_retire_refused_after_partial_verification(
    migrated_engine: Engine, installed_registry: DepartmentRegistry
) -> None:
    verify(migrated_engine, installed_registry, only=["derma"])

    with pytest.raises(MigrationNotVerifiedError, match="did not check table 'diagnosis_sessions'"):
        retire_legacy(migrated_engine, registry=installed_registry)


def test_retire_refused_without_legacy_tables(
    bare_engine: Engine, installed_registry: DepartmentRegistry
) -> None:
    verify(bare_engine, installed_registry)

    with pytest.raises(MigrationNotVerifiedError, match="no legacy table exists"):
        retire_legacy(bare_engine, registry=installed_registry)


def test_retire_renames_and_keeps_rows(
    migrated_engine: Engine, installed_registry: DepartmentRegistry
) -> None:
    derma = snapshot_legacy_table(migrated_engine, "derma_sessions")
    diagnosis = snapshot_legacy_table(migrated_engine, "diagnosis_sessions")
    contents = unified_contents(migrated_engine)
    verification = verify(migrated_engine, installed_registry)

    report = retire_legacy(migrated_engine, registry=installed_registry)

    names = table_names(migrated_engine)
    assert report.renamed == {
        "derma_sessions": "derma_sessions_deprecated",
        "diagnosis_sessions": "diagnosis_sessions_deprecated",
    }
    assert report.verification_run_id == verification.run_id
    assert "derma_sessions" not in names
    assert "diagnosis_sessions" not in names
    assert snapshot_legacy_table(migrated_engine, "derma_sessions_deprecated") == derma
    assert snapshot_legacy_table(migrated_engine, "diagnosis_sessions_deprecated") == diagnosis
    assert unified_contents(migrated_engine) == contents


def test_migration_after_retirement_finds_no_table(
    migrated_engine: Engine, installed_registry: DepartmentRegistry
) -> None:
    verify(migrated_engine, installed_registry)
    retire_legacy(migrated_engine, registry=installed_registry)
    contents = unified_contents(migrated_engine)

    report = migrate(migrated_engine, installed_registry)

    assert [table.present for table in report.tables] == [False, False]
    assert unified_contents(migrated_engine) == contents


# Runs


def test_runs_recorded(migrated_engine: Engine, installed_registry: DepartmentRegistry) -> None:
    migrate(migrated_engine, installed_registry, dry_run=True)
    late = legacy_id("late-row")
    insert_legacy_rows(migrated_engine, DERMA_TABLE, [derma_row(late)])
    failed = verify(migrated_engine, installed_registry)
    with migrated_engine.begin() as connection:
        connection.execute(delete(DERMA_TABLE).where(DERMA_TABLE.c.id == late))
    passed = verify(migrated_engine, installed_registry)
    retired = retire_legacy(migrated_engine, registry=installed_registry)

    runs = run_rows(migrated_engine)
    assert [(run["kind"], run["status"]) for run in runs] == [
        ("migrate", "finished"),
        ("verify", "failed"),
        ("verify", "passed"),
        ("retire", "finished"),
    ]
    assert [run["id"] for run in runs[1:]] == [failed.run_id, passed.run_id, retired.run_id]
    for run in runs:
        assert run["started_at"] is not None
        assert run["finished_at"] is not None
        assert run["finished_at"] >= run["started_at"]
    assert runs[0]["report"]["totals"]["migrated"] == ROW_COUNT
    assert runs[1]["report"]["totals"]["mismatched"] == 1
    assert runs[1]["report"]["mismatches"][0]["kind"] == "not_migrated"
    assert runs[2]["report"]["totals"]["verified"] == ROW_COUNT
    assert runs[3]["report"]["renamed"]["derma_sessions"] == "derma_sessions_deprecated"
