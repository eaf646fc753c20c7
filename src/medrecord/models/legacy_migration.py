"""Bookkeeping tables of the legacy migration: runs, the ledger and the quarantine.

``legacy_migration_ledger`` has one row per legacy row that was migrated, written in the
same transaction as its session and messages. Its primary key is the legacy table and id,
so a legacy row is migrated at most once. ``legacy_migration_quarantine`` contains the
legacy rows that could not be migrated, with the reason, as of the latest run that read
them. ``legacy_migration_runs`` records every
migration, verification and retirement with its report.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from medrecord.clock import utc_now
from medrecord.models.base import Base
from medrecord.models.types import UTCDateTime, json_type

__all__ = ["LegacyLedgerEntry", "LegacyMigrationRun", "LegacyQuarantineEntry"]


class LegacyMigrationRun(Base):
    """One run of ``migrate legacy``, ``migrate verify`` or ``migrate retire-legacy``.

    ``kind`` is ``"migrate"``, ``"verify"`` or ``"retire"``; ``status`` is ``"running"``
    until the run ends, then ``"finished"`` or ``"failed"`` (``"passed"`` for a verification
    that found nothing wrong). A run killed before it ended stays ``"running"``.
    """

    __tablename__ = "legacy_migration_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utc_now)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    report: Mapped[dict[str, Any] | None] = mapped_column(json_type())


class LegacyLedgerEntry(Base):
    """A legacy row and the session it became, with checksums of what was written."""

    __tablename__ = "legacy_migration_ledger"

    legacy_table: Mapped[str] = mapped_column(String(63), primary_key=True)
    legacy_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    session_id: Mapped[str] = mapped_column(String(36), unique=True)
    message_count: Mapped[int] = mapped_column(Integer)
    message_checksum: Mapped[str] = mapped_column(String(64))
    state_checksum: Mapped[str] = mapped_column(String(64))
    run_id: Mapped[int] = mapped_column(Integer)
    migrated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utc_now)


class LegacyQuarantineEntry(Base):
    """A legacy row that could not be migrated, and why. The legacy row itself is untouched."""

    __tablename__ = "legacy_migration_quarantine"

    legacy_table: Mapped[str] = mapped_column(String(63), primary_key=True)
    legacy_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    reason: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(Text)
    run_id: Mapped[int] = mapped_column(Integer)
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utc_now)
