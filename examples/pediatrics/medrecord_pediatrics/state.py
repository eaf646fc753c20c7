"""The agent state of the pediatric intake, where a parent describes the child."""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from typing import Any

from pydantic import Field, field_validator

from medrecord.state import AgentState, DiagnosisCandidate
from medrecord.state.measurements import blank_to_none, read_temperature_celsius
from medrecord.state.spellings import canonical_spelling, split_names

__all__ = ["ChildSex", "PediatricsState"]

_WEIGHT_TEXT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(kg|公斤|千克|斤|g|克)?\s*$", re.IGNORECASE)

# Grams per unit of a weight written by a parent. One 斤 is 500 g.
_GRAMS_PER_UNIT: Mapping[str, float] = {
    "": 1000,
    "kg": 1000,
    "公斤": 1000,
    "千克": 1000,
    "斤": 500,
    "g": 1,
    "克": 1,
}


class ChildSex(enum.StrEnum):
    """The child's sex as the parent reports it."""

    FEMALE = "female"
    MALE = "male"


CHILD_SEX_SPELLINGS: Mapping[str, str] = {
    "female": "female",
    "f": "female",
    "girl": "female",
    "女": "female",
    "女孩": "female",
    "女宝": "female",
    "女宝宝": "female",
    "male": "male",
    "m": "male",
    "boy": "male",
    "男": "male",
    "男孩": "male",
    "男宝": "male",
    "男宝宝": "male",
}


class PediatricsState(AgentState):
    """Pediatric state: the child's age, weight, feeding, vaccinations and fever.

    ``child_age`` stays text as the parent wrote it ("2岁", "8个月", "三个多月"), because
    ages of young children are given in months, weeks or days and often approximately.
    """

    child_age: str | None = None
    child_sex: ChildSex | None = None
    # NOTE: the bounds are a plausibility limit from a premature newborn to a heavy
    # adolescent, not a clinical range.
    weight_kg: float | None = Field(default=None, gt=0.3, le=200)
    birth_history: str | None = None
    feeding: str | None = None
    vaccination_history: str | None = None
    allergy_history: str | None = None
    # NOTE: the bounds are a plausibility limit; a value above 45 is usually Fahrenheit
    # written without its unit.
    max_temperature_celsius: float | None = Field(default=None, ge=30, le=45)
    medications_taken: list[str] = Field(default_factory=list)
    possible_diseases: list[DiagnosisCandidate] = Field(default_factory=list)

    @field_validator(
        "child_age",
        "birth_history",
        "feeding",
        "vaccination_history",
        "allergy_history",
        mode="before",
    )
    @classmethod
    def _blank_to_none(cls, value: Any) -> Any:
        return blank_to_none(value)

    @field_validator("child_sex", mode="before")
    @classmethod
    def _normalize_child_sex(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        return canonical_spelling(value, CHILD_SEX_SPELLINGS)

    @field_validator("weight_kg", mode="before")
    @classmethod
    def _parse_weight(cls, value: Any) -> Any:
        """Read a weight written with its unit ("12公斤", "24斤", "3500g") as kilograms."""
        if not isinstance(value, str):
            return value

        match = _WEIGHT_TEXT.match(value)
        if match is None:
            return value

        unit = (match.group(2) or "").lower()
        return float(match.group(1)) * _GRAMS_PER_UNIT[unit] / 1000

    @field_validator("max_temperature_celsius", mode="before")
    @classmethod
    def _parse_temperature(cls, value: Any) -> Any:
        return read_temperature_celsius(value)

    @field_validator("medications_taken", mode="before")
    @classmethod
    def _split_medications(cls, value: Any) -> Any:
        return split_names(value) if isinstance(value, str) else value
