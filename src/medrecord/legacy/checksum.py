"""Checksums that verification compares: messages in order, and agent states.

Both hash canonical JSON (sorted keys, no spaces, UTF-8), so a state read back from
PostgreSQL's JSONB, which reorders keys, has the checksum of the state written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["MessageFields", "canonical_json", "message_checksum", "state_checksum"]

MessageFields = tuple[str, str, str, Any, Any, dt.datetime]
"""The compared fields of one message: sender, message type, content, attachments,
metadata and the aware creation time."""


def canonical_json(value: Any) -> str:
    """Return the canonical JSON text of a value: sorted keys, no spaces, non-ASCII kept."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def message_checksum(messages: Iterable[MessageFields]) -> str:
    """Return the SHA-256 of messages in order; any change of order, count or field changes it."""
    digest = hashlib.sha256()
    for sender, message_type, content, attachments, metadata, created_at in messages:
        instant = created_at.astimezone(dt.UTC).isoformat(timespec="microseconds")
        line = canonical_json([sender, message_type, content, attachments, metadata, instant])
        digest.update(line.encode())
        digest.update(b"\n")
    return digest.hexdigest()


def state_checksum(state: Mapping[str, Any] | None) -> str:
    """Return the SHA-256 of an agent state's canonical JSON."""
    return hashlib.sha256(canonical_json(state).encode()).hexdigest()
