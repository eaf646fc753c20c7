"""The agent state of the orthopedics intake."""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field, field_validator

from medrecord.state import AgentState, StateModel, Timestamp
from medrecord.state.measurements import blank_to_none
from medrecord.state.spellings import split_names

__all__ = ["ImagingFinding", "OrthopedicsState"]

# A pain score written with its scale or unit: "7/10", "7 / 10", "7分".
_PAIN_SCORE_TEXT = re.compile(r"^\s*(\d+)\s*(?:/\s*10|分)\s*$")


class ImagingFinding(StateModel):
    """The AI reading of one X-ray, CT or MRI image."""

    timestamp: Timestamp | None = None
    image_url: str | None = None
    findings: list[str] = Field(default_factory=list)

    @field_validator("findings", mode="before")
    @classmethod
    def _split_findings(cls, value: Any) -> Any:
        return split_names(value) if isinstance(value, str) else value


class OrthopedicsState(AgentState):
    """Orthopedics state: where it hurts and how much, the injury, mobility and imaging.

    ``pain_score`` is on the 0-10 numeric rating scale (0 no pain, 10 worst imaginable).
    """

    pain_location: str | None = None
    pain_score: int | None = Field(default=None, ge=0, le=10)
    injury_mechanism: str | None = None
    mobility_limitations: list[str] = Field(default_factory=list)
    imaging_findings: list[ImagingFinding] = Field(default_factory=list)

    @field_validator("pain_location", "injury_mechanism", mode="before")
    @classmethod
    def _blank_to_none(cls, value: Any) -> Any:
        return blank_to_none(value)

    @field_validator("pain_score", mode="before")
    @classmethod
    def _parse_pain_score(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value

        match = _PAIN_SCORE_TEXT.match(value)
        return match.group(1) if match is not None else value

    @field_validator("mobility_limitations", mode="before")
    @classmethod
    def _split_limitations(cls, value: Any) -> Any:
        return split_names(value) if isinstance(value, str) else value
