"""Verifying a migration: every legacy row against the session it became.

For each legacy row, in batches: the row is mapped again and compared with its migrated
session (user, department, status, last message, times), its agent state, and its
messages by count and by an order-sensitive checksum. The ledger's checksums, taken when
the row was migrated, show whether the legacy row changed since. Rows that are
quarantined are counted, not compared. Nothing is written but the run's record.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, exists, func, select

from medrecord.clock import resolve_time_zone
from medrecord.departments.registry import DepartmentRegistry
from medrecord.errors import LegacyRowError
from medrecord.legacy.checksum import (
    MessageFields,
    canonical_json,
    message_checksum,
    state_checksum,
)
from medrecord.legacy.encoding import EncodedSession, encode_session
from medrecord.legacy.engine import DEFAULT_BATCH_SIZE, MigrationProgress, ProgressCallback
from medrecord.legacy.mapping import LegacyMapper
from medrecord.legacy.registry import legacy_mappers, select_mappers
from medrecord.legacy.report import Mismatch, TableVerification, VerificationReport
from medrecord.legacy.runs import LEDGER, QUARANTINE, finish_run, require_bookkeeping, start_run
from medrecord.legacy.source import (
    LegacyColumns,
    chunked,
    decode_row,
    inspect_legacy_table,
    latest_update,
    read_batch,
    row_count,
)
from medrecord.models.chat_session import ChatSession
from medrecord.models.message import Message

__all__ = ["verify_migration"]

logger = logging.getLogger(__name__)

_SESSIONS = cast(Table, ChatSession.__table__)
_MESSAGES = cast(Table, Message.__table__)

_SESSION_FIELDS = ("user_id", "agent_type", "status", "last_message", "created_at", "updated_at")
_LASTING_FIELDS = ("user_id", "agent_type", "created_at")
"""The session fields that stay as migrated when the conversation goes on."""


def verify_migration(
    engine: Engine,
    *,
    registry: DepartmentRegistry,
    only: Sequence[str] | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    legacy_time_zone: str | dt.tzinfo = "UTC",
    progress: ProgressCallback | None = None,
) -> VerificationReport:
    """Compare every legacy row with what was migrated; record and return the result.

    Pass the same ``legacy_time_zone`` as to the migration. The report has ``passed``
    when every legacy row is migrated and equal, or quarantined, and no ledger entry
    points at a legacy row that is gone.
    """
    if batch_size < 1:
        raise ValueError(f"invalid batch size {batch_size}: read at least 1 row per batch")
    zone = resolve_time_zone(legacy_time_zone)
    mappers = select_mappers(legacy_mappers(registry), only)
    require_bookkeeping(engine)

    run_id = start_run(engine, "verify")
    report = VerificationReport(run_id=run_id)
    try:
        for mapper in mappers:
            report.tables.append(
                _verify_table(engine, mapper, registry, report, batch_size, zone, progress)
            )
    except BaseException:
        finish_run(engine, run_id, "failed", None)
        raise

    summary = report.to_dict()
    summary["mismatches"] = summary["mismatches"][:100]
    summary["sources"] = [mapper.name for mapper in mappers]
    finish_run(engine, run_id, "passed" if report.passed else "failed", summary)
    logger.info(
        "legacy verification %s: %d mismatch(es), %d quarantined row(s)",
        "passed" if report.passed else "failed",
        len(report.mismatches),
        report.quarantined,
    )
    return report


def _verify_table(
    engine: Engine,
    mapper: LegacyMapper,
    registry: DepartmentRegistry,
    report: VerificationReport,
    batch_size: int,
    zone: dt.tzinfo,
    progress: ProgressCallback | None,
) -> TableVerification:
    result = TableVerification(source=mapper.name, legacy_table=mapper.table_name)
    with engine.connect() as connection:
        columns = inspect_legacy_table(connection, mapper)
        if columns is None:
            result.present = False
            return result
        total = row_count(connection, mapper)
        result.max_updated_at = latest_update(connection, mapper, columns)
        result.orphaned = _orphaned_entries(connection, mapper)

    if result.orphaned:
        report.mismatches.append(
            Mismatch(
                mapper.table_name,
                "",
                "legacy_row_missing",
                f"{result.orphaned} ledger entr(ies) point at legacy rows that no longer exist",
            )
        )

    department = registry.departments[mapper.department]
    after_id: str | None = None
    while True:
        with engine.connect() as connection:
            rows = read_batch(connection, mapper, columns, after_id=after_id, limit=batch_size)
            if not rows:
                break
            _verify_batch(connection, mapper, columns, department, zone, rows, result, report)

        after_id = rows[-1]["id"]
        if progress is not None:
            progress(MigrationProgress(mapper.table_name, result.rows, max(total, result.rows)))

    return result


def _orphaned_entries(connection: Connection, mapper: LegacyMapper) -> int:
    legacy = mapper.table
    statement = (
        select(func.count())
        .select_from(LEDGER)
        .where(
            LEDGER.c.legacy_table == mapper.table_name,
            ~exists().where(legacy.c.id == LEDGER.c.legacy_id),
        )
    )
    return int(connection.scalar(statement) or 0)


def _verify_batch(
    connection: Connection,
    mapper: LegacyMapper,
    columns: LegacyColumns,
    department: Any,
    zone: dt.tzinfo,
    rows: list[dict[str, Any]],
    result: TableVerification,
    report: VerificationReport,
) -> None:
    table = mapper.table_name
    ids = [str(row["id"]) for row in rows]
    ledger: dict[str, Any] = {}
    quarantined: set[str] = set()
    for chunk in chunked(ids):
        ledger.update(
            (entry.legacy_id, entry)
            for entry in connection.execute(
                select(LEDGER).where(LEDGER.c.legacy_table == table, LEDGER.c.legacy_id.in_(chunk))
            )
        )
        quarantined.update(
            connection.execute(
                select(QUARANTINE.c.legacy_id).where(
                    QUARANTINE.c.legacy_table == table, QUARANTINE.c.legacy_id.in_(chunk)
                )
            ).scalars()
        )

    session_ids = [entry.session_id for entry in ledger.values()]
    sessions: dict[str, Any] = {}
    for chunk in chunked(session_ids):
        sessions.update(
            (row["id"], row)
            for row in connection.execute(
                select(_SESSIONS).where(_SESSIONS.c.id.in_(chunk))
            ).mappings()
        )
    messages = _messages_by_session(connection, session_ids)

    def mismatch(legacy_id: str, kind: str, detail: str) -> None:
        report.mismatches.append(Mismatch(table, legacy_id, kind, detail))

    for row in rows:
        legacy_id = str(row["id"])
        result.rows += 1
        entry = ledger.get(legacy_id)

        try:
            mapped = mapper.map_row(
                decode_row(mapper, columns, row), department=department, legacy_time_zone=zone
            )
            encoded = encode_session(mapped, table)
        except LegacyRowError as error:
            if entry is not None:
                result.mismatched += 1
                mismatch(
                    legacy_id,
                    "legacy_changed",
                    f"the row was migrated but no longer maps ({error.reason}: {error.detail})",
                )
            elif legacy_id in quarantined:
                result.quarantined += 1
            else:
                result.mismatched += 1
                mismatch(
                    legacy_id,
                    "not_migrated",
                    f"the row is neither migrated nor quarantined ({error.reason}); run "
                    "'medrecord migrate legacy'",
                )
            continue

        if entry is None:
            if legacy_id in quarantined:
                result.quarantined += 1
            else:
                result.mismatched += 1
                mismatch(legacy_id, "not_migrated", "run 'medrecord migrate legacy'")
            continue

        problems, continued = _compare(
            encoded, entry, sessions.get(entry.session_id), messages[entry.session_id]
        )
        if problems:
            result.mismatched += 1
            for kind, detail in problems:
                mismatch(legacy_id, kind, detail)
        else:
            result.verified += 1
            result.verified_messages += len(mapped.messages)
            result.continued += int(continued)


def _messages_by_session(
    connection: Connection, session_ids: list[str]
) -> defaultdict[str, list[MessageFields]]:
    found: defaultdict[str, list[MessageFields]] = defaultdict(list)
    columns = (
        _MESSAGES.c.session_id,
        _MESSAGES.c.sender,
        _MESSAGES.c.message_type,
        _MESSAGES.c.content,
        _MESSAGES.c.attachments,
        _MESSAGES.c.metadata,
        _MESSAGES.c.created_at,
    )
    for chunk in chunked(session_ids):
        statement = (
            select(*columns)
            .where(_MESSAGES.c.session_id.in_(chunk))
            .order_by(_MESSAGES.c.session_id, _MESSAGES.c.created_at, _MESSAGES.c.id)
        )
        for (
            session_id,
            sender,
            message_type,
            content,
            attachments,
            metadata,
            created_at,
        ) in connection.execute(statement):
            fields = (sender, message_type, content, _json_text(attachments), _json_text(metadata))
            found[session_id].append((*fields, created_at))
    return found


def _compare(
    encoded: EncodedSession,
    entry: Any,
    session: Any,
    messages: list[MessageFields],
) -> tuple[list[tuple[str, str]], bool]:
    """Return (kind, detail) for each difference between a legacy row and its migration.

    The flag is True when the session was continued: it has more messages than the legacy
    row, and its first ones are the migrated ones. Such a session is compared on its
    migrated messages and on the fields a conversation never changes, because its state,
    status, last message and update time belong to the new conversation.
    """
    if session is None:
        missing = f"session {entry.session_id!r} of the ledger does not exist"
        return [("session_missing", missing)], False

    mapped = encoded.session
    legacy_count = len(encoded.messages)
    continued = (
        len(messages) > legacy_count
        and message_checksum(messages[:legacy_count]) == encoded.message_checksum
    )
    problems: list[tuple[str, str]] = []
    if (
        entry.state_checksum != encoded.state_checksum
        or entry.message_checksum != encoded.message_checksum
    ):
        problems.append(
            (
                "legacy_changed",
                "the legacy row changed after it was migrated; the change is not in the session",
            )
        )

    compared = _LASTING_FIELDS if continued else _SESSION_FIELDS
    differing = [
        name
        for name in compared
        if _normalized(session[name]) != _normalized(getattr(mapped, name))
    ]
    if differing:
        problems.append(("session_fields", f"session field(s) differ: {', '.join(differing)}"))

    stored_state = session["agent_state"]
    if not continued and state_checksum(stored_state) != encoded.state_checksum:
        stored = stored_state if isinstance(stored_state, dict) else {}
        keys = sorted(
            key
            for key in set(stored) | set(mapped.agent_state)
            if stored.get(key) != mapped.agent_state.get(key)
        )
        problems.append(
            ("state", f"agent_state differs in: {', '.join(keys) or 'the whole state'}")
        )

    if continued:
        pass
    elif len(messages) != legacy_count:
        problems.append(
            (
                "message_count",
                f"{len(encoded.messages)} legacy message(s), {len(messages)} migrated",
            )
        )
    elif message_checksum(messages) != encoded.message_checksum:
        problems.append(("message_checksum", "the messages differ in content, order or time"))

    return problems, continued


def _json_text(value: Any) -> str | None:
    return None if value is None else canonical_json(value)


def _normalized(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC)
    return value
