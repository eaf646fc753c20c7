"""Serialising a mapped session once: the JSON text written, and the checksums verified.

The engine writes the JSON text made here, and both the engine and verification take the
checksums from it, so a session is serialised once per run. JSON is canonical (see
:func:`~medrecord.legacy.checksum.canonical_json`), so values read back from PostgreSQL's
JSONB serialise to the same text.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any, NamedTuple

from medrecord.errors import LegacyRowError
from medrecord.json_values import contains_nul
from medrecord.legacy.checksum import canonical_json, checksum_form, message_checksum
from medrecord.legacy.mapping import MappedSession, ProblemReason

__all__ = ["EncodedMessage", "EncodedSession", "encode_session"]

_ESCAPED_NUL = "\\u0000"

_TASK_TYPE_METADATA: dict[str, str] = {}
_TASK_TYPE_METADATA_LIMIT = 1024


class EncodedMessage(NamedTuple):
    """A message row as written: JSON columns as canonical text, time as aware UTC.

    The fields are in the order :func:`~medrecord.legacy.checksum.message_checksum` reads.
    """

    sender: str
    message_type: str
    content: str
    attachments: str | None
    metadata: str | None
    created_at: dt.datetime


@dataclass(frozen=True)
class EncodedSession:
    """A mapped session with its state as canonical JSON text and its checksums."""

    session: MappedSession
    agent_state: str
    messages: tuple[EncodedMessage, ...]
    state_checksum: str
    message_checksum: str


def encode_session(session: MappedSession, legacy_table: str) -> EncodedSession:
    """Serialise a mapped session; raise :class:`LegacyRowError` for a NUL character.

    PostgreSQL cannot store NUL in text or JSONB, and one such value would fail the whole
    batch, so the row is quarantined instead.
    """
    agent_state = canonical_json(session.agent_state)
    if _has_nul(agent_state, session.agent_state):
        raise LegacyRowError(
            legacy_table,
            session.id,
            ProblemReason.INVALID_STATE.value,
            "a state value contains a NUL character, which PostgreSQL cannot store",
        )

    messages: list[EncodedMessage] = []
    for position, message in enumerate(session.messages):
        attachments = None if message.attachments is None else canonical_json(message.attachments)
        metadata = None if message.metadata is None else _metadata_text(message.metadata)
        if (
            "\x00" in message.content
            or (attachments is not None and _has_nul(attachments, message.attachments))
            or (metadata is not None and _has_nul(metadata, message.metadata))
        ):
            raise LegacyRowError(
                legacy_table,
                session.id,
                ProblemReason.INVALID_MESSAGE.value,
                f"message {position} contains a NUL character, which PostgreSQL cannot store",
            )
        messages.append(
            EncodedMessage(
                message.sender,
                message.message_type,
                message.content,
                attachments,
                metadata,
                message.created_at,
            )
        )

    return EncodedSession(
        session=session,
        agent_state=agent_state,
        messages=tuple(messages),
        state_checksum=hashlib.sha256(str(checksum_form(agent_state)).encode()).hexdigest(),
        message_checksum=message_checksum(messages),
    )


def _metadata_text(metadata: dict[str, Any]) -> str:
    """Return the canonical JSON of message metadata, reusing the text of common shapes.

    Most legacy messages carry only their task type, so their metadata text is one of a
    few; it is serialised once per task type.
    """
    legacy = metadata.get("legacy")
    if len(metadata) == 1 and isinstance(legacy, dict) and legacy.keys() == {"task_type"}:
        task_type = legacy["task_type"]
        if isinstance(task_type, str):
            text = _TASK_TYPE_METADATA.get(task_type)
            if text is None:
                text = canonical_json(metadata)
                if len(_TASK_TYPE_METADATA) < _TASK_TYPE_METADATA_LIMIT:
                    _TASK_TYPE_METADATA[task_type] = text
            return text
    return canonical_json(metadata)


def _has_nul(text: str, value: Any) -> bool:
    # The escape can also come from a literal backslash before "u0000"; then look closer.
    return _ESCAPED_NUL in text and contains_nul(value)
