"""Properties of the legacy migration over generated legacy tables, on SQLite and PostgreSQL.

Each example fills both legacy tables with valid rows and rows with one defect each, some
ids shared between the tables. It migrates them with a generated batch size. Every legacy
row must then be migrated or quarantined, exactly once, with its messages in legacy order.
The migration commits per batch, so every example empties the tables first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from medrecord import DepartmentRegistry
from medrecord.legacy import MigrationReport, migrate_legacy, verify_migration
from medrecord.legacy.checksum import canonical_json, checksum_form
from tests.legacy_strategies import (
    DEPARTMENTS,
    DERMA_TABLE,
    LEGACY_TABLES,
    LegacyContent,
    build_message,
    build_row,
    empty_migration_tables,
    legacy_contents,
    legacy_snapshot,
    read_messages,
    store_content,
    unified_snapshot,
)

MAX_EXAMPLES = {"sqlite": 30, "postgresql": 15}


def property_settings(backend: str) -> Callable[[Any], Any]:
    """Return the hypothesis settings of one property on one backend."""
    return settings(
        max_examples=MAX_EXAMPLES[backend],
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )


def batch_sizes() -> st.SearchStrategy[int]:
    """Generate batch sizes: mostly smaller than the tables, sometimes larger."""
    return st.one_of(st.integers(min_value=1, max_value=4), st.integers(min_value=5, max_value=40))


def migrate(
    engine: Engine, registry: DepartmentRegistry, content: LegacyContent, batch_size: int
) -> MigrationReport:
    return migrate_legacy(
        engine,
        registry=registry,
        batch_size=batch_size,
        legacy_time_zone=content.legacy_time_zone,
    )


def test_every_row_migrated_or_quarantined(
    engine: Engine, backend: str, installed_registry: DepartmentRegistry
) -> None:
    @property_settings(backend)
    @given(content=legacy_contents(backend), batch_size=batch_sizes())
    def check(content: LegacyContent, batch_size: int) -> None:
        empty_migration_tables(engine, legacy=True)
        store_content(engine, content)
        legacy_before = legacy_snapshot(engine)

        report = migrate(engine, installed_registry, content, batch_size)
        tables = unified_snapshot(engine)

        ledger = {(entry["legacy_table"], entry["legacy_id"]): entry for entry in tables.ledger}
        quarantine = {
            (entry["legacy_table"], entry["legacy_id"]): entry["reason"]
            for entry in tables.quarantine
        }
        for table in LEGACY_TABLES:
            source = {row.id for row in content.rows_of(table)}
            migrated = {legacy_id for name, legacy_id in ledger if name == table}
            quarantined = {legacy_id for name, legacy_id in quarantine if name == table}
            assert migrated & quarantined == set(), f"{table}: migrated and quarantined"
            assert migrated | quarantined == source, f"{table}: rows lost or invented"

        expected = content.expected_reasons()
        assert quarantine == {key: reason for key, reason in expected.items() if reason}
        assert set(ledger) == {key for key, reason in expected.items() if reason is None}

        sessions = {session["id"]: session for session in tables.sessions}
        assert set(sessions) == {legacy_id for _, legacy_id in ledger}
        for row in content.rows:
            entry = ledger.get((row.table, row.id))
            if entry is None:
                continue
            where = f"{row.table} row {row.id!r}"
            assert entry["session_id"] == row.id, where
            assert sessions[row.id]["agent_type"] == DEPARTMENTS[row.table], where
            assert entry["message_count"] == len(row.messages), where

            stored = [
                (
                    message["sender"],
                    message["content"],
                    message["message_type"],
                    as_json_number_text(message["attachments"]),
                    as_json_number_text(message["metadata"]),
                    message["created_at"],
                )
                for message in read_messages(engine, row.id)
            ]
            expected_messages = [
                (
                    message.sender,
                    message.content,
                    message.message_type,
                    as_json_number_text(message.attachments),
                    as_json_number_text(message.metadata),
                    message.created_at,
                )
                for message in row.messages
            ]
            assert stored == expected_messages, where

        migrated_rows = [row for row in content.rows if (row.table, row.id) in ledger]
        message_total = sum(len(row.messages) for row in migrated_rows)
        assert len(tables.messages) == message_total
        assert report.rows == len(content.rows)
        assert report.migrated == len(ledger)
        assert report.migrated_messages == message_total
        assert report.quarantined == len(quarantine)
        assert report.already_migrated == 0
        assert legacy_snapshot(engine) == legacy_before

    check()


def test_second_run_adds_nothing(
    engine: Engine, backend: str, installed_registry: DepartmentRegistry
) -> None:
    @property_settings(backend)
    @given(content=legacy_contents(backend), batch_size=batch_sizes(), rerun_size=batch_sizes())
    def check(content: LegacyContent, batch_size: int, rerun_size: int) -> None:
        empty_migration_tables(engine, legacy=True)
        store_content(engine, content)
        legacy_before = legacy_snapshot(engine)

        first = migrate(engine, installed_registry, content, batch_size)
        after_first = unified_snapshot(engine)
        second = migrate(engine, installed_registry, content, rerun_size)

        assert second.migrated == 0
        assert second.migrated_messages == 0
        assert second.already_migrated == first.migrated
        assert second.quarantined == first.quarantined
        assert unified_snapshot(engine) == after_first

        verification = verify_migration(
            engine,
            registry=installed_registry,
            batch_size=rerun_size,
            legacy_time_zone=content.legacy_time_zone,
        )
        assert [asdict(mismatch) for mismatch in verification.mismatches] == []
        assert verification.passed
        assert sum(table.verified for table in verification.tables) == first.migrated
        assert verification.quarantined == first.quarantined
        assert legacy_snapshot(engine) == legacy_before

    check()


def as_json_number_text(value: Any) -> str | None:
    """Return a JSON value as canonical text in which equal decimal numbers read alike."""
    return checksum_form(canonical_json(value))


def test_json_floats_survive_migration(
    engine: Engine,
    backend: str,
    installed_registry: DepartmentRegistry,
    request: pytest.FixtureRequest,
) -> None:

    @property_settings(backend)
    @given(number=st.floats(allow_nan=False, allow_infinity=False))
    @example(number=1e16)
    @example(number=-0.0)
    def check(number: float) -> None:
        empty_migration_tables(engine, legacy=True)
        message = build_message(
            DERMA_TABLE,
            role="user",
            content="红疹",
            task_type=None,
            image_url=None,
            images=None,
            extra={"score": number},
            instant=dt.datetime(2024, 5, 1, 10, tzinfo=dt.UTC),
            time_style="utc_z",
            zone=dt.UTC,
        )
        row = build_row(
            DERMA_TABLE,
            "float-row",
            user_id=1,
            created_at=dt.datetime(2024, 5, 1, 10),
            updated_at=None,
            state={"latest_interpretation": {"value": number}},
            last_message=None,
            messages=[message],
        )
        content = LegacyContent(rows=(row,), legacy_time_zone="UTC")
        store_content(engine, content)

        report = migrate(engine, installed_registry, content, batch_size=1)
        assert report.migrated == 1

        [stored] = read_messages(engine, row.id)
        # JSONB may give the number back as an integer, or -0.0 as 0.0, but as JSON text it
        # is the same decimal number.
        score = stored["metadata"]["legacy"]["fields"]["score"]
        assert as_json_number_text(score) == as_json_number_text(number)
        verification = verify_migration(engine, registry=installed_registry)
        assert [asdict(mismatch) for mismatch in verification.mismatches] == []

    check()
