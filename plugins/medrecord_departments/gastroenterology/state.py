"""The agent state of the gastroenterology intake."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from medrecord.state import AgentState
from medrecord.state.measurements import blank_to_none
from medrecord.state.spellings import split_names

__all__ = ["GastroenterologyState"]


class GastroenterologyState(AgentState):
    """Gastroenterology state: abdominal pain, bowel habits, stool and diet triggers."""

    abdominal_pain_location: str | None = None
    bowel_habits: str | None = None
    stool_characteristics: str | None = None
    diet_triggers: list[str] = Field(default_factory=list)

    @field_validator(
        "abdominal_pain_location", "bowel_habits", "stool_characteristics", mode="before"
    )
    @classmethod
    def _blank_to_none(cls, value: Any) -> Any:
        return blank_to_none(value)

    @field_validator("diet_triggers", mode="before")
    @classmethod
    def _split_triggers(cls, value: Any) -> Any:
        return split_names(value) if isinstance(value, str) else value
