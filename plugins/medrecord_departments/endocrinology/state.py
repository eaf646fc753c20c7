"""The agent state of the endocrinology intake."""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from typing import Any

from pydantic import Field, field_validator, model_validator

from medrecord.state import AgentState, StateModel, Timestamp
from medrecord.state.measurements import blank_to_none
from medrecord.state.spellings import canonical_spelling

__all__ = ["EndocrinologyState", "GlucoseContext", "GlucoseReading"]

# Glucose molar mass is 180.16 g/mol, so 1 mmol/L is 18.016 mg/dL.
MG_DL_PER_MMOL_L = 18.016

_GLUCOSE_TEXT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(mmol/l|mg/dl)?\s*$", re.IGNORECASE)


class GlucoseContext(enum.StrEnum):
    """When a blood glucose value was measured relative to a meal."""

    FASTING = "fasting"
    POSTPRANDIAL = "postprandial"
    RANDOM = "random"


GLUCOSE_CONTEXT_SPELLINGS: Mapping[str, str] = {
    "fasting": "fasting",
    "fbg": "fasting",
    "fpg": "fasting",
    "空腹": "fasting",
    "空腹血糖": "fasting",
    "postprandial": "postprandial",
    "post-meal": "postprandial",
    "after meal": "postprandial",
    "2h postprandial": "postprandial",
    "ppg": "postprandial",
    "餐后": "postprandial",
    "餐后2小时": "postprandial",
    "餐后两小时": "postprandial",
    "饭后": "postprandial",
    "random": "random",
    "rbg": "random",
    "随机": "random",
    "随机血糖": "random",
}


class GlucoseReading(StateModel):
    """One blood glucose measurement in mmol/L.

    A value written with a unit (``"7.2 mmol/L"``, ``"130 mg/dL"``) is converted to mmol/L,
    and a reading stored as a bare value is read as ``value_mmol_l`` with no context.
    """

    timestamp: Timestamp | None = None
    # NOTE: the upper bound is a plausibility limit, not a clinical one. Many glucose meters
    # stop at about 33 mmol/L, and most mg/dL values written without a unit exceed 60, so
    # they are rejected. A unitless mg/dL value below 60 (hypoglycaemia) still passes.
    value_mmol_l: float | None = Field(default=None, gt=0, le=60)
    context: GlucoseContext | None = None

    @model_validator(mode="before")
    @classmethod
    def _accept_bare_value(cls, value: Any) -> Any:
        if isinstance(value, int | float | str) and not isinstance(value, bool):
            return {"value_mmol_l": value}
        return value

    @field_validator("value_mmol_l", mode="before")
    @classmethod
    def _parse_value(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value

        match = _GLUCOSE_TEXT.match(value)
        if match is None:
            return value

        number = float(match.group(1))
        unit = (match.group(2) or "mmol/l").lower()
        return number / MG_DL_PER_MMOL_L if unit == "mg/dl" else number

    @field_validator("context", mode="before")
    @classmethod
    def _normalize_context(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        return canonical_spelling(value, GLUCOSE_CONTEXT_SPELLINGS)


class EndocrinologyState(AgentState):
    """Endocrinology state: blood glucose readings, HbA1c and weight change."""

    glucose_readings: list[GlucoseReading] = Field(default_factory=list)
    # An HbA1c in IFCC units (mmol/mol, such as 53) exceeds 25 and is rejected, not converted.
    hba1c_percent: float | None = Field(default=None, gt=0, le=25)
    weight_change: str | None = None

    @field_validator("hba1c_percent", mode="before")
    @classmethod
    def _strip_percent_sign(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip().endswith("%"):
            return value.strip().removesuffix("%").strip()
        return value

    @field_validator("weight_change", mode="before")
    @classmethod
    def _blank_to_none(cls, value: Any) -> Any:
        return blank_to_none(value)
