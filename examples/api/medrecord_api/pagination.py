"""Opaque keyset cursors for the paginated listings.

A cursor is the sort key of the last item of a page, as base64url JSON tagged with the
listing it belongs to. Keyset pages stay stable while rows are added, unlike offsets. A
cursor that does not decode, or that belongs to another listing, is a 422 naming
``query.cursor``; it is never trusted further than its types.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from typing import Any, Literal

from medrecord_api.problems import ApiError, FieldError
from medrecord_api.schemas import MAX_ID_LENGTH, MAX_INTEGER_ID

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "MAX_CURSOR_LENGTH",
    "MAX_PAGE_SIZE",
    "EventKey",
    "MessageKey",
    "SessionKey",
    "decode_event_cursor",
    "decode_message_cursor",
    "decode_session_cursor",
    "encode_cursor",
]

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
MAX_CURSOR_LENGTH = 200

CursorKind = Literal["messages", "sessions", "events"]

MessageKey = tuple[dt.datetime, int]
"""(created_at, id) of a message: chronological order."""

SessionKey = tuple[dt.datetime, str]
"""(created_at, id) of a session: listed newest first."""

EventKey = tuple[dt.date | None, int]
"""(event_date, id) of an event: listed newest day first, events without a day last."""


def encode_cursor(kind: CursorKind, *values: Any) -> str:
    """Return the cursor of a listing's sort key."""
    text = json.dumps([kind, *values], separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii").rstrip("=")


def decode_message_cursor(cursor: str) -> MessageKey:
    """Return the (created_at, id) key of a messages cursor."""
    created_at, message_id = _decode(cursor, "messages", 2)
    return _timestamp(created_at), _integer(message_id)


def decode_session_cursor(cursor: str) -> SessionKey:
    """Return the (created_at, id) key of a sessions cursor."""
    created_at, session_id = _decode(cursor, "sessions", 2)
    if not isinstance(session_id, str) or not 1 <= len(session_id) <= MAX_ID_LENGTH:
        raise _invalid_cursor()
    # JSON escapes can smuggle in NUL or an unpaired surrogate, which no database stores.
    if "\x00" in session_id or not _encodable(session_id):
        raise _invalid_cursor()
    return _timestamp(created_at), session_id


def decode_event_cursor(cursor: str) -> EventKey:
    """Return the (event_date, id) key of an events cursor."""
    event_date, event_id = _decode(cursor, "events", 2)
    day: dt.date | None = None
    if event_date is not None:
        if not isinstance(event_date, str):
            raise _invalid_cursor()
        try:
            day = dt.date.fromisoformat(event_date)
        except ValueError:
            raise _invalid_cursor() from None
    return day, _integer(event_id)


def _decode(cursor: str, kind: CursorKind, size: int) -> list[Any]:
    if len(cursor) > MAX_CURSOR_LENGTH or not cursor.isascii():
        raise _invalid_cursor()
    padded = cursor + "=" * (-len(cursor) % 4)
    try:
        raw = base64.urlsafe_b64decode(padded.encode("ascii"))
        values = json.loads(raw.decode("utf-8"))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise _invalid_cursor() from None
    if not isinstance(values, list) or len(values) != size + 1 or values[0] != kind:
        raise _invalid_cursor()
    return values[1:]


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _timestamp(value: Any) -> dt.datetime:
    if not isinstance(value, str):
        raise _invalid_cursor()
    try:
        moment = dt.datetime.fromisoformat(value)
        if moment.tzinfo is None:
            raise _invalid_cursor()
        return moment.astimezone(dt.UTC)
    except (ValueError, OverflowError):
        raise _invalid_cursor() from None


def _integer(value: Any) -> int:
    # bool is an int in Python, but never a valid id.
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_INTEGER_ID:
        raise _invalid_cursor()
    return value


def _invalid_cursor() -> ApiError:
    field = FieldError(
        field="query.cursor",
        code="invalid_cursor",
        english="Invalid cursor; pass the next_cursor of the previous page",
    )
    return ApiError("validation_failed", 422, {"count": 1, "fields": field.field}, errors=[field])
