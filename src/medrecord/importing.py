"""Importing chat sessions from JSON Lines: one session with its messages per line.

A line contains the columns of the ``sessions`` table plus ``messages``, a list of objects
with the columns of the ``messages`` table::

    {"id": "4cb3...", "user_id": 1001, "doctor_id": null, "agent_type": "derma",
     "agent_state": {...}, "last_message": "...", "status": "completed",
     "created_at": "2026-11-20T07:40:00+08:00", "updated_at": "2026-11-20T07:45:40+08:00",
     "messages": [{"sender": "user", "content": "...", "message_type": "text",
                   "attachments": null, "metadata": null,
                   "created_at": "2026-11-20T07:40:12+08:00"}]}

Times are ISO 8601 with a UTC offset and are stored as UTC. ``agent_type`` may be a
department code or alias, and the canonical code is stored. A session whose id already
exists, in the database or on an earlier line, is skipped without comparing content. A
line that fails validation is rejected with its line number and reason, and the other
lines are still imported.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any, cast

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    ValidationError,
)
from pydantic_core import ErrorDetails, PydanticCustomError
from sqlalchemy import Table, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session as DatabaseSession

from medrecord.departments.registry import DepartmentRegistry
from medrecord.errors import ImportLineError, UnknownDepartmentError
from medrecord.json_values import contains_nul, json_kind
from medrecord.models.chat_session import ChatSession
from medrecord.models.message import Message, MessageType, Sender

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "ImportReport",
    "ImportedMessage",
    "ImportedSession",
    "SkippedSession",
    "import_sessions",
]

logger = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 500
"""How many sessions are inserted together, with all their messages."""

MAX_REASONS_PER_LINE = 3
"""How many invalid values the reason of a rejected line describes before "and N more"."""

_SESSIONS = cast(Table, ChatSession.__table__)
_MESSAGES = cast(Table, Message.__table__)

_INTEGER_MIN = -(2**31)
_INTEGER_MAX = 2**31 - 1


def _parse_timestamp(value: Any) -> dt.datetime:
    """Parse an ISO 8601 time with a UTC offset into an aware UTC datetime."""
    if not isinstance(value, str):
        raise PydanticCustomError(
            "timestamp_type",
            "expected an ISO 8601 time as a string, got {type}",
            {"type": type(value).__name__},
        )

    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise PydanticCustomError(
            "timestamp_format",
            "invalid ISO 8601 time {value}; write it like 2026-11-20T07:40:00+08:00",
            {"value": repr(value)},
        ) from None

    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise PydanticCustomError(
            "timestamp_offset",
            "time {value} has no UTC offset; add one such as +08:00 or Z",
            {"value": repr(value)},
        )
    return parsed.astimezone(dt.UTC)


Timestamp = Annotated[dt.datetime, BeforeValidator(_parse_timestamp)]
"""An ISO 8601 time with a UTC offset, converted to UTC; a time without an offset is invalid."""

DatabaseInteger = Annotated[StrictInt, Field(ge=_INTEGER_MIN, le=_INTEGER_MAX)]
"""A JSON integer that fits the INTEGER columns ``user_id`` and ``doctor_id``."""


class ImportedMessage(BaseModel):
    """One message of an imported session, as the ``messages`` columns hold it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sender: Sender
    content: StrictStr
    message_type: MessageType = MessageType.TEXT
    attachments: list[Any] | None = None
    message_metadata: dict[str, Any] | None = Field(default=None, alias="metadata")
    created_at: Timestamp


