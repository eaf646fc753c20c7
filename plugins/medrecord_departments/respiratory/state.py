"""The agent state of the respiratory medicine intake."""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from typing import Any

from pydantic import Field, field_validator, model_validator

from medrecord.state import AgentState, StateModel, Timestamp
from medrecord.state.measurements import blank_to_none, read_temperature_celsius
from medrecord.state.spellings import canonical_spelling

__all__ = ["CoughType", "RespiratoryState", "SpO2Reading"]

_PERCENT_TEXT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")


class CoughType(enum.StrEnum):
    """Whether a cough brings up sputum."""

    DRY = "dry"
    PRODUCTIVE = "productive"


COUGH_TYPE_SPELLINGS: Mapping[str, str] = {
    "dry": "dry",
    "dry cough": "dry",
    "non-productive": "dry",
    "干咳": "dry",
    "无痰": "dry",
    "productive": "productive",
    "wet": "productive",
    "wet cough": "productive",
    "productive cough": "productive",
    "有痰": "productive",
    "湿咳": "productive",
    "咳痰": "productive",
}


class SpO2Reading(StateModel):
    """One blood oxygen saturation (SpO2) measurement in percent.

    A reading stored as a bare value (``97`` or ``"97%"``) is read as ``percent``.
    """

    timestamp: Timestamp | None = None
    percent: float | None = Field(default=None, ge=0, le=100)

    @model_validator(mode="before")
    @classmethod
    def _accept_bare_value(cls, value: Any) -> Any:
        if isinstance(value, int | float | str) and not isinstance(value, bool):
            return {"percent": value}
        return value

    @field_validator("percent", mode="before")
    @classmethod
    def _strip_percent_sign(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value

        match = _PERCENT_TEXT.match(value)
        return match.group(1) if match is not None else value


class RespiratoryState(AgentState):
    """Respiratory state: cough and sputum, the highest temperature, smoking and SpO2."""

    cough_type: CoughType | None = None
    sputum: str | None = None
    # NOTE: the bounds are a plausibility limit for a patient able to chat, not a clinical
    # range. A value above 45 is most likely Fahrenheit written without its unit.
    max_temperature_celsius: float | None = Field(default=None, ge=30, le=45)
    smoking_history: str | None = None
    spo2_readings: list[SpO2Reading] = Field(default_factory=list)

    @field_validator("cough_type", mode="before")
    @classmethod
    def _normalize_cough_type(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        return canonical_spelling(value, COUGH_TYPE_SPELLINGS)

    @field_validator("max_temperature_celsius", mode="before")
    @classmethod
    def _parse_temperature(cls, value: Any) -> Any:
        return read_temperature_celsius(value)

    @field_validator("sputum", "smoking_history", mode="before")
    @classmethod
    def _blank_to_none(cls, value: Any) -> Any:
        return blank_to_none(value)
