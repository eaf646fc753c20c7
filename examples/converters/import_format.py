"""Lines of medrecord's JSON Lines import format, shared by the dataset converters.

One line is one chat session with its messages::

    {"id": ..., "user_id": ..., "doctor_id": null, "agent_type": ..., "agent_state": {...},
     "last_message": ..., "status": "completed", "created_at": ..., "updated_at": ...,
     "messages": [{"sender": "user" | "assistant", "content": ..., "message_type": "text",
                   "attachments": null, "metadata": {...}, "created_at": ...}]}

The public dialogue datasets have no timestamps, so messages get increasing times from a
fixed start, one minute apart. Session ids and user ids derive from the source record id,
so converting a file twice gives the same lines.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

import medrecord
from medrecord import MedrecordError, UnknownDepartmentError

__all__ = [
    "DEFAULT_START",
    "MAX_USER_ID",
    "MESSAGE_INTERVAL",
    "SESSION_ID_NAMESPACE",
    "SourceRecordError",
    "build_parser",
    "make_message",
    "make_session_line",
    "message_times",
    "read_records",
    "resolve_departments",
    "run",
    "sender_for_role",
    "session_id_for",
    "user_id_for",
    "write_lines",
]

SESSION_ID_NAMESPACE = uuid.UUID("c369a09b-b593-494d-b113-ef90ddfef5cb")
"""Namespace of the uuid5 session ids; changing it changes every id of every converted file."""

DEFAULT_START = dt.datetime(2024, 3, 1, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
"""Time of the first message of every converted session: 09:00 on 2024-03-01 in UTC+8."""

MESSAGE_INTERVAL = dt.timedelta(minutes=1)

MAX_USER_ID = 2**31 - 1
"""Largest value of a signed 32-bit INTEGER column, the type of ``sessions.user_id``."""

_SENDER_BY_ROLE: Mapping[str, str] = {
    "patient": "user",
    "family": "user",
    "doctor": "assistant",
    "clinician": "assistant",
}


class SourceRecordError(MedrecordError):
    """A record of a source dataset file lacks a field or has a value the converter cannot map."""

    def __init__(self, record_id: object, reason: str) -> None:
        self.record_id = record_id
        self.reason = reason
        super().__init__(f"source record {record_id!r}: {reason}")


def session_id_for(record_id: str) -> str:
    """Return the session id of a source record: a uuid5 of its id, 36 characters."""
    return str(uuid.uuid5(SESSION_ID_NAMESPACE, record_id))


def user_id_for(record_id: str) -> int:
    """Return a user id of its own for a source record, from 1 to :data:`MAX_USER_ID`.

    Each dialogue gets its own user, so aggregating it creates its own medical event. The
    number comes from a uuid5 of the record id, so two records can share a user: for n
    records the chance is about n² / 2³², or 1 in 27,000 for 400 records.
    """
    digest = uuid.uuid5(SESSION_ID_NAMESPACE, f"user:{record_id}").int
    return digest % MAX_USER_ID + 1


def sender_for_role(record_id: str, role: object) -> str:
    """Map a dataset speaker role to a message sender: patient and family write as the user."""
    sender = _SENDER_BY_ROLE.get(role) if isinstance(role, str) else None
    if sender is None:
        raise SourceRecordError(
            record_id,
            f"unknown speaker role {role!r}; expected one of {', '.join(_SENDER_BY_ROLE)}",
        )
    return sender


def message_times(count: int, start: dt.datetime = DEFAULT_START) -> list[dt.datetime]:
    """Return ``count`` increasing message times from ``start``, one minute apart."""
    if start.utcoffset() is None:
        raise ValueError(
            f"start time {start.isoformat()} has no UTC offset; pass an aware datetime"
        )
    return [start + MESSAGE_INTERVAL * position for position in range(count)]


def make_message(
    sender: str, content: str, created_at: dt.datetime, metadata: Mapping[str, Any]
) -> dict[str, Any]:
    """Build one text message of the import format."""
    return {
        "sender": sender,
        "content": content,
        "message_type": "text",
        "attachments": None,
        "metadata": dict(metadata),
        "created_at": created_at.isoformat(),
    }


def make_session_line(
    record_id: str,
    *,
    agent_type: str,
    agent_state: Mapping[str, Any],
    messages: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    """Build the import line of one completed session from its converted messages."""
    if not messages:
        raise SourceRecordError(record_id, "the dialogue has no turns, so there is no session")

    return {
        "id": session_id_for(record_id),
        "user_id": user_id_for(record_id),
        "doctor_id": None,
        "agent_type": agent_type,
        "agent_state": dict(agent_state),
        "last_message": messages[-1]["content"],
        "status": "completed",
        "created_at": messages[0]["created_at"],
        "updated_at": messages[-1]["created_at"],
        "messages": [dict(message) for message in messages],
    }


def read_records(stream: TextIO) -> Iterator[dict[str, Any]]:
    """Yield the JSON objects of a JSON Lines stream, skipping blank lines."""
    for line_number, line in enumerate(stream, start=1):
        if not line.strip():
            continue

        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise SourceRecordError(f"line {line_number}", f"invalid JSON: {error}") from error

        if not isinstance(record, dict):
            raise SourceRecordError(f"line {line_number}", "expected a JSON object")
        yield record


def write_lines(lines: Iterable[Mapping[str, Any]], stream: TextIO) -> int:
    """Write import lines as UTF-8 JSON Lines with Chinese text unescaped; return the count."""
    count = 0
    for line in lines:
        stream.write(json.dumps(line, ensure_ascii=False))
        stream.write("\n")
        count += 1
    return count


def build_parser(
    description: str, *, default_department: str, department_help: str
) -> argparse.ArgumentParser:
    """Build the command line parser that every converter shares."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("input", type=Path, help="source dataset file, JSON Lines")
    parser.add_argument(
        "-o",
        "--output",
        default="-",
        help="file to write the import lines to (default: standard output)",
    )
    parser.add_argument(
        "--department",
        default=default_department,
        help=f"{department_help} (default: {default_department})",
    )
    parser.add_argument(
        "--start",
        type=_aware_datetime,
        default=DEFAULT_START,
        help=(
            "ISO 8601 time with UTC offset of the first message of every session; later "
            f"messages follow one minute apart (default: {DEFAULT_START.isoformat()})"
        ),
    )
    return parser


