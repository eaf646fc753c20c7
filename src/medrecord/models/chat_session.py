"""The ``sessions`` table: one row per intake conversation, every department alike."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import Index, Integer, String, Text, func
from sqlalchemy.ext.mutable import MutableDict
from sqlalchemy.orm import Mapped, mapped_column, relationship

from medrecord.clock import utc_now
from medrecord.models.base import Base
from medrecord.models.types import UTCDateTime, json_type

if TYPE_CHECKING:
    from medrecord.models.message import Message

__all__ = ["ChatSession"]


class ChatSession(Base):
    """An intake conversation of one user with one department's agent.

    The class is not called ``Session`` so that it never shadows
    :class:`sqlalchemy.orm.Session`. ``agent_type`` is the department code
    (``"dermatology"``), and ``agent_state`` the department's state as JSON; in-place changes
    to the top level of ``agent_state`` are tracked.
    """

    __tablename__ = "sessions"
    __table_args__ = (Index(None, "user_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    doctor_id: Mapped[int | None] = mapped_column(Integer)
    # NOTE: the production DDL has DEFAULT 'general'; the model sets no default, because a
    # session filed under a department no caller chose misfiles its record.
    agent_type: Mapped[str] = mapped_column(String(50), index=True)
    agent_state: Mapped[dict[str, Any] | None] = mapped_column(MutableDict.as_mutable(json_type()))
    last_message: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="active", index=True)
    created_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime, default=utc_now, server_default=func.now()
    )
    updated_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime, default=utc_now, onupdate=utc_now, server_default=func.now()
    )

    messages: Mapped[list[Message]] = relationship(
        back_populates="session",
        cascade="all, delete-orphan",
        order_by="(Message.created_at, Message.id)",
        lazy="raise_on_sql",
    )

    def __repr__(self) -> str:
        return (
            f"ChatSession(id={self.id!r}, user_id={self.user_id}, agent_type={self.agent_type!r})"
        )
