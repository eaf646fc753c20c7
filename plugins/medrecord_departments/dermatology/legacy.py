"""Mapping rows of the legacy ``derma_sessions`` table to dermatology sessions."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table

from medrecord.legacy import DEFAULT_TASK_TYPES, DermaSession, LegacyMapper
from medrecord.models import MessageType

__all__ = ["DERMA_SESSIONS_MAPPER", "STATE_COLUMNS"]

STATE_COLUMNS = (
    "stage",
    "progress",
    "questions_asked",
    "chief_complaint",
    "symptoms",
    "symptom_details",
    "skin_location",
    "duration",
    "skin_analyses",
    "latest_analysis",
    "report_interpretations",
    "latest_interpretation",
    "possible_conditions",
    "risk_level",
    "care_advice",
    "need_offline_visit",
    "current_task",
    "awaiting_image",
)
"""The ``derma_sessions`` columns that form the agent state, under the same names."""

DERMA_SESSIONS_MAPPER = LegacyMapper(
    name="derma",
    table=cast(Table, DermaSession.__table__),
    department="dermatology",
    state_columns=STATE_COLUMNS,
    last_message_column="current_response",
    # A photo analysis or a report reading is text unless the message carries an image.
    task_types={
        **DEFAULT_TASK_TYPES,
        "skin_analysis": MessageType.TEXT,
        "report_interpretation": MessageType.TEXT,
    },
)
