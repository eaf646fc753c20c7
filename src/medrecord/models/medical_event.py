"""The ``medical_events`` table: records built from one or more sessions."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import Date, Index, Integer, String, Text, func, text
from sqlalchemy.ext.mutable import MutableDict, MutableList
from sqlalchemy.orm import Mapped, mapped_column

from medrecord.clock import utc_now
from medrecord.models.base import Base
from medrecord.models.types import UTCDateTime, json_type

__all__ = ["EventStatus", "MedicalEvent"]


class EventStatus(enum.StrEnum):
    """Lifecycle of a medical event. Only active events take new sessions."""

    ACTIVE = "active"
    COMPLETED = "completed"
    ARCHIVED = "archived"


class MedicalEvent(Base):
    """A medical event (病历事件): the sessions of one user, department and local day.

    ``sessions`` is the JSON list of session snapshots that clients read; the other columns
    are derived from it. ``risk_level`` is NULL when no session assessed a risk: it has no
    default. ``event_date`` is the local calendar day the event files under. Active events
    are unique per ``user_id``, ``agent_type`` and ``event_date``, so two concurrent
    aggregations cannot create two events.
    """

    __tablename__ = "medical_events"
    __table_args__ = (
        Index(
            "uq_medical_events_active_day",
            "user_id",
            "agent_type",
            "event_date",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    title: Mapped[str] = mapped_column(String(200))
    department: Mapped[str] = mapped_column(String(50))
    agent_type: Mapped[str] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(String(20), default=EventStatus.ACTIVE.value)
    chief_complaint: Mapped[str | None] = mapped_column(Text)
    summary: Mapped[str | None] = mapped_column(Text)
    risk_level: Mapped[str | None] = mapped_column(String(20))
    ai_analysis: Mapped[dict[str, Any] | None] = mapped_column(MutableDict.as_mutable(json_type()))
    sessions: Mapped[list[Any] | None] = mapped_column(MutableList.as_mutable(json_type()))
    session_count: Mapped[int] = mapped_column(Integer, default=0)
    attachment_count: Mapped[int] = mapped_column(Integer, default=0)
    start_time: Mapped[dt.datetime | None] = mapped_column(
        UTCDateTime, default=utc_now, server_default=func.now()
    )
    end_time: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime, default=utc_now, server_default=func.now()
    )
    updated_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime, default=utc_now, onupdate=utc_now, server_default=func.now()
    )
    event_date: Mapped[dt.date | None] = mapped_column(Date)

    def __repr__(self) -> str:
        return (
            f"MedicalEvent(id={self.id}, user_id={self.user_id}, agent_type={self.agent_type!r}, "
            f"event_date={self.event_date})"
        )