def _aware_datetime(text: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"invalid ISO 8601 time {text!r}") from error

    if value.utcoffset() is None:
        raise argparse.ArgumentTypeError(
            f"time {text!r} has no UTC offset; add one, such as +08:00"
        )
    return value


def resolve_departments(parser: argparse.ArgumentParser, names: Iterable[str]) -> list[str]:
    """Return the codes of installed departments named by code or alias, or exit with usage.

    An unknown name ends the program through ``parser.error`` with the registered codes.
    """
    registry = medrecord.load_departments()
    try:
        return [registry.resolve(name).code for name in names]
    except UnknownDepartmentError as error:
        parser.error(str(error))


def run(
    parser: argparse.ArgumentParser,
    arguments: argparse.Namespace,
    convert: Callable[[dict[str, Any]], dict[str, Any]],
) -> int:
    """Convert every record of ``arguments.input``, write the lines and return the exit status.

    An invalid source record ends the program with status 1 and a message naming the record,
    before anything is written.
    """
    try:
        with arguments.input.open(encoding="utf-8") as source:
            lines = [convert(record) for record in read_records(source)]
    except (OSError, SourceRecordError) as error:
        parser.exit(1, f"{parser.prog}: {error}\n")

    if arguments.output == "-":
        count = write_lines(lines, sys.stdout)
    else:
        with open(arguments.output, "w", encoding="utf-8", newline="\n") as target:
            count = write_lines(lines, target)

    print(f"wrote {count} sessions to {arguments.output}", file=sys.stderr)
    return 0
