"""Checks on decoded JSON values that importing and the legacy migration share."""

from __future__ import annotations

from typing import Any

__all__ = ["contains_nul", "json_kind"]


def json_kind(value: Any) -> str:
    """Return the JSON name of a decoded value's kind: object, array, string, and so on."""
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    return "number"


def contains_nul(value: Any) -> bool:
    """Return whether a string anywhere in the value contains a NUL character.

    PostgreSQL cannot store NUL in text or JSONB, so such a value would fail the whole
    statement that writes it.
    """
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(contains_nul(key) or contains_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(contains_nul(item) for item in value)
    return False
