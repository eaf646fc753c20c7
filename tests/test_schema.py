"""Alembic revisions: create, adopt existing tables, downgrade, and match the models."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect
from sqlalchemy.orm import Session as DatabaseSession

from medrecord import Base, ChatSession, ConfigurationError, DepartmentRegistry, MedicalEvent
from medrecord.schema import VERSION_TABLE, alembic_config, current_revision, upgrade_schema
from tests.factories import DEFAULT_STARTED_AT, aggregate_session, make_session

JSON_COLUMNS = [
    ("sessions", "agent_state"),
    ("messages", "attachments"),
    ("messages", "metadata"),
    ("medical_events", "ai_analysis"),
    ("medical_events", "sessions"),
]


def drop_everything(engine: Engine) -> None:
    with engine.begin() as connection:
        for table in (
            "messages",
            "medical_events",
            "sessions",
            "legacy_migration_ledger",
            "legacy_migration_quarantine",
            "legacy_migration_runs",
            VERSION_TABLE,
        ):
            connection.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")


@pytest.fixture
def empty_engine(engine: Engine) -> Iterator[Engine]:
    """The test's engine with every table dropped, as on a new database.

    The tables are created again afterwards, because PostgreSQL tests share one database
    per module.
    """
    drop_everything(engine)
    yield engine
    drop_everything(engine)
    Base.metadata.create_all(engine)


def model_differences(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    return [difference for difference in differences if VERSION_TABLE not in str(difference)]


def test_upgrade_creates_tables_matching_models(empty_engine: Engine) -> None:
    revision = upgrade_schema(empty_engine)

    assert revision == "0003"
    assert model_differences(empty_engine) == []


def test_upgrade_twice_changes_nothing(empty_engine: Engine) -> None:
    upgrade_schema(empty_engine)

    assert upgrade_schema(empty_engine) == "0003"
    assert current_revision(empty_engine) == "0003"


def test_existing_tables_need_explicit_adoption(empty_engine: Engine) -> None:
    upgrade_schema(empty_engine, revision="0001")
    with empty_engine.begin() as connection:
        connection.exec_driver_sql(f"DROP TABLE {VERSION_TABLE}")

    with pytest.raises(ConfigurationError, match="--existing-tables"):
        upgrade_schema(empty_engine)

    assert upgrade_schema(empty_engine, existing_tables=True) == "0003"
    assert "event_date" in {
        column["name"] for column in inspect(empty_engine).get_columns("medical_events")
    }
    assert model_differences(empty_engine) == []


def test_adoption_needs_all_three_tables(empty_engine: Engine) -> None:
    upgrade_schema(empty_engine, revision="0001")
    with empty_engine.begin() as connection:
        connection.exec_driver_sql(f"DROP TABLE {VERSION_TABLE}")
        connection.exec_driver_sql("DROP TABLE medical_events")

    with pytest.raises(ConfigurationError, match="medical_events"):
        upgrade_schema(empty_engine, existing_tables=True)


def test_downgrade_to_base_removes_tables(empty_engine: Engine) -> None:
    upgrade_schema(empty_engine)

    with empty_engine.begin() as connection:
        command.downgrade(alembic_config(connection), "0002")
    assert not {"legacy_migration_runs", "legacy_migration_ledger"} & set(
        inspect(empty_engine).get_table_names()
    )

    with empty_engine.begin() as connection:
        command.downgrade(alembic_config(connection), "0001")
    assert "event_date" not in {
        column["name"] for column in inspect(empty_engine).get_columns("medical_events")
    }

    with empty_engine.begin() as connection:
        command.downgrade(alembic_config(connection), "base")
    remaining = set(inspect(empty_engine).get_table_names()) - {VERSION_TABLE}
    assert remaining == set()
    assert current_revision(empty_engine) is None


# json and timestamp without time zone are PostgreSQL column types of production tables.
@pytest.mark.parametrize(
    "backend", [pytest.param("postgresql", marks=pytest.mark.postgresql)], indirect=True
)
def test_existing_json_and_naive_timestamp_columns_work(
    empty_engine: Engine, registry: DepartmentRegistry
) -> None:
    upgrade_schema(empty_engine)
    with empty_engine.begin() as connection:
        for table, column in JSON_COLUMNS:
            connection.exec_driver_sql(
                f"ALTER TABLE {table} ALTER COLUMN {column} TYPE json USING {column}::json"
            )
        connection.exec_driver_sql(
            "ALTER TABLE sessions ALTER COLUMN created_at TYPE timestamp without time zone"
        )

    with DatabaseSession(empty_engine) as db:
        chat_session = make_session(db, agent_state={"risk_level": "高"}, image_positions=[0])
        session_id = chat_session.id
        result = aggregate_session(db, registry, chat_session)
        db.commit()

    with DatabaseSession(empty_engine) as db:
        event = db.get(MedicalEvent, result.event_id)
        stored = db.get(ChatSession, session_id)
        assert event is not None and stored is not None
        assert event.risk_level == "high"
        assert event.attachment_count == 1
        assert stored.created_at == DEFAULT_STARTED_AT
