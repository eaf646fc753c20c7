"""The migration engine: legacy rows into ``sessions`` and ``messages``, batch by batch.

Each batch is one transaction that reads the next legacy rows in id order, skips those the
ledger lists, maps the others, and writes the new sessions, their messages, their ledger
entries and the batch's quarantine entries together. A batch either commits whole or not
at all, so a run killed at any point leaves only whole batches, and the next run skips
them by the ledger and finishes the rest. Every statement is set-based: one lookup of the
ledger and one of existing session ids per batch, then bulk inserts.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, delete, exists, insert, select, text
from sqlalchemy.exc import IntegrityError

from medrecord.clock import resolve_time_zone, utc_now
from medrecord.departments.registry import DepartmentRegistry
from medrecord.errors import LegacyRowError
from medrecord.legacy.bulk import insert_ledger_entries, insert_messages, insert_sessions
from medrecord.legacy.encoding import EncodedSession, encode_session
from medrecord.legacy.mapping import LegacyMapper, MappedSession, ProblemReason
from medrecord.legacy.registry import legacy_mappers, select_mappers
from medrecord.legacy.report import MigrationReport, QuarantinedRow, TableMigration
from medrecord.legacy.runs import LEDGER, QUARANTINE, finish_run, require_bookkeeping, start_run
from medrecord.legacy.source import (
    LegacyColumns,
    chunked,
    decode_row,
    inspect_legacy_table,
    read_batch,
    read_rows,
    row_count,
)
from medrecord.models.chat_session import ChatSession
from medrecord.models.message import Message

__all__ = ["DEFAULT_BATCH_SIZE", "MigrationProgress", "migrate_legacy"]

logger = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 1000
"""Legacy rows read, mapped and written per transaction."""

BATCH_ATTEMPTS = 3
"""How often a batch runs when a session id is taken concurrently, before the run fails."""

MIGRATION_LOCK_KEY = 0x6D656472
"""PostgreSQL advisory lock that makes concurrent migration batches take turns."""

_SESSIONS = cast(Table, ChatSession.__table__)
_MESSAGES = cast(Table, Message.__table__)


@dataclass(frozen=True)
class MigrationProgress:
    """Progress of a run: rows of ``legacy_table`` processed so far, out of ``total``."""

    legacy_table: str
    processed: int
    total: int


ProgressCallback = Callable[[MigrationProgress], None]


def migrate_legacy(
    engine: Engine,
    *,
    registry: DepartmentRegistry,
    only: Sequence[str] | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    dry_run: bool = False,
    legacy_time_zone: str | dt.tzinfo = "UTC",
    progress: ProgressCallback | None = None,
) -> MigrationReport:
    """Migrate the legacy tables into unified sessions; return what was done.

    ``only`` limits the run to the named sources (``"derma"``, ``"diagnosis"``).
    Legacy times without an offset are read in ``legacy_time_zone``. With ``dry_run``
    nothing is written: the report lists what would be migrated and every problem found.
    The engine commits each batch itself, so pass an engine, not a session; the legacy
    tables are only read. Running it again adds nothing that is already migrated.
    """
    if batch_size < 1:
        raise ValueError(f"invalid batch size {batch_size}: read at least 1 row per batch")
    zone = resolve_time_zone(legacy_time_zone)
    mappers = select_mappers(legacy_mappers(registry), only)
    require_bookkeeping(engine)

    run_id = None if dry_run else start_run(engine, "migrate")
    report = MigrationReport(dry_run=dry_run, run_id=run_id)

    try:
        earlier: list[_Batch] = []
        for mapper in mappers:
            table_report, batch = _migrate_table(
                engine,
                mapper,
                registry,
                report,
                batch_size=batch_size,
                zone=zone,
                progress=progress,
                earlier=earlier,
            )
            report.tables.append(table_report)
            if batch is not None:
                earlier.append(batch)
    except BaseException:
        if run_id is not None:
            finish_run(engine, run_id, "failed", None)
        raise

    if run_id is not None:
        summary = report.to_dict()
        summary.pop("quarantine")
        finish_run(engine, run_id, "finished", summary)

    logger.info(
        "legacy migration%s: %d row(s), %d migrated with %d message(s), %d already migrated, "
        "%d quarantined",
        " (dry run)" if dry_run else "",
        report.rows,
        report.migrated,
        report.migrated_messages,
        report.already_migrated,
        report.quarantined,
    )
    return report


def _migrate_table(
    engine: Engine,
    mapper: LegacyMapper,
    registry: DepartmentRegistry,
    report: MigrationReport,
    *,
    batch_size: int,
    zone: dt.tzinfo,
    progress: ProgressCallback | None,
    earlier: Sequence[_Batch],
) -> tuple[TableMigration, _Batch | None]:
    table_report = TableMigration(
        source=mapper.name, legacy_table=mapper.table_name, department=mapper.department
    )
    with engine.connect() as connection:
        columns = inspect_legacy_table(connection, mapper)
        total = row_count(connection, mapper) if columns is not None else 0

    if columns is None:
        logger.info("legacy table %s does not exist; skipped", mapper.table_name)
        table_report.present = False
        return table_report, None

    table_report.missing_columns = list(columns.missing)
    table_report.unmapped_columns = list(columns.unmapped)
    if columns.missing:
        logger.warning(
            "legacy table %s lacks column(s) %s; they are read as empty",
            mapper.table_name,
            ", ".join(columns.missing),
        )

    if not report.dry_run:
        _forget_deleted_rows(engine, mapper)

    batch = _Batch(mapper, columns, registry, zone, report, table_report, earlier)
    after_id: str | None = None
    while True:
        rows = _run_batch(engine, batch, after_id, batch_size)
        if not rows:
            break

        after_id = rows[-1]["id"]
        logger.info(
            "legacy table %s: %d of %d row(s) processed",
            mapper.table_name,
            table_report.rows,
            total,
        )
        if progress is not None:
            progress(
                MigrationProgress(
                    mapper.table_name, table_report.rows, max(total, table_report.rows)
                )
            )

    return table_report, batch


def _run_batch(
    engine: Engine, batch: _Batch, after_id: str | None, batch_size: int
) -> list[dict[str, Any]]:
    """Read and migrate the rows after ``after_id`` in one transaction; return the rows read.

    A session id that another writer inserts between the lookup and the insert fails the
    batch with an integrity error. The batch then runs again, so the lookup finds the id
    and quarantines its row.
    """
    for attempt in range(1, BATCH_ATTEMPTS + 1):
        try:
            with _transaction(engine, write=not batch.report.dry_run) as connection:
                rows = read_batch(
                    connection, batch.mapper, batch.columns, after_id=after_id, limit=batch_size
                )
                if rows:
                    batch.process(connection, rows)
            return rows
        except IntegrityError:
            if attempt == BATCH_ATTEMPTS:
                raise
            logger.warning(
                "legacy table %s: a session id was taken during the batch after id %r; "
                "running the batch again (attempt %d)",
                batch.mapper.table_name,
                after_id,
                attempt + 1,
            )
    raise AssertionError("unreachable")


@contextmanager
def _transaction(engine: Engine, *, write: bool) -> Iterator[Connection]:
    """Open one batch's transaction; a writing batch first takes the migration lock.

    On PostgreSQL the lock is a transaction-scoped advisory lock. On SQLite, medrecord's
    engines begin every transaction with ``BEGIN IMMEDIATE``, which already takes the
    database's write lock.
    """
    if not write:
        with engine.connect() as connection:
            yield connection
            connection.rollback()
        return

    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
            )
        yield connection


class _Batch:
    """Maps and writes one batch of legacy rows of one table."""

    def __init__(
        self,
        mapper: LegacyMapper,
        columns: LegacyColumns,
        registry: DepartmentRegistry,
        zone: dt.tzinfo,
        report: MigrationReport,
        table_report: TableMigration,
        earlier: Sequence[_Batch] = (),
    ) -> None:
        self.mapper = mapper
        self.earlier = earlier
        self.columns = columns
        self.department = registry.departments[mapper.department]
        self.zone = zone
        self.report = report
        self.table_report = table_report

    def process(self, connection: Connection, rows: list[dict[str, Any]]) -> None:
        """Migrate one batch of raw legacy rows within the caller's transaction."""
        table = self.mapper.table_name
        ids = [str(row["id"]) for row in rows]
        migrated = _ledger_ids(connection, table, ids)

        problems: list[QuarantinedRow] = []
        candidates: list[EncodedSession] = []
        for row in rows:
            legacy_id = str(row["id"])
            if legacy_id in migrated:
                continue
            try:
                decoded = decode_row(self.mapper, self.columns, row)
                mapped = self.mapper.map_row(
                    decoded, department=self.department, legacy_time_zone=self.zone
                )
                candidates.append(encode_session(mapped, table))
            except LegacyRowError as error:
                problems.append(QuarantinedRow(table, legacy_id, error.reason, error.detail))

        candidate_ids = [encoded.session.id for encoded in candidates]
        sessions_in_use = _existing_sessions(connection, candidate_ids)
        if self.report.dry_run:
            # Nothing was written for the tables before this one, so look up their ids.
            for earlier in self.earlier:
                for session_id, holder in earlier.owners(connection, candidate_ids).items():
                    sessions_in_use.setdefault(session_id, holder)
        free: list[EncodedSession] = []
        for encoded in candidates:
            owner = sessions_in_use.get(encoded.session.id)
            if owner is None:
                free.append(encoded)
            else:
                problems.append(self._id_in_use(encoded.session, owner))

        if not self.report.dry_run:
            insert_sessions(connection, free)
            insert_messages(connection, free)
            assert self.report.run_id is not None
            insert_ledger_entries(connection, table, free, self.report.run_id, utc_now())
            _replace_quarantine(connection, table, ids, problems, self.report.run_id)

        self.table_report.rows += len(rows)
        self.table_report.already_migrated += len(migrated)
        self.table_report.migrated += len(free)
        self.table_report.migrated_messages += sum(len(encoded.messages) for encoded in free)
        self.table_report.quarantined += len(problems)
        self.report.quarantine.extend(problems)

    def owners(self, connection: Connection, ids: Sequence[str]) -> dict[str, tuple[int, str]]:
        """Return (user id, department) of this table's rows with these ids that would migrate.

        A dry run of a later table calls this, because nothing was written for this one.
        Rows that would be quarantined leave their id free, as in a real run.
        """
        found: dict[str, tuple[int, str]] = {}
        for row in read_rows(connection, self.mapper, self.columns, ids):
            try:
                decoded = decode_row(self.mapper, self.columns, row)
                mapped = self.mapper.map_row(
                    decoded, department=self.department, legacy_time_zone=self.zone
                )
                encode_session(mapped, self.mapper.table_name)
            except LegacyRowError:
                continue
            found[mapped.id] = (mapped.user_id, mapped.agent_type)
        return found

    def _id_in_use(self, session: MappedSession, owner: tuple[int, str]) -> QuarantinedRow:
        if owner == (session.user_id, session.agent_type):
            detail = (
                "a unified session with this id already exists for the same user and "
                "department, but this migration did not write it; compare the two, delete "
                "the unified one if it is a copy, and run the migration again"
            )
        else:
            detail = (
                f"the id is already used by a different conversation (user {owner[0]}, "
                f"department {owner[1]}); neither row was changed"
            )
        return QuarantinedRow(
            self.mapper.table_name, session.id, ProblemReason.SESSION_ID_IN_USE.value, detail
        )


