"""Request and response bodies of the API.

Times are ISO 8601 in UTC with a ``Z`` and whole seconds (``2026-01-15T10:00:00Z``), the
form that ``JSONDecoder.DateDecodingStrategy.iso8601`` on iOS reads. Text fields reject
NUL characters and unpaired surrogates, because PostgreSQL cannot store the one and UTF-8
cannot encode the other.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from medrecord_api.settings import MAX_USER_ID

__all__ = [
    "MAX_ID_LENGTH",
    "MAX_INTEGER_ID",
    "AggregateRequest",
    "AggregateResponse",
    "AggregateSummary",
    "AttachmentIn",
    "ContinueRequest",
    "CreateSessionRequest",
    "EventDetail",
    "EventPage",
    "EventSummary",
    "MessageAction",
    "MessageOut",
    "MessagePage",
    "RecordFormat",
    "SendMessageRequest",
    "SessionCreated",
    "SessionDetail",
    "SessionPage",
    "SessionSummary",
    "ShimStartRequest",
    "Text",
    "UtcTimestamp",
    "format_timestamp",
]

MAX_ID_LENGTH = 36
"""The length of ``sessions.id``: a UUID in its 36-character text form."""

MAX_INTEGER_ID = MAX_USER_ID
"""The largest id of a 32-bit INTEGER column (events, messages, doctors)."""


def _check_text(value: str) -> str:
    if "\x00" in value:
        raise PydanticCustomError("contains_nul", "Text must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise PydanticCustomError(
            "invalid_unicode", "Text contains an unpaired surrogate character"
        ) from None
    return value


Text = Annotated[str, AfterValidator(_check_text)]
"""A string that PostgreSQL and SQLite can store."""


def format_timestamp(value: dt.datetime) -> str:
    """Return an aware datetime as ISO 8601 UTC with whole seconds and a ``Z``."""
    utc = value.astimezone(dt.UTC).replace(microsecond=0, tzinfo=None)
    return utc.isoformat() + "Z"


UtcTimestamp = Annotated[
    dt.datetime,
    PlainSerializer(format_timestamp, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]

SessionId = Annotated[Text, Field(min_length=1, max_length=MAX_ID_LENGTH)]
DoctorId = Annotated[int, Field(ge=1, le=MAX_INTEGER_ID)]


class MessageAction(enum.StrEnum):
    """The task a message requests from the intake agent."""

    CONVERSATION = "conversation"
    ANALYZE_SKIN = "analyze_skin"
    INTERPRET_REPORT = "interpret_report"


class RecordFormat(enum.StrEnum):
    """Formats of a rendered record."""

    HTML = "html"
    MARKDOWN = "markdown"


class _Request(BaseModel):
    """Request bodies ignore unknown fields, so older and newer clients keep working."""

    model_config = ConfigDict(extra="ignore")


class CreateSessionRequest(_Request):
    """Body of ``POST /api/sessions``."""

    doctor_id: DoctorId | None = None
    agent_type: Annotated[Text, Field(min_length=1, max_length=50)] = Field(
        description="Department code or alias, such as dermatology or derma."
    )


class ShimStartRequest(_Request):
    """Body of the deprecated ``/api/derma/start`` and ``/api/diagnosis/start``."""

    doctor_id: DoctorId | None = None


class AttachmentIn(_Request):
    """An attachment sent with a message: an image as base64 (no ``data:`` prefix)."""

    type: Literal["image"] = "image"
    data: Annotated[str, Field(min_length=1)] = Field(description="The image, base64-encoded.")
    mime_type: Annotated[Text, Field(max_length=100)] | None = Field(
        default=None, description="Declared type; it must match the image content if given."
    )


class _MessageFields(_Request):
    attachments: list[AttachmentIn] = Field(default_factory=list)
    action: MessageAction = MessageAction.CONVERSATION


class SendMessageRequest(_MessageFields):
    """Body of ``POST /api/sessions/{session_id}/messages``.

    ``content`` may be empty only when the message carries an attachment.
    """

    content: Text = ""

    @model_validator(mode="after")
    def _require_content_or_attachment(self) -> SendMessageRequest:
        if not self.content.strip() and not self.attachments:
            raise PydanticCustomError("blank_message", "The message needs content or an attachment")
        return self


class ContinueRequest(_MessageFields):
    """Body of the deprecated ``/api/derma/continue`` and ``/api/diagnosis/continue``.

    The text may come as ``content`` or, as older clients send it, as ``message``.
    """

    session_id: SessionId
    content: Text | None = None
    message: Text | None = None

    @model_validator(mode="after")
    def _require_content_or_attachment(self) -> ContinueRequest:
        if not (self.text.strip() or self.attachments):
            raise PydanticCustomError("blank_message", "The message needs content or an attachment")
        return self

    @property
    def text(self) -> str:
        """The message text, from ``content`` or else ``message``."""
        return self.content if self.content is not None else (self.message or "")


class AggregateRequest(_Request):
    """Body of ``POST /api/medical-events/aggregate``."""

    session_id: SessionId
    session_type: Annotated[Text, Field(max_length=50)] | None = Field(
        default=None,
        description="Department the client expects; another department is a 409 conflict.",
    )


class SessionCreated(BaseModel):
    """A new session."""

    session_id: str
    agent_type: str
    status: str
    created_at: UtcTimestamp


class SessionSummary(BaseModel):
    """A session in a listing."""

    session_id: str
    agent_type: str
    doctor_id: int | None
    status: str
    created_at: UtcTimestamp
    updated_at: UtcTimestamp
    last_message: str | None


class SessionDetail(SessionSummary):
    """A session with its validated agent state and its number of messages."""

    agent_state: dict[str, Any]
    message_count: int


class SessionPage(BaseModel):
    """A page of sessions, newest first."""

    items: list[SessionSummary]
    next_cursor: str | None


class MessageOut(BaseModel):
    """A message of a session. ``partial`` marks a reply cut short by a disconnect."""

    id: int
    sender: str
    content: str
    message_type: str
    attachments: list[dict[str, Any]]
    created_at: UtcTimestamp
    partial: bool


class MessagePage(BaseModel):
    """A page of messages in chronological order."""

    items: list[MessageOut]
    next_cursor: str | None


class AggregateSummary(BaseModel):
    """The aggregated session at a glance; null risk_level means "not assessed"."""

    chief_complaint: str | None
    symptoms: list[str]
    risk_level: str | None
    message_count: int
    has_images: bool


class AggregateResponse(BaseModel):
    """Result of ``POST /api/medical-events/aggregate``."""

    event_id: int
    message: str
    is_new_event: bool
    session_summary: AggregateSummary


class EventSummary(BaseModel):
    """A medical event in a listing; null risk_level means "not assessed"."""

    event_id: int
    title: str
    department: str
    agent_type: str
    status: str
    event_date: dt.date | None
    chief_complaint: str | None
    risk_level: str | None
    session_count: int
    attachment_count: int
    start_time: UtcTimestamp | None
    end_time: UtcTimestamp | None
    created_at: UtcTimestamp
    updated_at: UtcTimestamp


class EventDetail(EventSummary):
    """A medical event with its summary, analysis and session snapshots."""

    summary: str | None
    ai_analysis: dict[str, Any]
    sessions: list[dict[str, Any]]


class EventPage(BaseModel):
    """A page of medical events, newest day first."""

    items: list[EventSummary]
    next_cursor: str | None
