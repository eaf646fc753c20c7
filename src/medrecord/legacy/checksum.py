"""Checksums that verification compares: messages in order, and agent states.

JSON values are hashed as canonical JSON text (sorted keys, no spaces, non-ASCII kept), so
a value read back from PostgreSQL's JSONB, which reorders keys, hashes like the value
written.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "MessageFields",
    "canonical_json",
    "checksum_form",
    "message_checksum",
    "state_checksum",
]

MessageFields = tuple[str, str, str, str | None, str | None, dt.datetime]
"""The compared fields of one message: sender, message type, content, attachments and
metadata as canonical JSON text (None for SQL NULL), and the aware creation time."""


_CANONICAL = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def canonical_json(value: Any) -> str:
    """Return the canonical JSON text of a value: sorted keys, no spaces, non-ASCII kept."""
    return _CANONICAL.encode(value)


_NUMBER_FORMS = re.compile(r"\de[+-]\d|-0\.0(?![0-9])")
"""Float spellings that PostgreSQL's JSONB gives back differently: 1e+16 comes back as the
integer 10000000000000000, and -0.0 as 0.0."""


def checksum_form(text: str | None) -> str | None:
    """Return canonical JSON text as it reads back from any database, for checksums.

    Integral floats written with an exponent become integers and negative zero becomes
    zero, as JSONB stores them, so a value and its read-back copy hash alike. Text
    without such numbers is returned unchanged.
    """
    if text is None or not _NUMBER_FORMS.search(text):
        return text
    return canonical_json(_as_stored(json.loads(text)))


def _as_stored(value: Any) -> Any:
    if isinstance(value, float):
        if value == 0:
            return 0.0
        spelled = repr(value)
        if "e" in spelled and value.is_integer():
            return int(decimal.Decimal(spelled))
        return value
    if isinstance(value, dict):
        return {key: _as_stored(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_stored(item) for item in value]
    return value


def message_checksum(messages: Iterable[MessageFields]) -> str:
    """Return the SHA-256 of messages in order; any change of order, count or field changes it.

    Each message contributes its fields separated by U+001F, which JSON text never contains
    unescaped, and its content last with its length before it, so no two different
    messages hash alike.
    """
    lines = []
    for sender, message_type, content, attachments, metadata, created_at in messages:
        if created_at.tzinfo is not dt.UTC:
            created_at = created_at.astimezone(dt.UTC)
        instant = created_at.isoformat(timespec="microseconds")
        lines.append(
            f"{sender}\x1f{message_type}\x1f{instant}\x1f{checksum_form(attachments) or 'null'}"
            f"\x1f{checksum_form(metadata) or 'null'}\x1f{len(content)}\x1f{content}\n"
        )
    return hashlib.sha256("".join(lines).encode()).hexdigest()


def state_checksum(state: Mapping[str, Any] | None) -> str:
    """Return the SHA-256 of an agent state's canonical JSON, in :func:`checksum_form`."""
    return hashlib.sha256(str(checksum_form(canonical_json(state))).encode()).hexdigest()
