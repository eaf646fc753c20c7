"""Aware UTC time, time zones and local calendar days."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from medrecord.errors import InvalidTimeZoneError

__all__ = ["DEFAULT_TIME_ZONE", "Clock", "ensure_utc", "local_day", "resolve_time_zone", "utc_now"]

DEFAULT_TIME_ZONE = "Asia/Shanghai"

Clock = Callable[[], dt.datetime]
"""A callable returning the current time as an aware datetime."""


def utc_now() -> dt.datetime:
    """Return the current time as an aware UTC datetime."""
    return dt.datetime.now(dt.UTC)


def ensure_utc(value: dt.datetime) -> dt.datetime:
    """Convert an aware datetime to UTC; read a naive one as UTC.

    Naive values only come from database drivers that drop the zone (SQLite), and the
    library always stores UTC, so reading them as UTC restores what was written.
    """
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def resolve_time_zone(name: str | dt.tzinfo) -> dt.tzinfo:
    """Return the zone for an IANA name, or the zone itself when one is passed."""
    if isinstance(name, dt.tzinfo):
        return name

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise InvalidTimeZoneError(name) from error


def local_day(moment: dt.datetime, zone: dt.tzinfo) -> dt.date:
    """Return the calendar day of an instant as seen in a time zone."""
    return ensure_utc(moment).astimezone(zone).date()
