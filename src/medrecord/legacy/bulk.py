"""Bulk writes of migrated sessions and messages through the database driver.

Rows are already serialised (see :mod:`medrecord.legacy.encoding`), so they go to the
driver as they are: ``executemany`` on SQLite, ``COPY`` for messages and a pipelined
``executemany`` for sessions on PostgreSQL. Both run on the caller's connection, inside
its transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

from medrecord.legacy.encoding import EncodedSession

__all__ = ["insert_ledger_entries", "insert_messages", "insert_sessions"]

_SESSION_COLUMNS = (
    "id",
    "user_id",
    "doctor_id",
    "agent_type",
    "agent_state",
    "last_message",
    "status",
    "created_at",
    "updated_at",
)
_LEDGER_COLUMNS = (
    "legacy_table",
    "legacy_id",
    "session_id",
    "message_count",
    "message_checksum",
    "state_checksum",
    "run_id",
    "migrated_at",
)
_MESSAGE_COLUMNS = (
    "session_id",
    "sender",
    "content",
    "message_type",
    "attachments",
    "metadata",
    "created_at",
)


def insert_sessions(connection: Connection, sessions: Sequence[EncodedSession]) -> None:
    """Insert the sessions; an id that exists raises the driver's integrity error."""
    if not sessions:
        return

    time = _time_parameter(connection)
    rows = [
        (
            encoded.session.id,
            encoded.session.user_id,
            encoded.session.doctor_id,
            encoded.session.agent_type,
            encoded.agent_state,
            encoded.session.last_message,
            encoded.session.status,
            time(encoded.session.created_at),
            time(encoded.session.updated_at),
        )
        for encoded in sessions
    ]
    connection.exec_driver_sql(_insert_statement(connection, "sessions", _SESSION_COLUMNS), rows)


def insert_messages(connection: Connection, sessions: Sequence[EncodedSession]) -> int:
    """Insert every message of the sessions in conversation order; return how many."""
    time = _time_parameter(connection)
    rows = [
        (
            encoded.session.id,
            message.sender,
            message.content,
            message.message_type,
            message.attachments,
            message.metadata,
            time(message.created_at),
        )
        for encoded in sessions
        for message in encoded.messages
    ]
    if not rows:
        return 0

    if connection.dialect.name == "postgresql":
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(f"COPY messages ({', '.join(_MESSAGE_COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        connection.exec_driver_sql(
            _insert_statement(connection, "messages", _MESSAGE_COLUMNS), rows
        )
    return len(rows)


def insert_ledger_entries(
    connection: Connection,
    legacy_table: str,
    sessions: Sequence[EncodedSession],
    run_id: int,
    migrated_at: dt.datetime,
) -> None:
    """Insert one ledger entry per migrated session, with the checksums of what was written."""
    if not sessions:
        return

    time = _time_parameter(connection)(migrated_at)
    rows = [
        (
            legacy_table,
            encoded.session.id,
            encoded.session.id,
            len(encoded.messages),
            encoded.message_checksum,
            encoded.state_checksum,
            run_id,
            time,
        )
        for encoded in sessions
    ]
    connection.exec_driver_sql(
        _insert_statement(connection, "legacy_migration_ledger", _LEDGER_COLUMNS), rows
    )


def _insert_statement(connection: Connection, table: str, columns: Sequence[str]) -> str:
    marker = "%s" if connection.dialect.paramstyle in ("format", "pyformat") else "?"
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(marker for _ in columns)})"
    )


def _time_parameter(connection: Connection) -> Any:
    """Return how a UTC time is passed to the driver, as the UTCDateTime column type stores it."""
    if connection.dialect.name == "sqlite":
        return _sqlite_time
    return _aware_time


def _sqlite_time(value: dt.datetime) -> str:
    if value.tzinfo is not dt.UTC:
        value = value.astimezone(dt.UTC)
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


def _aware_time(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC)
