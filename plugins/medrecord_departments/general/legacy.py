"""Mapping rows of the legacy ``diagnosis_sessions`` table to general practice sessions."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table

from medrecord.legacy import DiagnosisSession, LegacyMapper

__all__ = ["DIAGNOSIS_SESSIONS_MAPPER", "STATE_COLUMNS"]

STATE_COLUMNS = (
    "stage",
    "progress",
    "questions_asked",
    "chief_complaint",
    "symptoms",
    "symptom_details",
    "possible_diseases",
    "risk_level",
    "recommendations",
    "can_conclude",
    "reasoning",
)
"""The ``diagnosis_sessions`` columns that form the agent state, under the same names."""

DIAGNOSIS_SESSIONS_MAPPER = LegacyMapper(
    name="diagnosis",
    table=cast(Table, DiagnosisSession.__table__),
    department="general",
    state_columns=STATE_COLUMNS,
    last_message_column="current_question",
)
