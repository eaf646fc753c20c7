"""Checksums that verification compares: messages in order, and agent states.

JSON values are hashed as canonical JSON text (sorted keys, no spaces, non-ASCII kept), so
a value read back from PostgreSQL's JSONB, which reorders keys, hashes like the value
written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["MessageFields", "canonical_json", "message_checksum", "state_checksum"]

MessageFields = tuple[str, str, str, str | None, str | None, dt.datetime]
"""The compared fields of one message: sender, message type, content, attachments and
metadata as canonical JSON text (None for SQL NULL), and the aware creation time."""


_CANONICAL = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def canonical_json(value: Any) -> str:
    """Return the canonical JSON text of a value: sorted keys, no spaces, non-ASCII kept."""
    return _CANONICAL.encode(value)


def message_checksum(messages: Iterable[MessageFields]) -> str:
    """Return the SHA-256 of messages in order; any change of order, count or field changes it.

    Each message contributes its fields separated by U+001F, which JSON text never holds
    unescaped, and its content last with its length before it, so no two different
    messages hash alike.
    """
    lines = []
    for sender, message_type, content, attachments, metadata, created_at in messages:
        if created_at.tzinfo is not dt.UTC:
            created_at = created_at.astimezone(dt.UTC)
        instant = created_at.isoformat(timespec="microseconds")
        lines.append(
            f"{sender}\x1f{message_type}\x1f{instant}\x1f{attachments or 'null'}\x1f"
            f"{metadata or 'null'}\x1f{len(content)}\x1f{content}\n"
        )
    return hashlib.sha256("".join(lines).encode()).hexdigest()


def state_checksum(state: Mapping[str, Any] | None) -> str:
    """Return the SHA-256 of an agent state's canonical JSON."""
    return hashlib.sha256(canonical_json(state).encode()).hexdigest()
