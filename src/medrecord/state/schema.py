"""The common agent state that every department's state schema extends."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from medrecord.clock import ensure_utc
from medrecord.state.spellings import (
    RISK_LEVEL_SPELLINGS,
    SYMPTOM_STATUS_SPELLINGS,
    canonical_spelling,
    split_names,
)

__all__ = [
    "AgentState",
    "DiagnosisCandidate",
    "Recommendations",
    "RiskLevel",
    "StateModel",
    "SymptomDetail",
    "SymptomStatus",
    "Timestamp",
]


Timestamp = Annotated[dt.datetime, AfterValidator(ensure_utc)]
"""A time in a state, as aware UTC. A time without an offset is read as UTC, as stored."""


class RiskLevel(enum.StrEnum):
    """Risk assessed by the intake agent, from lowest to highest."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """Position in the order low < medium < high < critical."""
        return list(RiskLevel).index(self)


class SymptomStatus(enum.StrEnum):
    """Whether the patient has a symptom: present, absent (denied) or uncertain."""

    PRESENT = "present"
    ABSENT = "absent"
    UNCERTAIN = "uncertain"


class StateModel(BaseModel):
    """Base of state models: unknown keys are kept, so reading a state loses nothing."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class SymptomDetail(StateModel):
    """The known facts of one symptom. Fields the chat did not establish stay None."""

    duration: str | None = None
    severity: str | None = None
    location: str | None = None
    status: SymptomStatus | None = None

    @field_validator("status", mode="before")
    @classmethod
    def _normalize_status(cls, value: Any) -> Any:
        return canonical_spelling(value, SYMPTOM_STATUS_SPELLINGS)


class DiagnosisCandidate(StateModel):
    """A condition the agent considers, with its estimated probability if it gave one.

    ``probability`` is a fraction from 0 to 1; a percentage written as ``"70%"`` is read as
    0.7. A bare number above 1 is not guessed at and is reported as invalid.
    """

    name: str = Field(min_length=1)
    probability: float | None = Field(default=None, ge=0, le=1)

    @model_validator(mode="before")
    @classmethod
    def _accept_bare_name(cls, value: Any) -> Any:
        return {"name": value} if isinstance(value, str) else value

    @field_validator("probability", mode="before")
    @classmethod
    def _read_percentage(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip().endswith("%"):
            try:
                return float(value.strip().removesuffix("%")) / 100
            except ValueError:
                return value
        return value


class Recommendations(StateModel):
    """Advice from the intake agent."""

    department: str | None = None
    urgency: str | None = None
    lifestyle: list[str] = Field(default_factory=list)
    tests: list[str] = Field(default_factory=list)
    medications: list[str] = Field(default_factory=list)
    advice: str | None = None

    @field_validator("lifestyle", "tests", "medications", mode="before")
    @classmethod
    def _split_text_list(cls, value: Any) -> Any:
        return split_names(value) if isinstance(value, str) else value


class AgentState(StateModel):
    """The intake state every department shares.

    Departments subclass it with their own fields. Every field is optional because a state
    holds only what the conversation established; a missing ``risk_level`` means the risk
    was not assessed.
    """

    stage: str | None = None
    progress: int | None = Field(default=None, ge=0, le=100)
    chief_complaint: str | None = None
    symptoms: list[str] = Field(default_factory=list)
    symptom_details: dict[str, SymptomDetail] = Field(default_factory=dict)
    risk_level: RiskLevel | None = None
    questions_asked: int | None = Field(default=None, ge=0)
    can_conclude: bool | None = None
    recommendations: Recommendations | None = None
    past_history: str | None = None

    @field_validator("risk_level", mode="before")
    @classmethod
    def _normalize_risk_level(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        return canonical_spelling(value, RISK_LEVEL_SPELLINGS)

    @field_validator("progress", mode="before")
    @classmethod
    def _parse_percent(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip().endswith("%"):
            return value.strip().removesuffix("%").strip()
        return value

    @field_validator("symptoms", mode="before")
    @classmethod
    def _split_symptoms(cls, value: Any) -> Any:
        if isinstance(value, str):
            return split_names(value)
        return value

    @field_validator("symptoms")
    @classmethod
    def _drop_duplicate_symptoms(cls, value: list[str]) -> list[str]:
        stripped = (name.strip() for name in value)
        return list(dict.fromkeys(name for name in stripped if name))

    @field_validator("chief_complaint", "past_history", mode="before")
    @classmethod
    def _blank_to_none(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("recommendations", mode="before")
    @classmethod
    def _text_advice(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"advice": value} if value.strip() else None
        return value

    def present_symptoms(self) -> list[str]:
        """Symptoms the patient has: the ``symptoms`` list, then details marked present.

        Names that come only from ``symptom_details`` are sorted, like those of the other
        status lists, because PostgreSQL's JSONB does not keep the key order of a mapping.
        """
        names = list(self.symptoms)
        for name in self._names_with_status(SymptomStatus.PRESENT):
            if name not in names:
                names.append(name)
        return [name for name in names if self._status_of(name) is not SymptomStatus.ABSENT]

    def absent_symptoms(self) -> list[str]:
        """Symptoms the patient denies."""
        return self._names_with_status(SymptomStatus.ABSENT)

    def uncertain_symptoms(self) -> list[str]:
        """Symptoms whose presence the conversation left open."""
        return self._names_with_status(SymptomStatus.UNCERTAIN)

    def _names_with_status(self, status: SymptomStatus) -> list[str]:
        return sorted(
            name for name, detail in self.symptom_details.items() if detail.status is status
        )

    def _status_of(self, name: str) -> SymptomStatus | None:
        detail = self.symptom_details.get(name)
        return detail.status if detail is not None else None
