"""The ``messages`` table: every chat message of every session."""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from medrecord.clock import utc_now
from medrecord.models.base import Base
from medrecord.models.types import UTCDateTime, json_type

if TYPE_CHECKING:
    from medrecord.models.chat_session import ChatSession

__all__ = ["Message", "MessageType", "Sender"]


class Sender(enum.StrEnum):
    """The author of a message: the user or the assistant."""

    USER = "user"
    ASSISTANT = "assistant"


class MessageType(enum.StrEnum):
    """The kind of content of a message."""

    TEXT = "text"
    IMAGE = "image"
    STRUCTURED = "structured"


class Message(Base):
    """One chat message.

    The JSON column named ``metadata`` is mapped to the attribute ``message_metadata``,
    because declarative classes reserve ``metadata`` for the table metadata.
    """

    __tablename__ = "messages"
    __table_args__ = (Index(None, "session_id", "created_at", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"), index=True)
    sender: Mapped[str] = mapped_column(String(20))
    content: Mapped[str] = mapped_column(Text)
    message_type: Mapped[str] = mapped_column(String(20), default=MessageType.TEXT.value)
    attachments: Mapped[list[Any] | None] = mapped_column(json_type())
    message_metadata: Mapped[dict[str, Any] | None] = mapped_column("metadata", json_type())
    created_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime, default=utc_now, server_default=func.now()
    )

    session: Mapped[ChatSession] = relationship(back_populates="messages", lazy="raise_on_sql")

    def __repr__(self) -> str:
        return f"Message(id={self.id}, session_id={self.session_id!r}, sender={self.sender!r})"
