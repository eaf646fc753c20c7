"""Event fields derived from an event's session snapshots."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from medrecord.state import RiskLevel

__all__ = ["DerivedEvent", "derive_event", "merge_snapshot"]


@dataclass(frozen=True)
class DerivedEvent:
    """The event columns computed from its snapshots."""

    sessions: list[dict[str, Any]]
    session_count: int
    chief_complaint: str | None
    risk_level: str | None
    attachment_count: int
    start_time: dt.datetime | None
    end_time: dt.datetime | None
    analysis: dict[str, Any]


def merge_snapshot(
    snapshots: Iterable[dict[str, Any]], snapshot: dict[str, Any]
) -> list[dict[str, Any]]:
    """Return a new list with ``snapshot`` replacing the one of the same session, or added.

    The result is ordered by session start time and then session id, so the stored list
    does not depend on the order in which sessions were aggregated.
    """
    others = [
        existing
        for existing in snapshots
        if isinstance(existing, dict) and existing.get("session_id") != snapshot["session_id"]
    ]
    return sorted([*others, snapshot], key=_session_order)


def derive_event(snapshots: Sequence[dict[str, Any]]) -> DerivedEvent:
    """Compute the event fields from its snapshots, ordered as :func:`merge_snapshot` orders.

    The chief complaint is that of the earliest session that has one. The risk level is
    the highest assessed one, or None when no session assessed a risk. Symptoms are the
    union in order of first mention, and a symptom present in any session is not listed
    as denied.
    """
    ordered = sorted(snapshots, key=_session_order)

    present = _union(snapshot.get("symptoms") or [] for snapshot in ordered)
    denied = [
        name
        for name in _union(s.get("denied_symptoms") or [] for s in ordered)
        if name not in present
    ]
    uncertain = [
        name
        for name in _union(s.get("uncertain_symptoms") or [] for s in ordered)
        if name not in present and name not in denied
    ]

    return DerivedEvent(
        sessions=list(ordered),
        session_count=len(ordered),
        chief_complaint=next(
            (s["chief_complaint"] for s in ordered if s.get("chief_complaint")), None
        ),
        risk_level=_highest_risk(s.get("risk_level") for s in ordered),
        attachment_count=sum(int(s.get("attachment_count") or 0) for s in ordered),
        start_time=_earliest(s.get("timestamp") for s in ordered),
        end_time=_latest(s.get("last_message_at") or s.get("timestamp") for s in ordered),
        analysis={
            "symptoms": present,
            "denied_symptoms": denied,
            "uncertain_symptoms": uncertain,
            "message_count": sum(int(s.get("message_count") or 0) for s in ordered),
            "has_images": any(bool(s.get("has_images")) for s in ordered),
        },
    )


def _session_order(snapshot: dict[str, Any]) -> tuple[dt.datetime, str]:
    started = _parse_time(snapshot.get("timestamp")) or dt.datetime.min.replace(tzinfo=dt.UTC)
    return started, str(snapshot.get("session_id"))


def _union(lists: Iterable[Iterable[str]]) -> list[str]:
    names: dict[str, None] = {}
    for items in lists:
        for name in items:
            names.setdefault(name, None)
    return list(names)


def _highest_risk(levels: Iterable[Any]) -> str | None:
    assessed = [RiskLevel(level) for level in levels if level in RiskLevel._value2member_map_]
    return max(assessed, key=lambda level: level.rank).value if assessed else None


def _earliest(values: Iterable[Any]) -> dt.datetime | None:
    times = [time for time in map(_parse_time, values) if time is not None]
    return min(times) if times else None


def _latest(values: Iterable[Any]) -> dt.datetime | None:
    times = [time for time in map(_parse_time, values) if time is not None]
    return max(times) if times else None


def _parse_time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=dt.UTC)
