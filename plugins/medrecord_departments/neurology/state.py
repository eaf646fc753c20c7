"""The agent state of the neurology intake."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field, field_validator

from medrecord.state import AgentState
from medrecord.state.measurements import blank_to_none
from medrecord.state.spellings import split_names

__all__ = ["NeurologyState"]

# Chinese yes/no spellings of consciousness_changes. Pydantic itself parses the English ones
# (yes/no, true/false, on/off, 1/0). "Unknown" becomes None because the chat established nothing.
_CONSCIOUSNESS_SPELLINGS: Mapping[str, bool | None] = {
    "有": True,
    "是": True,
    "无": False,
    "否": False,
    "没有": False,
    "否认": False,
    "不确定": None,
    "不详": None,
    "不清楚": None,
    "unknown": None,
    "uncertain": None,
}


class NeurologyState(AgentState):
    """Neurology state: onset, neurological signs, red flags and consciousness changes.

    ``red_flags`` are warning signs that call for urgent care, such as sudden weakness on
    one side or the worst headache of the patient's life.
    """

    onset: str | None = None
    neurological_signs: list[str] = Field(default_factory=list)
    red_flags: list[str] = Field(default_factory=list)
    consciousness_changes: bool | None = None

    @field_validator("onset", mode="before")
    @classmethod
    def _blank_to_none(cls, value: Any) -> Any:
        return blank_to_none(value)

    @field_validator("neurological_signs", "red_flags", mode="before")
    @classmethod
    def _split_text_list(cls, value: Any) -> Any:
        return split_names(value) if isinstance(value, str) else value

    @field_validator("consciousness_changes", mode="before")
    @classmethod
    def _parse_answer(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value

        key = value.strip().lower()
        if not key:
            return None
        if key in _CONSCIOUSNESS_SPELLINGS:
            return _CONSCIOUSNESS_SPELLINGS[key]
        return value
