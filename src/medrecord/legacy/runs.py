"""Recording migration, verification and retirement runs in ``legacy_migration_runs``."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Engine, Table, insert, inspect, select, update

from medrecord.clock import utc_now
from medrecord.errors import ConfigurationError
from medrecord.models.legacy_migration import (
    LegacyLedgerEntry,
    LegacyMigrationRun,
    LegacyQuarantineEntry,
)

__all__ = ["LEDGER", "QUARANTINE", "RUNS", "finish_run", "require_bookkeeping", "start_run"]

RUNS = cast(Table, LegacyMigrationRun.__table__)
LEDGER = cast(Table, LegacyLedgerEntry.__table__)
QUARANTINE = cast(Table, LegacyQuarantineEntry.__table__)


def require_bookkeeping(engine: Engine) -> None:
    """Raise :class:`ConfigurationError` unless the migration's tables exist."""
    with engine.connect() as connection:
        inspector = inspect(connection)
        missing = [
            table.name
            for table in (RUNS, LEDGER, QUARANTINE)
            if not inspector.has_table(table.name)
        ]

    if missing:
        raise ConfigurationError(
            f"the database has no table(s) {', '.join(missing)}; run 'medrecord init' to "
            "create or upgrade medrecord's tables first"
        )


def start_run(engine: Engine, kind: str) -> int:
    """Record that a run of ``kind`` started, committed at once; return its id."""
    with engine.begin() as connection:
        statement = (
            insert(RUNS)
            .values(kind=kind, status="running", started_at=utc_now())
            .returning(RUNS.c.id)
        )
        return int(connection.execute(statement).scalar_one())


def finish_run(engine: Engine, run_id: int, status: str, report: dict[str, Any] | None) -> None:
    """Record the end of a run with its status and report."""
    with engine.begin() as connection:
        connection.execute(
            update(RUNS)
            .where(RUNS.c.id == run_id)
            .values(status=status, finished_at=utc_now(), report=report)
        )


def latest_run(engine: Engine, kind: str) -> dict[str, Any] | None:
    """Return the newest run of ``kind`` as a mapping of its columns, or None."""
    with engine.connect() as connection:
        row = (
            connection.execute(
                select(RUNS).where(RUNS.c.kind == kind).order_by(RUNS.c.id.desc()).limit(1)
            )
            .mappings()
            .first()
        )
    return dict(row) if row is not None else None
