"""Spellings of enumerated state values seen in stored agent states."""

from __future__ import annotations

import re
from collections.abc import Mapping

__all__ = ["RISK_LEVEL_SPELLINGS", "SYMPTOM_STATUS_SPELLINGS", "canonical_spelling", "split_names"]

RISK_LEVEL_SPELLINGS: Mapping[str, str] = {
    "low": "low",
    "l": "low",
    "低": "low",
    "低危": "low",
    "低风险": "low",
    "medium": "medium",
    "moderate": "medium",
    "mid": "medium",
    "m": "medium",
    "中": "medium",
    "中等": "medium",
    "中危": "medium",
    "中风险": "medium",
    "中度": "medium",
    "high": "high",
    "h": "high",
    "高": "high",
    "高危": "high",
    "高风险": "high",
    "critical": "critical",
    "urgent": "critical",
    "emergency": "critical",
    "危急": "critical",
    "紧急": "critical",
    "极高": "critical",
}

SYMPTOM_STATUS_SPELLINGS: Mapping[str, str] = {
    "present": "present",
    "yes": "present",
    "true": "present",
    "positive": "present",
    "1": "present",
    "有": "present",
    "是": "present",
    "absent": "absent",
    "no": "absent",
    "false": "absent",
    "negative": "absent",
    "denied": "absent",
    "0": "absent",
    "无": "absent",
    "否": "absent",
    "没有": "absent",
    "否认": "absent",
    "uncertain": "uncertain",
    "unknown": "uncertain",
    "unsure": "uncertain",
    "2": "uncertain",
    "不确定": "uncertain",
    "不详": "uncertain",
    "不清楚": "uncertain",
}

_NAME_SEPARATORS = re.compile(r"[、,，;；/\n]+")


def canonical_spelling(value: object, spellings: Mapping[str, str]) -> object:
    """Map a known spelling to its canonical value; return anything else unchanged."""
    if isinstance(value, bool):
        value = "true" if value else "false"
    elif isinstance(value, int):
        value = str(value)

    if not isinstance(value, str):
        return value

    key = value.strip().lower()
    return spellings.get(key, value)


def split_names(text: str) -> list[str]:
    """Split a list written as one string ("瘙痒、红肿") into its names."""
    return [part.strip() for part in _NAME_SEPARATORS.split(text) if part.strip()]
