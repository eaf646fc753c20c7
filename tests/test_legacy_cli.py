"""Tests for ``medrecord migrate`` as a user runs it, on SQLite and PostgreSQL.

Most tests call the command line in this process through typer's CliRunner; the
end-to-end test runs the installed ``medrecord`` console script.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
import sqlalchemy
from sqlalchemy import Table, inspect, select, update
from sqlalchemy.engine import URL, Engine
from sqlalchemy.pool import NullPool
from typer.testing import CliRunner, Result

from medrecord import ChatSession, create_engine
from medrecord.cli import app
from medrecord.cli.migrate import LEGACY_TIME_ZONE_ENV
from medrecord.cli.options import DATABASE_URL_ENV, TIME_ZONE_ENV
from tests.legacy_factories import (
    DERMA_PHOTO_ID,
    DERMA_TABLE,
    DIAGNOSIS_TABLE,
    LEGACY_START,
    create_legacy_tables,
    derma_row,
    drop_legacy_tables,
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

DERMA_COUNT = len(realistic_derma_rows())
DIAGNOSIS_COUNT = len(realistic_diagnosis_rows())
ROW_COUNT = DERMA_COUNT + DIAGNOSIS_COUNT
MESSAGE_COUNT = sum(
    len(row["messages"] or []) for row in realistic_derma_rows() + realistic_diagnosis_rows()
)

runner = CliRunner()


@pytest.fixture(autouse=True)
def _clear_option_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the developer's own database and time zone settings out of the tests."""
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    monkeypatch.delenv(TIME_ZONE_ENV, raising=False)
    monkeypatch.delenv(LEGACY_TIME_ZONE_ENV, raising=False)


def invoke(*args: str) -> Result:
    """Run the command line in this process; re-raise an exception it did not handle itself."""
    result = runner.invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


@pytest.fixture
def legacy_url(engine: Engine, database_url: str) -> Iterator[str]:
    """URL of the test database with the realistic rows of both legacy tables."""
    drop_legacy_tables(engine)
    create_legacy_tables(engine)
    insert_legacy_rows(engine, DERMA_TABLE, realistic_derma_rows())
    insert_legacy_rows(engine, DIAGNOSIS_TABLE, realistic_diagnosis_rows())
    try:
        yield database_url
    finally:
        drop_legacy_tables(engine)


