"""The agent state of an ophthalmology intake."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

from pydantic import Field, field_validator

from medrecord.state import AgentState, DiagnosisCandidate, canonical_spelling
from medrecord.state.measurements import blank_to_none

__all__ = ["Eye", "OphthalmologyState"]


class Eye(enum.StrEnum):
    """The affected eye."""

    LEFT = "left"
    RIGHT = "right"
    BOTH = "both"


# Spellings seen in stored states, lowercased: words, Chinese, and the Latin abbreviations
# OS (oculus sinister), OD (oculus dexter) and OU (oculus uterque).
EYE_SPELLINGS: Mapping[str, str] = {
    "left": "left",
    "os": "left",
    "左眼": "left",
    "左": "left",
    "right": "right",
    "od": "right",
    "右眼": "right",
    "右": "right",
    "both": "both",
    "ou": "both",
    "双眼": "both",
    "双侧": "both",
}


class OphthalmologyState(AgentState):
    """Ophthalmology state: the affected eye, the change in vision and possible conditions."""

    affected_eye: Eye | None = None
    vision_change: str | None = None
    possible_conditions: list[DiagnosisCandidate] = Field(default_factory=list)

    @field_validator("affected_eye", mode="before")
    @classmethod
    def _normalize_eye(cls, value: Any) -> Any:
        return canonical_spelling(blank_to_none(value), EYE_SPELLINGS)
