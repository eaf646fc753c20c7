"""Mapping rows of the legacy ``eye_sessions`` table to ophthalmology sessions.

The legacy eye clinic app wrote the affected eye as a one-letter code in the column ``eye``,
which the state schema does not read. The mapper translates the code into the state field
``affected_eye`` and leaves everything else to the common mapping of :class:`LegacyMapper`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Integer, MetaData, String, Table, Text

from medrecord import Department, LegacyMapper, LegacyRowError
from medrecord.legacy import MappedSession, ProblemReason

__all__ = ["EYE_CODES", "EYE_SESSIONS", "EYE_SESSIONS_MAPPER", "EyeSessionsMapper", "eye_metadata"]

eye_metadata = MetaData()
"""Metadata of the legacy table only, so that no medrecord schema upgrade ever touches it."""

EYE_SESSIONS = Table(
    "eye_sessions",
    eye_metadata,
    Column("id", String(36), primary_key=True),
    Column("user_id", Integer),
    Column("stage", String(20)),
    Column("chief_complaint", Text),
    Column("eye", String(1)),
    Column("vision_change", Text),
    Column("risk_level", String(20)),
    Column("messages", JSON),
    Column("last_reply", Text),
    Column("created_at", DateTime),
    Column("updated_at", DateTime),
)
"""The legacy table as the eye clinic app created it. Times are naive, as that app wrote them."""

EYE_CODES: Mapping[str, str] = {"L": "left", "R": "right", "B": "both"}
"""The legacy codes of the column ``eye`` and the ``affected_eye`` value each becomes."""


class EyeSessionsMapper(LegacyMapper):
    """The common mapping, after translating the legacy eye code into ``affected_eye``."""

    def map_row(
        self, row: Mapping[str, Any], *, department: Department, legacy_time_zone: dt.tzinfo
    ) -> MappedSession:
        """Translate the eye code, or raise :class:`LegacyRowError` for an unknown code."""
        translated = dict(row)
        code = row.get("eye")
        if code is not None:
            if code not in EYE_CODES:
                # The detail names the column, not the value, because it is printed and stored.
                raise LegacyRowError(
                    self.table_name,
                    str(row.get("id")),
                    ProblemReason.INVALID_STATE.value,
                    f"eye is not one of the codes {', '.join(EYE_CODES)}",
                )
            translated["affected_eye"] = EYE_CODES[code]

        return super().map_row(translated, department=department, legacy_time_zone=legacy_time_zone)


EYE_SESSIONS_MAPPER = EyeSessionsMapper(
    name="eye",
    table=EYE_SESSIONS,
    department="ophthalmology",
    # map_row above adds "affected_eye" to each row, because the table has no such column.
    state_columns=("stage", "chief_complaint", "affected_eye", "vision_change", "risk_level"),
    last_message_column="last_reply",
    completed_stages=frozenset({"completed", "closed"}),
)
"""The mapper that ``medrecord_legacy_mappers`` returns. ``--only eye`` selects it."""
