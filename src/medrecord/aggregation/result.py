"""The result of an aggregation: the event and the session summary."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from medrecord.state import StateProblem

__all__ = ["AGGREGATED_MESSAGE", "AggregationResult", "SessionSummary"]

AGGREGATED_MESSAGE = {
    "zh-CN": "会话已聚合到病历事件",
    "en": "The session was added to the medical event",
}


@dataclass(frozen=True)
class SessionSummary:
    """The aggregated session at a glance. None and empty lists mean "not in the session"."""

    chief_complaint: str | None
    symptoms: list[str]
    risk_level: str | None
    message_count: int
    has_images: bool

    def as_json(self) -> dict[str, Any]:
        """Return the summary in the shape of the aggregate API response."""
        return {
            "chief_complaint": self.chief_complaint,
            "symptoms": list(self.symptoms),
            "risk_level": self.risk_level,
            "message_count": self.message_count,
            "has_images": self.has_images,
        }


@dataclass(frozen=True)
class AggregationResult:
    """The event a session was aggregated into, and the session's summary."""

    event_id: int
    is_new_event: bool
    department: str
    event_date: dt.date
    session_summary: SessionSummary
    state_problems: list[StateProblem] = field(default_factory=list)

    def as_response(self, locale: str = "zh-CN") -> dict[str, Any]:
        """Return the aggregate API response: event id, message, new-event flag, summary."""
        return {
            "event_id": self.event_id,
            "message": AGGREGATED_MESSAGE.get(locale, AGGREGATED_MESSAGE["zh-CN"]),
            "is_new_event": self.is_new_event,
            "session_summary": self.session_summary.as_json(),
        }