class ImportedSession(BaseModel):
    """One line of a JSON Lines import: a session row and its messages in order."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[StrictStr, Field(min_length=1, max_length=36)]
    user_id: DatabaseInteger
    doctor_id: DatabaseInteger | None = None
    agent_type: Annotated[StrictStr, Field(min_length=1, max_length=50)]
    agent_state: dict[str, Any] | None = None
    last_message: StrictStr | None = None
    status: Annotated[StrictStr, Field(min_length=1, max_length=20)] = "active"
    created_at: Timestamp
    updated_at: Timestamp
    messages: list[ImportedMessage]


@dataclass(frozen=True)
class SkippedSession:
    """A line whose session id already existed, so nothing of it was written."""

    line_number: int
    session_id: str


@dataclass
class ImportReport:
    """Counts and details of one import: sessions written, skipped and rejected.

    Line numbers count from 1.
    """

    imported: int = 0
    imported_messages: int = 0
    skipped_sessions: list[SkippedSession] = field(default_factory=list)
    errors: list[ImportLineError] = field(default_factory=list)

    @property
    def skipped(self) -> int:
        """How many sessions were skipped because their id already existed."""
        return len(self.skipped_sessions)

    @property
    def rejected(self) -> int:
        """How many lines were rejected as invalid."""
        return len(self.errors)


@dataclass(frozen=True)
class _PendingSession:
    line_number: int
    record: ImportedSession
    department_code: str


def import_sessions(
    lines: Iterable[str],
    *,
    session: DatabaseSession,
    registry: DepartmentRegistry,
    batch_size: int = DEFAULT_BATCH_SIZE,
    after_batch: Callable[[ImportReport], None] | None = None,
) -> ImportReport:
    """Insert the sessions of JSON Lines text, skipping ids that exist, and report per line.

    Blank lines are ignored. Every ``batch_size`` valid lines are written with one INSERT
    of sessions and one INSERT of their messages. Then ``after_batch`` is called with the
    report so far, so a caller that commits there keeps the finished batches if a later
    one fails. Nothing is committed here. Invalid lines never reach the database, so they
    cannot undo valid ones.
    """
    if batch_size < 1:
        raise ValueError(f"invalid batch size {batch_size}: write at least 1 session per batch")

    report = ImportReport()
    batch: list[_PendingSession] = []

    for line_number, line in enumerate(lines, start=1):
        text = line.lstrip("\ufeff") if line_number == 1 else line
        if not text.strip():
            continue

        try:
            batch.append(_parse_line(text, line_number, registry))
        except ImportLineError as error:
            report.errors.append(error)
            continue

        if len(batch) >= batch_size:
            _write_batch(session, batch, report)
            batch = []
            if after_batch is not None:
                after_batch(report)

    if batch:
        _write_batch(session, batch, report)
        if after_batch is not None:
            after_batch(report)

    logger.info(
        "import wrote %d session(s) with %d message(s), skipped %d, rejected %d line(s)",
        report.imported,
        report.imported_messages,
        report.skipped,
        report.rejected,
    )
    return report


def _parse_line(text: str, line_number: int, registry: DepartmentRegistry) -> _PendingSession:
    """Validate one line; raise :class:`ImportLineError` naming what is wrong."""
    try:
        # Without the line break, an error at the end of the line reports its true column.
        data = json.loads(text.rstrip("\r\n"))
    except json.JSONDecodeError as error:
        raise ImportLineError(
            line_number, f"invalid JSON: {error.msg} at column {error.colno}"
        ) from None

    if not isinstance(data, dict):
        raise ImportLineError(
            line_number, f"invalid line: expected a JSON object, got a JSON {json_kind(data)}"
        )

    if contains_nul(data):
        raise ImportLineError(
            line_number,
            "invalid line: it contains a NUL character (\\u0000), which PostgreSQL cannot store",
        )

    try:
        record = ImportedSession.model_validate(data)
    except ValidationError as error:
        raise ImportLineError(line_number, _describe_errors(error.errors())) from None

    department = registry.find(record.agent_type)
    if department is None:
        unknown = UnknownDepartmentError(record.agent_type, registry.codes)
        raise ImportLineError(line_number, str(unknown))

    return _PendingSession(line_number, record, department.code)


def _describe_errors(errors: list[ErrorDetails]) -> str:
    """Turn validation errors into one reason that names each field by its JSON path.

    Missing and unknown fields are listed together. Input values are quoted only for
    fields that cannot hold health data (sender, message type, times), because callers
    print the reason and may log it.
    """
    missing = [_json_path(error["loc"]) for error in errors if error["type"] == "missing"]
    unknown = [_json_path(error["loc"]) for error in errors if error["type"] == "extra_forbidden"]
    others = [error for error in errors if error["type"] not in ("missing", "extra_forbidden")]

    reasons: list[str] = []
    if missing:
        reasons.append(f"missing field(s) {_quoted(missing)}")
    if unknown:
        reasons.append(f"unknown field(s) {_quoted(unknown)}")
    reasons.extend(_describe_error(error) for error in others[:MAX_REASONS_PER_LINE])

    remaining = len(others) - MAX_REASONS_PER_LINE
    if remaining > 0:
        reasons.append(f"and {remaining} more error(s)")
    return "; ".join(reasons)


def _quoted(paths: list[str]) -> str:
    return ", ".join(f"'{path}'" for path in paths)


def _describe_error(error: ErrorDetails) -> str:
    path = _json_path(error["loc"])
    kind = error["type"]

    if kind == "enum" and path.endswith("sender"):
        return f"unknown sender {error['input']!r} in '{path}'; use 'user' or 'assistant'"
    if kind == "enum" and path.endswith("message_type"):
        return (
            f"unknown message type {error['input']!r} in '{path}'; "
            "use 'text', 'image' or 'structured'"
        )
    return f"invalid field '{path}': {error['msg']}"


def _json_path(location: tuple[int | str, ...]) -> str:
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path or "line"


def _write_batch(
    database: DatabaseSession, batch: list[_PendingSession], report: ImportReport
) -> None:
    """Insert a batch of sessions, skipping existing ids, then the messages of the new ones."""
    unique: list[_PendingSession] = []
    seen: set[str] = set()
    for pending in batch:
        if pending.record.id in seen:
            report.skipped_sessions.append(SkippedSession(pending.line_number, pending.record.id))
            continue
        seen.add(pending.record.id)
        unique.append(pending)

    inserted = _insert_sessions(database, unique)

    messages: list[dict[str, Any]] = []
    for pending in unique:
        if pending.record.id not in inserted:
            report.skipped_sessions.append(SkippedSession(pending.line_number, pending.record.id))
            continue
        messages.extend(
            _message_row(pending.record.id, message) for message in pending.record.messages
        )

    if messages:
        database.execute(insert(_MESSAGES), messages)

    report.imported += len(inserted)
    report.imported_messages += len(messages)
    logger.info("import batch wrote %d session(s) and %d message(s)", len(inserted), len(messages))


def _insert_sessions(database: DatabaseSession, batch: list[_PendingSession]) -> set[str]:
    """Insert sessions whose id is new in one statement; return the ids inserted.

    ``ON CONFLICT DO NOTHING`` makes an id that exists, or that a concurrent import
    inserts first, a skip instead of an error.
    """
    if not batch:
        return set()

    table = _SESSIONS
    dialect = database.get_bind().dialect.name
    dialect_insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        dialect_insert(table)
        .on_conflict_do_nothing(index_elements=[table.c.id])
        .returning(table.c.id)
    )
    rows = [_session_row(pending) for pending in batch]
    return set(database.execute(statement, rows).scalars())


def _session_row(pending: _PendingSession) -> dict[str, Any]:
    record = pending.record
    return {
        "id": record.id,
        "user_id": record.user_id,
        "doctor_id": record.doctor_id,
        "agent_type": pending.department_code,
        "agent_state": record.agent_state,
        "last_message": record.last_message,
        "status": record.status,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
    }


def _message_row(session_id: str, message: ImportedMessage) -> dict[str, Any]:
    return {
        "session_id": session_id,
        "sender": message.sender.value,
        "content": message.content,
        "message_type": message.message_type.value,
        "attachments": message.attachments,
        "metadata": message.message_metadata,
        "created_at": message.created_at,
    }
