"""The agent state of the general practice intake."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from medrecord.state import AgentState, DiagnosisCandidate
from medrecord.state.measurements import blank_to_none
from medrecord.state.spellings import split_names

__all__ = ["GeneralState"]


class GeneralState(AgentState):
    """General practice state: the conditions the agent considers and its reasoning."""

    possible_diseases: list[DiagnosisCandidate] = Field(default_factory=list)
    reasoning: str | None = None

    @field_validator("possible_diseases", mode="before")
    @classmethod
    def _split_disease_names(cls, value: Any) -> Any:
        return split_names(value) if isinstance(value, str) else value

    @field_validator("reasoning", mode="before")
    @classmethod
    def _blank_to_none(cls, value: Any) -> Any:
        return blank_to_none(value)
