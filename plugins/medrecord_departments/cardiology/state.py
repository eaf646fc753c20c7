"""The agent state of the cardiology intake."""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field, field_validator, model_validator

from medrecord.state import AgentState, RiskLevel, StateModel, Timestamp
from medrecord.state.measurements import blank_to_none
from medrecord.state.spellings import RISK_LEVEL_SPELLINGS, canonical_spelling, split_names

__all__ = ["BloodPressureReading", "CardiologyState", "ECGInterpretation"]

_BLOOD_PRESSURE_TEXT = re.compile(r"^\s*(\d{2,3})\s*/\s*(\d{2,3})\s*(mmhg)?\s*$", re.IGNORECASE)


class ECGInterpretation(StateModel):
    """The AI interpretation of one ECG (心电图) report."""

    timestamp: Timestamp | None = None
    report_url: str | None = None
    findings: list[str] = Field(default_factory=list)
    risk_level: RiskLevel | None = None

    @field_validator("findings", mode="before")
    @classmethod
    def _split_findings(cls, value: Any) -> Any:
        return split_names(value) if isinstance(value, str) else value

    @field_validator("risk_level", mode="before")
    @classmethod
    def _normalize_risk_level(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        return canonical_spelling(value, RISK_LEVEL_SPELLINGS)


class BloodPressureReading(StateModel):
    """One blood pressure measurement in mmHg, with the pulse in beats per minute.

    A reading stored as text such as ``"135/85"`` or ``"135/85 mmHg"`` is read as systolic
    over diastolic.
    """

    timestamp: Timestamp | None = None
    systolic: int | None = Field(default=None, ge=40, le=300)
    diastolic: int | None = Field(default=None, ge=20, le=200)
    pulse: int | None = Field(default=None, ge=20, le=300)

    @model_validator(mode="before")
    @classmethod
    def _parse_text_reading(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value

        match = _BLOOD_PRESSURE_TEXT.match(value)
        if match is None:
            return value
        return {"systolic": match.group(1), "diastolic": match.group(2)}

    @model_validator(mode="after")
    def _check_order(self) -> BloodPressureReading:
        if (
            self.systolic is not None
            and self.diastolic is not None
            and self.diastolic >= self.systolic
        ):
            raise ValueError(
                f"diastolic pressure {self.diastolic} is not below systolic pressure "
                f"{self.systolic}, so the two values are probably swapped or mistyped"
            )
        return self


class CardiologyState(AgentState):
    """Cardiology state: ECG interpretations, blood pressure readings and cardiac history."""

    ecg_interpretations: list[ECGInterpretation] = Field(default_factory=list)
    blood_pressure_readings: list[BloodPressureReading] = Field(default_factory=list)
    cardiac_history: str | None = None

    @field_validator("cardiac_history", mode="before")
    @classmethod
    def _blank_to_none(cls, value: Any) -> Any:
        return blank_to_none(value)
