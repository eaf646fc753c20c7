"""Killing the legacy migration at any point, and running two migrations at once.

A child process (tests/support/legacy_migration_child.py) migrates a legacy database of
a few hundred rows, with malformed rows and ids shared between the two tables. It sends
itself SIGKILL after a chosen SQL statement, which can be inside a batch's transaction, or
after a chosen batch. Each test first records the tables of one uninterrupted run of the
same content as the reference. After a kill, the tables must hold only whole batches of
that reference, and a re-run must end with exactly the reference tables.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from medrecord import DepartmentRegistry, create_engine
from medrecord.legacy import migrate_legacy, verify_migration
from tests.legacy_strategies import (
    LEGACY_TABLES,
    LegacyContent,
    UnifiedSnapshot,
    empty_migration_tables,
    legacy_snapshot,
    sample_legacy_content,
    store_content,
    unified_snapshot,
)
from tests.support.legacy_migration_child import DATABASE_URL_ENV

CHILD_SCRIPT = Path(__file__).parent / "support" / "legacy_migration_child.py"
REPOSITORY_ROOT = Path(__file__).parent.parent

CHILD_BATCH_SIZE = 25
RERUN_BATCH_SIZE = 40
"""The re-run uses another batch size, as an operator retrying with other options might."""

CONCURRENT_BATCH_SIZE = 10
CHILD_TIMEOUT_SECONDS = 180

LOCK_TIMEOUT = "60s"
"""PostgreSQL lock_timeout of the re-run: a lock that a killed child left behind fails the
test after this long instead of hanging it."""

KILLED = -signal.SIGKILL


@dataclass(frozen=True)
class Reference:
    """The result of one uninterrupted run: its tables, and what its child process counted."""

    tables: UnifiedSnapshot
    statements: int
    progress_calls: int
    totals: dict[str, int]


@dataclass(frozen=True)
class LegacyDatabase:
    """A test database with the sample legacy content and its reference migration.

    ``registry`` has the installed departments, which the child process loads too.
    """

    engine: Engine
    rerun_engine: Engine
    url: str
    registry: DepartmentRegistry
    content: LegacyContent
    legacy_rows: dict[str, list[tuple[Any, ...]]]
    reference: Reference


def child_command(*arguments: str, content: LegacyContent) -> list[str]:
    return [
        sys.executable,
        str(CHILD_SCRIPT),
        "--legacy-time-zone",
        content.legacy_time_zone,
        *arguments,
    ]


def child_environment(url: str) -> dict[str, str]:
    return {**os.environ, DATABASE_URL_ENV: url}


def run_child(
    url: str, content: LegacyContent, *arguments: str
) -> subprocess.CompletedProcess[str]:
    """Run one migration child to its end (or its kill) and return its result."""
    return subprocess.run(
        child_command(*arguments, content=content),
        env=child_environment(url),
        cwd=REPOSITORY_ROOT,
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT_SECONDS,
        check=False,
    )


def child_output(completed: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """Return the JSON line a child printed, after checking that it finished normally."""
    assert completed.returncode == 0, f"the child failed:\n{completed.stderr}"
    output: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return output


@pytest.fixture
def rerun_engine(engine: Engine, database_url: str) -> Iterator[Engine]:
    """A second engine on the test database whose lock waits time out on PostgreSQL."""
    if engine.dialect.name == "postgresql":
        options = f"-c TimeZone=UTC -c lock_timeout={LOCK_TIMEOUT}"
        second = create_engine(database_url, connect_args={"options": options})
    else:
        second = create_engine(database_url)
    try:
        yield second
    finally:
        second.dispose()


@pytest.fixture
def legacy_database(
    engine: Engine,
    rerun_engine: Engine,
    database_url: str,
    backend: str,
    installed_registry: DepartmentRegistry,
) -> LegacyDatabase:
    """Store the sample legacy content, migrate it once in a child, and keep that result.

    The migration's tables are emptied afterwards, so each test starts unmigrated.
    """
    content = sample_legacy_content(backend)
    empty_migration_tables(engine, legacy=True)
    store_content(engine, content)
    legacy_rows = legacy_snapshot(engine)

    completed = run_child(database_url, content, "--batch-size", str(CHILD_BATCH_SIZE))
    output = child_output(completed)
    reference = Reference(
        tables=unified_snapshot(engine),
        statements=output["statements"],
        progress_calls=output["progress_calls"],
        totals=output["totals"],
    )
    assert reference.tables.ledger, "the reference run migrated nothing"
    assert reference.tables.quarantine, "the reference run quarantined nothing"
    empty_migration_tables(engine, legacy=False)

    return LegacyDatabase(
        engine=engine,
        rerun_engine=rerun_engine,
        url=database_url,
        registry=installed_registry,
        content=content,
        legacy_rows=legacy_rows,
        reference=reference,
    )


def kill_child(database: LegacyDatabase, *arguments: str) -> None:
    """Run a child that must die by SIGKILL at the point the arguments choose."""
    completed = run_child(
        database.url, database.content, "--batch-size", str(CHILD_BATCH_SIZE), *arguments
    )
    assert completed.returncode == KILLED, (
        f"the child was not killed by {arguments}: exit code {completed.returncode}\n"
        f"{completed.stderr}"
    )


def accounted_rows(tables: UnifiedSnapshot, legacy_table: str) -> int:
    """Count the legacy rows of a table that are migrated or quarantined."""
    entries = [*tables.ledger, *tables.quarantine]
    return sum(1 for entry in entries if entry["legacy_table"] == legacy_table)


def messages_by_session(tables: UnifiedSnapshot) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for message in tables.messages:
        grouped.setdefault(message["session_id"], []).append(message)
    return grouped


def check_whole_batches(database: LegacyDatabase, label: str) -> UnifiedSnapshot:
    """Check that the tables after a kill hold whole committed batches of the reference."""
    partial = unified_snapshot(database.engine)
    reference = database.reference.tables

    for legacy_table in LEGACY_TABLES:
        size = len(database.content.rows_of(legacy_table))
        accounted = accounted_rows(partial, legacy_table)
        assert accounted == size or accounted % CHILD_BATCH_SIZE == 0, (
            f"{label}: {accounted} of {size} {legacy_table} rows accounted for, "
            f"not whole batches of {CHILD_BATCH_SIZE}"
        )

    assert all(entry in reference.ledger for entry in partial.ledger), label
    assert all(entry in reference.quarantine for entry in partial.quarantine), label
    assert all(session in reference.sessions for session in partial.sessions), label
    session_ids = {session["id"] for session in partial.sessions}
    assert session_ids == {entry["session_id"] for entry in partial.ledger}, label

    reference_messages = messages_by_session(reference)
    partial_messages = messages_by_session(partial)
    assert set(partial_messages) <= session_ids, label
    for session_id in session_ids:
        assert partial_messages.get(session_id, []) == reference_messages.get(session_id, []), (
            f"{label}: messages of session {session_id!r}"
        )
    return partial


def rerun_and_compare(database: LegacyDatabase, partial: UnifiedSnapshot, label: str) -> None:
    """Re-run the migration in this process and compare every table with the reference."""
    report = migrate_legacy(
        database.rerun_engine,
        registry=database.registry,
        batch_size=RERUN_BATCH_SIZE,
        legacy_time_zone=database.content.legacy_time_zone,
    )
    reference = database.reference

    assert report.rows == reference.totals["rows"], label
    assert report.already_migrated == len(partial.ledger), label
    assert report.migrated == reference.totals["migrated"] - len(partial.ledger), label
    assert report.quarantined == reference.totals["quarantined"], label

    final = unified_snapshot(database.engine)
    assert final.sessions == reference.tables.sessions, label
    assert final.messages == reference.tables.messages, label
    assert final.ledger == reference.tables.ledger, label
    assert final.quarantine == reference.tables.quarantine, label
    assert legacy_snapshot(database.engine) == database.legacy_rows, label

    verification = verify_migration(
        database.rerun_engine,
        registry=database.registry,
        legacy_time_zone=database.content.legacy_time_zone,
    )
    assert [asdict(mismatch) for mismatch in verification.mismatches] == [], label
    assert verification.passed, label


def kill_and_resume(database: LegacyDatabase, kills: Sequence[Sequence[str]]) -> UnifiedSnapshot:
    """Kill a child at each point in turn, then re-run; return the tables after the kills."""
    label = " then ".join(" ".join(kill) for kill in kills)
    empty_migration_tables(database.engine, legacy=False)
    partial = UnifiedSnapshot(sessions=[], messages=[], ledger=[], quarantine=[])
    for kill in kills:
        kill_child(database, *kill)
        partial = check_whole_batches(database, label)
    rerun_and_compare(database, partial, label)
    return partial


def test_kill_after_any_statement(legacy_database: LegacyDatabase) -> None:
    total = legacy_database.reference.statements
    points = sorted({1, 3, total // 6, total // 3, total // 2, 2 * total // 3, total - 2, total})
    partial_sizes = []
    for point in points:
        partial = kill_and_resume(legacy_database, [["--kill-after-statement", str(point)]])
        partial_sizes.append(len(partial.ledger))

    migrated = len(legacy_database.reference.tables.ledger)
    assert any(0 < size < migrated for size in partial_sizes), (
        f"no kill landed in the middle of the run: {partial_sizes} of {migrated} migrated"
    )


@pytest.mark.parametrize(
    ("prefix", "occurrence"),
    [
        ("INSERT INTO sessions", 2),
        ("INSERT INTO messages", 3),
        ("INSERT INTO legacy_migration_ledger", 5),
        ("DELETE FROM legacy_migration_quarantine", 9),
        ("INSERT INTO legacy_migration_quarantine", 4),
    ],
)
def test_kill_inside_batch_transaction(
    legacy_database: LegacyDatabase, backend: str, prefix: str, occurrence: int
) -> None:
    kill = ["--statement-prefix", prefix, "--kill-after-statement", str(occurrence)]
    if backend == "postgresql" and prefix == "INSERT INTO messages":
        # PostgreSQL gets the messages by COPY, so the kill lands inside the COPY instead.
        kill = ["--kill-after-copied-rows", str(occurrence * CHILD_BATCH_SIZE)]
    partial = kill_and_resume(legacy_database, [kill])

    # The killed statement's batch was never committed, so earlier batches are all there is.
    accounted = sum(accounted_rows(partial, table) for table in LEGACY_TABLES)
    assert accounted < legacy_database.reference.totals["rows"]


def test_kill_between_batches(legacy_database: LegacyDatabase) -> None:
    calls = legacy_database.reference.progress_calls
    sizes = {table: len(legacy_database.content.rows_of(table)) for table in LEGACY_TABLES}
    batches = [math.ceil(sizes[table] / CHILD_BATCH_SIZE) for table in LEGACY_TABLES]
    assert calls == sum(batches)

    for call in sorted({1, calls // 2, batches[0], calls - 1, calls}):
        partial = kill_and_resume(legacy_database, [["--kill-after-progress", str(call)]])

        # After the Nth progress callback exactly the first N batches are committed.
        first_table, second_table = LEGACY_TABLES
        expected_first = min(call * CHILD_BATCH_SIZE, sizes[first_table])
        expected_second = min(max(call - batches[0], 0) * CHILD_BATCH_SIZE, sizes[second_table])
        assert accounted_rows(partial, first_table) == expected_first, f"progress {call}"
        assert accounted_rows(partial, second_table) == expected_second, f"progress {call}"


def test_kill_twice_then_resume(legacy_database: LegacyDatabase) -> None:
    kill_and_resume(
        legacy_database,
        [
            ["--kill-after-progress", "3"],
            [
                "--statement-prefix",
                "INSERT INTO legacy_migration_ledger",
                "--kill-after-statement",
                "4",
            ],
        ],
    )


def test_concurrent_runs_match_one_run(legacy_database: LegacyDatabase) -> None:
    database = legacy_database
    empty_migration_tables(database.engine, legacy=False)
    command = child_command(
        "--batch-size", str(CONCURRENT_BATCH_SIZE), "--wait-for-go", content=database.content
    )
    children = [
        subprocess.Popen(
            command,
            env=child_environment(database.url),
            cwd=REPOSITORY_ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        for child in children:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "ready"
        for child in children:
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        results = [child.communicate(timeout=CHILD_TIMEOUT_SECONDS) for child in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()

    outputs = []
    for child, (stdout, stderr) in zip(children, results, strict=True):
        assert child.returncode == 0, f"a concurrent migration failed:\n{stderr}"
        outputs.append(json.loads(stdout.strip().splitlines()[-1])["totals"])

    reference = database.reference
    assert sum(output["migrated"] for output in outputs) == reference.totals["migrated"]
    for output in outputs:
        assert output["rows"] == reference.totals["rows"]
        assert output["quarantined"] == reference.totals["quarantined"]
        assert output["migrated"] + output["already_migrated"] == reference.totals["migrated"]

    final = unified_snapshot(database.engine)
    assert final.sessions == reference.tables.sessions
    assert final.messages == reference.tables.messages
    assert final.ledger == reference.tables.ledger
    assert final.quarantine == reference.tables.quarantine
    assert legacy_snapshot(database.engine) == database.legacy_rows