def _ledger_ids(connection: Connection, table: str, ids: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for chunk in chunked(ids):
        statement = select(LEDGER.c.legacy_id).where(
            LEDGER.c.legacy_table == table, LEDGER.c.legacy_id.in_(chunk)
        )
        found.update(connection.execute(statement).scalars())
    return found


def _existing_sessions(connection: Connection, ids: Sequence[str]) -> dict[str, tuple[int, str]]:
    found: dict[str, tuple[int, str]] = {}
    for chunk in chunked(ids):
        statement = select(_SESSIONS.c.id, _SESSIONS.c.user_id, _SESSIONS.c.agent_type).where(
            _SESSIONS.c.id.in_(chunk)
        )
        for session_id, user_id, agent_type in connection.execute(statement):
            found[session_id] = (int(user_id), str(agent_type))
    return found


def _forget_deleted_rows(engine: Engine, mapper: LegacyMapper) -> None:
    """Delete quarantine entries whose legacy row no longer exists, in one statement."""
    legacy = mapper.table
    with _transaction(engine, write=True) as connection:
        result = connection.execute(
            delete(QUARANTINE).where(
                QUARANTINE.c.legacy_table == mapper.table_name,
                ~exists().where(legacy.c.id == QUARANTINE.c.legacy_id),
            )
        )
    if result.rowcount:
        logger.info(
            "legacy table %s: removed %d quarantine entr(ies) of deleted rows",
            mapper.table_name,
            result.rowcount,
        )


def _replace_quarantine(
    connection: Connection,
    table: str,
    ids: Sequence[str],
    problems: list[QuarantinedRow],
    run_id: int | None,
) -> None:
    """Replace the batch's quarantine entries with this run's problems.

    A row that migrates now loses its old entry; a row that still fails gets this run's
    reason.
    """
    for chunk in chunked(ids):
        connection.execute(
            delete(QUARANTINE).where(
                QUARANTINE.c.legacy_table == table, QUARANTINE.c.legacy_id.in_(chunk)
            )
        )
    if not problems:
        return

    now = utc_now()
    connection.execute(
        insert(QUARANTINE),
        [
            {
                "legacy_table": problem.legacy_table,
                "legacy_id": problem.legacy_id,
                "reason": problem.reason,
                "detail": problem.detail,
                "run_id": run_id,
                "recorded_at": now,
            }
            for problem in problems
        ],
    )
