"""Models of the legacy per-department tables ``derma_sessions`` and ``diagnosis_sessions``.

They have their own metadata, apart from the unified models, so that creating or upgrading
the unified schema never creates, alters or drops a legacy table. The columns are those
the legacy application wrote and the PRD's migration scripts read. Times are naive, as
the legacy code wrote them (UTC by default; see ``legacy_time_zone`` of the migration).
The migration reads the columns a database actually has, so a legacy table without one of
these columns can still be migrated.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Integer, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = ["DermaSession", "DiagnosisSession", "LegacyBase", "legacy_metadata"]

legacy_metadata = MetaData()
"""Metadata of the legacy tables only; :data:`medrecord.Base.metadata` does not contain them."""


class LegacyBase(DeclarativeBase):
    """Declarative base of the legacy tables."""

    metadata = legacy_metadata


class _IntakeColumns:
    """The columns both legacy tables have."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer)
    stage: Mapped[str | None] = mapped_column(String(20))
    progress: Mapped[int | None] = mapped_column(Integer)
    questions_asked: Mapped[int | None] = mapped_column(Integer)
    chief_complaint: Mapped[str | None] = mapped_column(Text)
    symptoms: Mapped[Any] = mapped_column(JSON, nullable=True)
    symptom_details: Mapped[Any] = mapped_column(JSON, nullable=True)
    risk_level: Mapped[str | None] = mapped_column(String(20))
    messages: Mapped[Any] = mapped_column(JSON, nullable=True)
    created_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    updated_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class DermaSession(_IntakeColumns, LegacyBase):
    """A row of ``derma_sessions``: a dermatology intake with its state and chat as JSON."""

    __tablename__ = "derma_sessions"

    skin_location: Mapped[str | None] = mapped_column(String(100))
    duration: Mapped[str | None] = mapped_column(String(100))
    skin_analyses: Mapped[Any] = mapped_column(JSON, nullable=True)
    latest_analysis: Mapped[Any] = mapped_column(JSON, nullable=True)
    report_interpretations: Mapped[Any] = mapped_column(JSON, nullable=True)
    latest_interpretation: Mapped[Any] = mapped_column(JSON, nullable=True)
    possible_conditions: Mapped[Any] = mapped_column(JSON, nullable=True)
    care_advice: Mapped[str | None] = mapped_column(Text)
    need_offline_visit: Mapped[bool | None] = mapped_column(Boolean)
    current_task: Mapped[str | None] = mapped_column(String(50))
    awaiting_image: Mapped[bool | None] = mapped_column(Boolean)
    current_response: Mapped[str | None] = mapped_column(Text)


class DiagnosisSession(_IntakeColumns, LegacyBase):
    """A row of ``diagnosis_sessions``: a general intake with its state and chat as JSON."""

    __tablename__ = "diagnosis_sessions"

    possible_diseases: Mapped[Any] = mapped_column(JSON, nullable=True)
    recommendations: Mapped[Any] = mapped_column(JSON, nullable=True)
    can_conclude: Mapped[bool | None] = mapped_column(Boolean)
    reasoning: Mapped[str | None] = mapped_column(Text)
    current_question: Mapped[str | None] = mapped_column(Text)