@pytest.fixture
def empty_database_url(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[str]:
    """URL of a database without any table, on the test's backend."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'legacy.db'}"
        return

    server_url: URL = request.getfixturevalue("postgresql_server_url")
    name = f"medrecord_legacy_cli_{uuid.uuid4().hex[:12]}"
    admin = sqlalchemy.create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield server_url.set(database=name).render_as_string(hide_password=False)
    finally:
        # DROP DATABASE ... WITH (FORCE) exists since PostgreSQL 13.
        version = admin.dialect.server_version_info or (0,)
        force = " WITH (FORCE)" if version >= (13,) else ""
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"{force}')
        admin.dispose()


def add_unknown_role_row(engine: Engine) -> str:
    """Add a derma row whose only message has an unknown role; return its id."""
    row_id = legacy_id("unknown-role")
    message = legacy_message("doctor", "这条消息的文字不应出现在输出里", LEGACY_START)
    insert_legacy_rows(engine, DERMA_TABLE, [derma_row(row_id, messages=[message])])
    return row_id


def session_departments(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(connection.execute(select(SESSIONS.c.agent_type)).scalars())


# End to end, with the console script


def run_script(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).with_name("medrecord")
    assert script.exists(), f"console script {script} is missing; run scripts/setup"
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in (DATABASE_URL_ENV, TIME_ZONE_ENV, LEGACY_TIME_ZONE_ENV)
    }
    return subprocess.run(
        [str(script), *args],
        capture_output=True,
        text=True,
        env=environment,
        cwd=cwd,
        timeout=300,
        check=False,
    )


def test_legacy_database_migrates_by_console_script(
    empty_database_url: str, tmp_path: Path
) -> None:
    # A production database: the legacy tables exist before medrecord's own.
    engine = create_engine(empty_database_url)
    try:
        create_legacy_tables(engine)
        insert_legacy_rows(engine, DERMA_TABLE, realistic_derma_rows())
        insert_legacy_rows(engine, DIAGNOSIS_TABLE, realistic_diagnosis_rows())
        derma = snapshot_legacy_table(engine, "derma_sessions")
        diagnosis = snapshot_legacy_table(engine, "diagnosis_sessions")

        init = run_script("init", "--db", empty_database_url, cwd=tmp_path)
        assert init.returncode == 0, init.stderr

        dry = run_script("migrate", "legacy", "--dry-run", "--db", empty_database_url, cwd=tmp_path)
        assert dry.returncode == 0, dry.stderr
        assert f"dry run: would migrate {ROW_COUNT} session(s)" in dry.stdout
        assert unified_contents(engine)["sessions"] == []

        first = run_script("migrate", "legacy", "--db", empty_database_url, cwd=tmp_path)
        assert first.returncode == 0, first.stderr
        assert f"migrated {ROW_COUNT} session(s) with {MESSAGE_COUNT} message(s)" in first.stdout
        after_first = unified_contents(engine)

        verified = run_script("migrate", "verify", "--db", empty_database_url, cwd=tmp_path)
        assert verified.returncode == 0, verified.stderr
        assert "verification passed" in verified.stdout

        second = run_script("migrate", "legacy", "--db", empty_database_url, cwd=tmp_path)
        assert second.returncode == 0, second.stderr
        assert f"migrated 0 session(s) with 0 message(s), {ROW_COUNT} already migrated" in (
            second.stdout
        )
        assert unified_contents(engine) == after_first

        verified_again = run_script("migrate", "verify", "--db", empty_database_url, cwd=tmp_path)
        assert verified_again.returncode == 0, verified_again.stderr

        retired = run_script("migrate", "retire-legacy", "--db", empty_database_url, cwd=tmp_path)
        assert retired.returncode == 0, retired.stderr
        assert "renamed derma_sessions to derma_sessions_deprecated" in retired.stdout
        assert "renamed diagnosis_sessions to diagnosis_sessions_deprecated" in retired.stdout
        assert snapshot_legacy_table(engine, "derma_sessions_deprecated") == derma
        assert snapshot_legacy_table(engine, "diagnosis_sessions_deprecated") == diagnosis
        assert unified_contents(engine) == after_first
    finally:
        engine.dispose()


# migrate legacy


def test_migrate_prints_summary(legacy_url: str, engine: Engine) -> None:
    result = invoke("migrate", "legacy", "--db", legacy_url)

    assert result.exit_code == 0, result.output
    assert f"derma_sessions -> dermatology: {DERMA_COUNT} row(s), migrated {DERMA_COUNT}" in (
        result.stdout
    )
    assert f"diagnosis_sessions -> general: {DIAGNOSIS_COUNT} row(s)" in result.stdout
    assert len(unified_contents(engine)["sessions"]) == ROW_COUNT


def test_migrate_json_report(legacy_url: str, engine: Engine) -> None:
    bad_id = add_unknown_role_row(engine)

    result = invoke("migrate", "legacy", "--json", "--db", legacy_url)

    report = json.loads(result.stdout)
    assert result.exit_code == 1
    assert report["dry_run"] is False
    assert isinstance(report["run_id"], int)
    assert report["totals"] == {
        "rows": ROW_COUNT + 1,
        "migrated": ROW_COUNT,
        "migrated_messages": MESSAGE_COUNT,
        "already_migrated": 0,
        "quarantined": 1,
    }
    assert [table["legacy_table"] for table in report["tables"]] == [
        "derma_sessions",
        "diagnosis_sessions",
    ]
    assert report["quarantine"] == [
        {
            "legacy_table": "derma_sessions",
            "legacy_id": bad_id,
            "reason": "unknown_role",
            "detail": report["quarantine"][0]["detail"],
        }
    ]
    assert "doctor" in report["quarantine"][0]["detail"]


def test_quarantine_exits_1_without_chat_text(legacy_url: str, engine: Engine) -> None:
    bad_id = add_unknown_role_row(engine)

    result = invoke("migrate", "legacy", "--db", legacy_url)

    assert result.exit_code == 1
    assert f"quarantined: derma_sessions '{bad_id}': unknown_role" in result.stdout
    assert f"migrated {ROW_COUNT} session(s)" in result.stdout
    assert "这条消息" not in result.output


def test_dry_run_writes_nothing(legacy_url: str, engine: Engine) -> None:
    add_unknown_role_row(engine)

    dry = invoke("migrate", "legacy", "--dry-run", "--json", "--db", legacy_url)

    assert dry.exit_code == 1
    assert unified_contents(engine) == {
        "sessions": [],
        "messages": [],
        "ledger": [],
        "quarantine": [],
    }
    assert run_rows(engine) == []

    real = invoke("migrate", "legacy", "--json", "--db", legacy_url)
    dry_report = json.loads(dry.stdout)
    real_report = json.loads(real.stdout)
    assert dry_report["dry_run"] is True
    assert dry_report["run_id"] is None
    assert dry_report["totals"] == real_report["totals"]
    assert dry_report["quarantine"] == real_report["quarantine"]


def test_second_run_adds_nothing(legacy_url: str, engine: Engine) -> None:
    first = invoke("migrate", "legacy", "--db", legacy_url)
    contents = unified_contents(engine)

    second = invoke("migrate", "legacy", "--json", "--db", legacy_url)

    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    assert json.loads(second.stdout)["totals"]["already_migrated"] == ROW_COUNT
    assert json.loads(second.stdout)["totals"]["migrated"] == 0
    assert unified_contents(engine) == contents


@pytest.mark.parametrize("batch_size", ["1", "3", "10000"])
def test_batch_size_option(legacy_url: str, engine: Engine, batch_size: str) -> None:
    result = invoke("migrate", "legacy", "--batch-size", batch_size, "--json", "--db", legacy_url)
    verified = invoke("migrate", "verify", "--batch-size", batch_size, "--db", legacy_url)

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["totals"]["migrated"] == ROW_COUNT
    assert verified.exit_code == 0, verified.output


@pytest.mark.parametrize(
    ("source", "table", "department", "count"),
    [
        ("derma", "derma_sessions", "dermatology", DERMA_COUNT),
        ("diagnosis", "diagnosis_sessions", "general", DIAGNOSIS_COUNT),
    ],
)
def test_only_one_source(
    legacy_url: str, engine: Engine, source: str, table: str, department: str, count: int
) -> None:
    result = invoke("migrate", "legacy", "--only", source, "--json", "--db", legacy_url)
    verified = invoke("migrate", "verify", "--only", source, "--db", legacy_url)

    report = json.loads(result.stdout)
    assert result.exit_code == 0, result.output
    assert [entry["legacy_table"] for entry in report["tables"]] == [table]
    assert report["totals"]["migrated"] == count
    assert session_departments(engine) == {department}
    assert verified.exit_code == 0, verified.output


@pytest.mark.parametrize("command", ["legacy", "verify"])
def test_unknown_source_is_usage_error(legacy_url: str, engine: Engine, command: str) -> None:
    result = invoke("migrate", command, "--only", "cardio", "--db", legacy_url)

    assert result.exit_code == 2
    assert "'cardio'" in result.stderr
    assert "--only" in result.stderr
    assert "derma, diagnosis" in result.stderr
    assert run_rows(engine) == []
    assert unified_contents(engine)["sessions"] == []


@pytest.mark.parametrize("command", ["legacy", "verify"])
def test_batch_size_zero_is_usage_error(legacy_url: str, engine: Engine, command: str) -> None:
    result = invoke("migrate", command, "--batch-size", "0", "--db", legacy_url)

    assert result.exit_code == 2
    assert "--batch-size" in result.stderr
    assert run_rows(engine) == []


@pytest.mark.parametrize("command", ["legacy", "verify"])
def test_bad_legacy_tz_names_value(legacy_url: str, engine: Engine, command: str) -> None:
    result = invoke("migrate", command, "--legacy-tz", "Mars/Olympus", "--db", legacy_url)

    assert result.exit_code == 2
    assert "Mars/Olympus" in result.stderr
    assert "--legacy-tz" in result.stderr
    assert run_rows(engine) == []


def test_bad_legacy_tz_from_environment(legacy_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(LEGACY_TIME_ZONE_ENV, "Nowhere/City")

    result = invoke("migrate", "legacy", "--db", legacy_url)

    assert result.exit_code == 2
    assert "Nowhere/City" in result.stderr
    assert LEGACY_TIME_ZONE_ENV in result.stderr


def photo_created_at(engine: Engine) -> Any:
    with engine.connect() as connection:
        return connection.execute(
            select(SESSIONS.c.created_at).where(SESSIONS.c.id == DERMA_PHOTO_ID)
        ).scalar_one()


def test_legacy_tz_option_converts_times(legacy_url: str, engine: Engine) -> None:
    result = invoke("migrate", "legacy", "--legacy-tz", "Asia/Shanghai", "--db", legacy_url)
    same_zone = invoke("migrate", "verify", "--legacy-tz", "Asia/Shanghai", "--db", legacy_url)
    default_zone = invoke("migrate", "verify", "--db", legacy_url)

    assert result.exit_code == 0, result.output
    assert photo_created_at(engine).isoformat() == "2024-04-30T18:00:00+00:00"
    assert same_zone.exit_code == 0, same_zone.output
    assert default_zone.exit_code == 1


def test_legacy_tz_from_environment(
    legacy_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(LEGACY_TIME_ZONE_ENV, "Asia/Shanghai")

    result = invoke("migrate", "legacy", "--db", legacy_url)

    assert result.exit_code == 0, result.output
    assert photo_created_at(engine).isoformat() == "2024-04-30T18:00:00+00:00"


def test_missing_legacy_table_reported(engine: Engine, database_url: str) -> None:
    drop_legacy_tables(engine)
    DERMA_TABLE.create(engine)
    try:
        insert_legacy_rows(engine, DERMA_TABLE, realistic_derma_rows())

        result = invoke("migrate", "legacy", "--db", database_url)
    finally:
        drop_legacy_tables(engine)

    assert result.exit_code == 0, result.output
    assert "diagnosis_sessions: not found, skipped" in result.stdout
    assert f"migrated {DERMA_COUNT} session(s)" in result.stdout


def test_migrate_before_init_is_one_line_error(empty_database_url: str) -> None:
    result = invoke("migrate", "legacy", "--db", empty_database_url)

    assert result.exit_code == 1
    assert "medrecord init" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


# migrate verify


def test_verify_json_after_migration(legacy_url: str) -> None:
    invoke("migrate", "legacy", "--db", legacy_url)

    result = invoke("migrate", "verify", "--json", "--db", legacy_url)

    report = json.loads(result.stdout)
    assert result.exit_code == 0, result.output
    assert report["passed"] is True
    assert report["totals"]["verified"] == ROW_COUNT
    assert report["totals"]["verified_messages"] == MESSAGE_COUNT
    assert report["mismatches"] == []


def test_verify_before_migration_fails(legacy_url: str) -> None:
    result = invoke("migrate", "verify", "--json", "--db", legacy_url)

    report = json.loads(result.stdout)
    assert result.exit_code == 1
    assert report["passed"] is False
    assert {mismatch["kind"] for mismatch in report["mismatches"]} == {"not_migrated"}
    assert report["totals"]["mismatched"] == ROW_COUNT


def test_verify_failure_exits_1(legacy_url: str, engine: Engine) -> None:
    invoke("migrate", "legacy", "--db", legacy_url)
    with engine.begin() as connection:
        connection.execute(
            update(SESSIONS).where(SESSIONS.c.id == DERMA_PHOTO_ID).values(status="active")
        )

    result = invoke("migrate", "verify", "--db", legacy_url)

    assert result.exit_code == 1
    assert f"mismatch: derma_sessions '{DERMA_PHOTO_ID}': session_fields" in result.stdout
    assert "verification FAILED" in result.stdout


# migrate retire-legacy


def test_retire_refused_before_verification(legacy_url: str, engine: Engine) -> None:
    invoke("migrate", "legacy", "--db", legacy_url)

    result = invoke("migrate", "retire-legacy", "--db", legacy_url)

    assert result.exit_code == 1
    assert "refusing to retire the legacy tables" in result.stderr
    assert "medrecord migrate verify" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    with engine.connect() as connection:
        assert inspect(connection).has_table("derma_sessions")


def test_retire_after_verification(legacy_url: str, engine: Engine) -> None:
    invoke("migrate", "legacy", "--db", legacy_url)
    invoke("migrate", "verify", "--db", legacy_url)
    derma = snapshot_legacy_table(engine, "derma_sessions")

    result = invoke("migrate", "retire-legacy", "--json", "--db", legacy_url)

    report = json.loads(result.stdout)
    assert result.exit_code == 0, result.output
    assert report["renamed"] == {
        "derma_sessions": "derma_sessions_deprecated",
        "diagnosis_sessions": "diagnosis_sessions_deprecated",
    }
    assert snapshot_legacy_table(engine, "derma_sessions_deprecated") == derma
    with engine.connect() as connection:
        assert not inspect(connection).has_table("derma_sessions")


def test_retire_with_quarantined_rows_needs_consent(legacy_url: str, engine: Engine) -> None:
    add_unknown_role_row(engine)
    migrated = invoke("migrate", "legacy", "--db", legacy_url)
    verified = invoke("migrate", "verify", "--db", legacy_url)

    refused = invoke("migrate", "retire-legacy", "--db", legacy_url)
    accepted = invoke("migrate", "retire-legacy", "--accept-quarantined", "--db", legacy_url)

    assert migrated.exit_code == 1
    assert verified.exit_code == 0, verified.output
    assert "1 quarantined" in verified.stdout
    assert refused.exit_code == 1
    assert "--accept-quarantined" in refused.stderr
    assert accepted.exit_code == 0, accepted.output
    assert "retired 2 legacy table(s)" in accepted.stdout
