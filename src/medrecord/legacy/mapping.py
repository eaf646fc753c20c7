"""Mapping one legacy row to a unified session, its agent state and its messages.

A :class:`LegacyMapper` describes one legacy table: which columns form the agent state,
which column contains the last reply, and which legacy task types exist. Department plugins
return mappers from the ``medrecord_legacy_mappers`` hook. :meth:`LegacyMapper.map_row`
either returns a :class:`MappedSession` or raises :class:`~medrecord.errors.LegacyRowError`
with a stable reason code; it never guesses a value it cannot read.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from sqlalchemy import Table

from medrecord.errors import LegacyRowError
from medrecord.json_values import json_kind
from medrecord.models.message import MessageType, Sender

if TYPE_CHECKING:
    from medrecord.departments.department import Department

__all__ = [
    "DEFAULT_TASK_TYPES",
    "LegacyMapper",
    "MappedMessage",
    "MappedSession",
    "ProblemReason",
    "read_legacy_time",
]

MAX_SESSION_ID_LENGTH = 36
"""Length of ``sessions.id``; a longer legacy id cannot become a session id."""

MAX_REPORTED_ERRORS = 3
"""How many invalid state fields the detail of a quarantined row names before "and N more"."""


class ProblemReason(enum.StrEnum):
    """Reason code of a legacy row that was quarantined instead of migrated."""

    INVALID_JSON = "invalid_json"
    INVALID_SESSION = "invalid_session"
    INVALID_STATE = "invalid_state"
    MESSAGES_NOT_LIST = "messages_not_list"
    INVALID_MESSAGE = "invalid_message"
    UNKNOWN_ROLE = "unknown_role"
    UNKNOWN_TASK_TYPE = "unknown_task_type"
    INVALID_TIMESTAMP = "invalid_timestamp"
    MESSAGES_OUT_OF_ORDER = "messages_out_of_order"
    SESSION_ID_IN_USE = "session_id_in_use"


DEFAULT_TASK_TYPES: Mapping[str, MessageType] = {
    "text": MessageType.TEXT,
    "chat": MessageType.TEXT,
    "conversation": MessageType.TEXT,
    "image": MessageType.IMAGE,
    "structured": MessageType.STRUCTURED,
}
"""Legacy task types every intake agent wrote, and the message type each becomes."""

_SENDERS = {sender.value: sender.value for sender in Sender}

_MESSAGE_KEYS = frozenset(
    {"role", "content", "timestamp", "task_type", "attachments", "images", "image_url"}
)


@dataclass(frozen=True, slots=True)
class MappedMessage:
    """One legacy message as a ``messages`` row.

    ``metadata`` keeps what the row has no column for, under ``"legacy"``: the legacy
    ``task_type`` and any other keys of the legacy message (``"fields"``). It is None when
    there is nothing to keep.
    """

    sender: str
    content: str
    message_type: str
    attachments: list[Any] | None
    metadata: dict[str, Any] | None
    created_at: dt.datetime


@dataclass(frozen=True)
class MappedSession:
    """One legacy row as a ``sessions`` row with its messages in conversation order."""

    id: str
    user_id: int
    agent_type: str
    agent_state: dict[str, Any]
    last_message: str | None
    status: str
    created_at: dt.datetime
    updated_at: dt.datetime
    messages: tuple[MappedMessage, ...]
    doctor_id: int | None = None


def read_legacy_time(value: Any, zone: dt.tzinfo) -> dt.datetime:
    """Return a legacy time as aware UTC; a time without an offset is read in ``zone``.

    Accepts a datetime or an ISO 8601 string. Numbers are rejected, because
    seconds and milliseconds since the epoch look alike. Raises ValueError naming the value.
    """
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(
                f"invalid time {value!r}; write it in ISO 8601, such as 2024-05-01T10:00:00"
            ) from None
    elif isinstance(value, dt.datetime):
        parsed = value
    else:
        raise ValueError(f"expected an ISO 8601 time, got a {json_kind(value)}")

    if parsed.tzinfo is None or parsed.utcoffset() is None:
        # NOTE: a wall time that a daylight-saving change skips or repeats in ``zone`` is
        # read with fold=0; the legacy code wrote UTC, where this never happens.
        parsed = parsed.replace(tzinfo=zone)
        if zone is dt.UTC:
            return parsed
    return parsed.astimezone(dt.UTC)


@dataclass(frozen=True)
class LegacyMapper:
    """Mapping of the rows of one legacy table to unified sessions.

    ``name`` is the short name the command line's ``--only`` takes (``"derma"``);
    ``department`` the code of the department the sessions belong to. ``state_columns``
    are copied into the agent state under their own names and validated by the
    department's state schema; ``last_message_column`` becomes ``sessions.last_message``.
    ``task_types`` lists every legacy task type and the message type it becomes; any other
    task type is a problem. A row whose ``stage`` is in ``completed_stages`` becomes a
    completed session, every other row an active one.
    """

    name: str
    table: Table
    department: str
    state_columns: tuple[str, ...]
    last_message_column: str | None = None
    task_types: Mapping[str, MessageType] = field(default_factory=lambda: dict(DEFAULT_TASK_TYPES))
    completed_stages: frozenset[str] = frozenset({"completed"})

    @property
    def table_name(self) -> str:
        """The legacy table's name."""
        return self.table.name

    def map_row(
        self, row: Mapping[str, Any], *, department: Department, legacy_time_zone: dt.tzinfo
    ) -> MappedSession:
        """Map one legacy row, or raise :class:`LegacyRowError` that names the problem.

        ``row`` maps column names to decoded values; a column the table lacks is absent
        or None. Subclasses may override this to read differently shaped tables.
        """
        legacy_id = row.get("id")
        if not isinstance(legacy_id, str) or not legacy_id.strip():
            raise self._problem(
                str(legacy_id), ProblemReason.INVALID_SESSION, "the id is empty or not text"
            )
        if len(legacy_id) > MAX_SESSION_ID_LENGTH:
            raise self._problem(
                legacy_id,
                ProblemReason.INVALID_SESSION,
                f"the id has {len(legacy_id)} characters; sessions.id holds at most "
                f"{MAX_SESSION_ID_LENGTH}",
            )

        user_id = row.get("user_id")
        if not isinstance(user_id, int) or isinstance(user_id, bool):
            raise self._problem(
                legacy_id, ProblemReason.INVALID_SESSION, "user_id is empty or not an integer"
            )

        created_at = self._session_time(legacy_id, row, "created_at", legacy_time_zone)
        if created_at is None:
            raise self._problem(
                legacy_id,
                ProblemReason.INVALID_SESSION,
                "created_at is empty, so the session's start is unknown",
            )

        messages = self._map_messages(legacy_id, row.get("messages"), legacy_time_zone)
        state = self._map_state(legacy_id, row, department)
        last_message = self._last_message(legacy_id, row)

        updated_at = self._session_time(legacy_id, row, "updated_at", legacy_time_zone)
        if updated_at is None:
            # The last known activity: the later of the start and the last message.
            updated_at = max([created_at, *(message.created_at for message in messages)])

        stage = row.get("stage")
        status = "completed" if stage in self.completed_stages else "active"
        return MappedSession(
            id=legacy_id,
            user_id=user_id,
            agent_type=department.code,
            agent_state=state,
            last_message=last_message,
            status=status,
            created_at=created_at,
            updated_at=updated_at,
            messages=messages,
        )

    def _problem(self, legacy_id: str, reason: ProblemReason, detail: str) -> LegacyRowError:
        return LegacyRowError(self.table_name, legacy_id, reason.value, detail)

    def _session_time(
        self, legacy_id: str, row: Mapping[str, Any], column: str, zone: dt.tzinfo
    ) -> dt.datetime | None:
        value = row.get(column)
        if value is None:
            return None
        try:
            return read_legacy_time(value, zone)
        except ValueError as error:
            raise self._problem(
                legacy_id, ProblemReason.INVALID_TIMESTAMP, f"{column}: {error}"
            ) from None

    def _last_message(self, legacy_id: str, row: Mapping[str, Any]) -> str | None:
        if self.last_message_column is None:
            return None
        value = row.get(self.last_message_column)
        if value is not None and not isinstance(value, str):
            raise self._problem(
                legacy_id,
                ProblemReason.INVALID_SESSION,
                f"{self.last_message_column} is a {json_kind(value)}, not text",
            )
        if value is not None and "\x00" in value:
            raise self._problem(
                legacy_id,
                ProblemReason.INVALID_SESSION,
                f"{self.last_message_column} contains a NUL character, which PostgreSQL "
                "cannot store",
            )
        return value

    def _map_state(
        self, legacy_id: str, row: Mapping[str, Any], department: Department
    ) -> dict[str, Any]:
        values = {
            column: row[column] for column in self.state_columns if row.get(column) is not None
        }
        try:
            state = department.state_schema.model_validate(values)
        except ValidationError as error:
            raise self._problem(
                legacy_id, ProblemReason.INVALID_STATE, _describe_state_errors(error)
            ) from None
        return state.model_dump(mode="json", exclude_unset=True, exclude_none=True)

    def _map_messages(self, legacy_id: str, raw: Any, zone: dt.tzinfo) -> tuple[MappedMessage, ...]:
        if raw is None:
            return ()
        if not isinstance(raw, list):
            raise self._problem(
                legacy_id,
                ProblemReason.MESSAGES_NOT_LIST,
                f"messages is a JSON {json_kind(raw)}, not an array",
            )

        messages: list[MappedMessage] = []
        for position, item in enumerate(raw):
            message = self._map_message(legacy_id, position, item, zone)
            if messages and message.created_at < messages[-1].created_at:
                raise self._problem(
                    legacy_id,
                    ProblemReason.MESSAGES_OUT_OF_ORDER,
                    f"message {position} is timestamped before message {position - 1}; "
                    "sessions order messages by time, so the conversation order would change",
                )
            messages.append(message)
        return tuple(messages)

    def _map_message(
        self, legacy_id: str, position: int, item: Any, zone: dt.tzinfo
    ) -> MappedMessage:
        where = f"message {position}"
        if not isinstance(item, dict):
            raise self._problem(
                legacy_id,
                ProblemReason.INVALID_MESSAGE,
                f"{where} is a JSON {json_kind(item)}, not an object",
            )

        role = item.get("role")
        sender = _SENDERS.get(role.strip().lower()) if isinstance(role, str) else None
        if sender is None:
            received = repr(role) if isinstance(role, str | None) else f"a {json_kind(role)}"
            raise self._problem(
                legacy_id,
                ProblemReason.UNKNOWN_ROLE,
                f"{where} has role {received}; expected 'user' or 'assistant'",
            )

        task_type = item.get("task_type")
        message_type = self._message_type(legacy_id, where, task_type)
        attachments = (
            self._attachments(legacy_id, where, item)
            if "attachments" in item or "images" in item or "image_url" in item
            else []
        )
        if attachments and message_type is MessageType.TEXT:
            message_type = MessageType.IMAGE

        content = item.get("content")
        if content is None and attachments:
            content = ""
        if not isinstance(content, str):
            raise self._problem(
                legacy_id,
                ProblemReason.INVALID_MESSAGE,
                f"{where} has content of kind {json_kind(content)}; expected text",
            )

        try:
            created_at = read_legacy_time(item.get("timestamp"), zone)
        except ValueError as error:
            raise self._problem(
                legacy_id, ProblemReason.INVALID_TIMESTAMP, f"{where}: timestamp: {error}"
            ) from None

        legacy: dict[str, Any] = {}
        if task_type is not None:
            legacy["task_type"] = task_type
        if not item.keys() <= _MESSAGE_KEYS:
            legacy["fields"] = {
                key: value for key, value in item.items() if key not in _MESSAGE_KEYS
            }

        return MappedMessage(
            sender=sender,
            content=content,
            message_type=message_type.value,
            attachments=attachments or None,
            metadata={"legacy": legacy} if legacy else None,
            created_at=created_at,
        )

    def _message_type(self, legacy_id: str, where: str, task_type: Any) -> MessageType:
        if task_type is None:
            return MessageType.TEXT

        message_type = self.task_types.get(task_type) if isinstance(task_type, str) else None
        if message_type is None:
            known = ", ".join(repr(name) for name in sorted(self.task_types))
            received = (
                repr(task_type) if isinstance(task_type, str) else f"a {json_kind(task_type)}"
            )
            raise self._problem(
                legacy_id,
                ProblemReason.UNKNOWN_TASK_TYPE,
                f"{where} has task_type {received}; known task types: {known}",
            )
        return message_type

    def _attachments(self, legacy_id: str, where: str, item: Mapping[str, Any]) -> list[Any]:
        attachments: list[Any] = []

        listed = item.get("attachments")
        if listed is not None:
            if not isinstance(listed, list):
                raise self._problem(
                    legacy_id,
                    ProblemReason.INVALID_MESSAGE,
                    f"{where} has attachments of kind {json_kind(listed)}; expected an array",
                )
            attachments.extend(listed)

        images = item.get("images")
        if images is not None:
            if not isinstance(images, list):
                raise self._problem(
                    legacy_id,
                    ProblemReason.INVALID_MESSAGE,
                    f"{where} has images of kind {json_kind(images)}; expected an array",
                )
            attachments.extend(_image_attachment(image) for image in images)

        image_url = item.get("image_url")
        if image_url is not None:
            if not isinstance(image_url, str):
                raise self._problem(
                    legacy_id,
                    ProblemReason.INVALID_MESSAGE,
                    f"{where} has image_url of kind {json_kind(image_url)}; expected text",
                )
            attachments.append(_image_attachment(image_url))

        return attachments


def _image_attachment(image: Any) -> Any:
    """Return an attachment for a legacy image: a URL becomes ``{"type": "image", "url": ...}``."""
    return {"type": "image", "url": image} if isinstance(image, str) else image


def _describe_state_errors(error: ValidationError) -> str:
    """Name each invalid state field and what it must be, without quoting its value."""
    errors = error.errors()
    reasons = [
        f"{'.'.join(str(part) for part in item['loc']) or 'state'}: {item['msg']}"
        for item in errors[:MAX_REPORTED_ERRORS]
    ]
    remaining = len(errors) - MAX_REPORTED_ERRORS
    if remaining > 0:
        reasons.append(f"and {remaining} more")
    return "; ".join(reasons)
