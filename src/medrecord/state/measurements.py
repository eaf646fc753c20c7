"""Reading measurements that intake agents store as text with a unit."""

from __future__ import annotations

import re
from typing import Any

__all__ = ["blank_to_none", "read_temperature_celsius"]

_TEMPERATURE_TEXT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(°c|℃|度|°f|℉)?\s*$", re.IGNORECASE)


def read_temperature_celsius(value: Any) -> Any:
    """Read a temperature written with its unit ("39度", "101°F") as degrees Celsius.

    Fahrenheit is converted; a number without a unit is taken as Celsius. Anything else is
    returned unchanged, for the schema to report as invalid.
    """
    if not isinstance(value, str):
        return value

    match = _TEMPERATURE_TEXT.match(value)
    if match is None:
        return value

    number = float(match.group(1))
    unit = (match.group(2) or "").lower()
    return (number - 32) * 5 / 9 if unit in ("°f", "℉") else number


def blank_to_none(value: Any) -> Any:
    """Return None for a blank string, so that empty text reads as "not stated"."""
    if isinstance(value, str) and not value.strip():
        return None
    return value
