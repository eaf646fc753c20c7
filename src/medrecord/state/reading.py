"""Lenient, lossless reading of stored agent states."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import ValidationError

from medrecord.state.schema import AgentState

__all__ = ["StateProblem", "StateReading", "read_agent_state"]

logger = logging.getLogger(__name__)

StateT = TypeVar("StateT", bound=AgentState)


@dataclass(frozen=True)
class StateProblem:
    """An invalid value found in a stored state, left out of the validated state."""

    field: str
    value: Any
    reason: str

    def as_json(self) -> dict[str, Any]:
        """Return the problem as a JSON-ready dict."""
        return {"field": self.field, "value": self.value, "reason": self.reason}


@dataclass(frozen=True)
class StateReading(Generic[StateT]):
    """A validated state and the problems found while reading it."""

    state: StateT
    problems: list[StateProblem] = field(default_factory=list)


def read_agent_state(
    raw: Any, schema: type[StateT], *, session_id: str | None = None
) -> StateReading[StateT]:
    """Validate a stored ``agent_state`` through a department schema without failing.

    Known spellings are normalised by the schema and unknown keys are kept. An invalid value
    is left out of the returned state and reported as a :class:`StateProblem` with the value
    as stored: the smallest enclosing list item or mapping entry is dropped, so one bad
    analysis does not discard the others. The stored row is never changed.
    """
    if raw is None:
        return StateReading(schema())

    if not isinstance(raw, dict):
        problem = StateProblem(
            "", raw, f"agent_state is a JSON {type(raw).__name__}, not an object"
        )
        logger.warning("agent_state of session %s is not an object", session_id)
        return StateReading(schema(), [problem])

    data = _deep_copy_json(raw)
    problems: list[StateProblem] = []

    while True:
        try:
            state = schema.model_validate(data)
        except ValidationError as error:
            removed_any = False
            for detail in error.errors():
                location = tuple(detail["loc"])
                removed = _remove_invalid(data, location)
                if removed is None:
                    continue
                path, value = removed
                problems.append(StateProblem(path, value, detail["msg"]))
                removed_any = True

            if not removed_any:
                raise
            continue

        if problems:
            logger.warning(
                "agent_state of session %s has %d invalid value(s): %s",
                session_id,
                len(problems),
                ", ".join(problem.field for problem in problems),
            )
        return StateReading(state, problems)


def _remove_invalid(data: dict[str, Any], location: tuple[Any, ...]) -> tuple[str, Any] | None:
    """Remove the innermost stored entry an error points at; return its path and value.

    An error about a missing key points at nothing stored, so the entry that should have
    held the key is removed instead.
    """
    for depth in range(len(location), 0, -1):
        parent: Any = data
        for key in location[: depth - 1]:
            parent = _child(parent, key)
            if parent is None:
                break
        else:
            key = location[depth - 1]
            if _child(parent, key) is not None or (isinstance(parent, dict) and key in parent):
                return _format_path(location[:depth]), parent.pop(key)
    return None


def _child(container: Any, key: Any) -> Any:
    if isinstance(container, dict):
        return container.get(key)
    if isinstance(container, list) and isinstance(key, int) and 0 <= key < len(container):
        return container[key]
    return None


def _format_path(location: tuple[Any, ...]) -> str:
    path = ""
    for key in location:
        if isinstance(key, int):
            path += f"[{key}]"
        elif path:
            path += f".{key}"
        else:
            path = str(key)
    return path


def _deep_copy_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _deep_copy_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_deep_copy_json(item) for item in value]
    return value
