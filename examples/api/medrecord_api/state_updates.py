"""Validating an agent's state update and merging it into the stored agent state."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from medrecord.state import AgentState

__all__ = ["InvalidStateUpdateError", "merge_state", "validate_state_update"]


class InvalidStateUpdateError(Exception):
    """An agent's state update does not pass the department's state schema.

    ``fields`` names the invalid fields; the values are left out, because they can be
    health data.
    """

    def __init__(self, fields: list[str]) -> None:
        self.fields = fields
        super().__init__(f"invalid state update field(s): {', '.join(fields)}")


def validate_state_update(schema: type[AgentState], update: Mapping[str, Any]) -> dict[str, Any]:
    """Validate an update with a department schema; return the fields it sets, normalised.

    Known spellings are normalised as when a state is read (risk level "中" becomes
    "medium"), and fields the schema does not know are kept. Raises
    :class:`InvalidStateUpdateError` for a value the schema rejects.
    """
    try:
        validated = schema.model_validate(dict(update))
    except ValidationError as error:
        fields = sorted(
            {".".join(str(part) for part in detail["loc"]) for detail in error.errors()}
        )
        raise InvalidStateUpdateError(fields) from None
    dumped: dict[str, Any] = validated.model_dump(mode="json", exclude_unset=True)
    return dumped


def merge_state(stored: Any, update: Mapping[str, Any]) -> dict[str, Any]:
    """Return the stored state with an update merged in; neither argument is changed.

    Mappings are merged key by key, lists gain the items they lack (in the update's
    order), and any other value, None included, replaces the stored one. Merging adds
    and never removes, so two replies merged one after the other both keep what they
    added. A stored state that is not a JSON object is replaced by the update.
    """
    merged: dict[str, Any] = copy.deepcopy(stored) if isinstance(stored, dict) else {}
    for key, value in update.items():
        merged[key] = _merge_value(merged.get(key), value)
    return merged


def _merge_value(stored: Any, new: Any) -> Any:
    if isinstance(stored, dict) and isinstance(new, Mapping):
        merged = dict(stored)
        for key, value in new.items():
            merged[key] = _merge_value(stored.get(key), value)
        return merged
    if isinstance(stored, list) and isinstance(new, list):
        return stored + [item for item in new if item not in stored]
    return copy.deepcopy(new)
