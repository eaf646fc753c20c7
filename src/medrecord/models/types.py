"""Column types shared by the models: aware UTC datetimes and portable JSON."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, DateTime
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

from medrecord.clock import ensure_utc

__all__ = ["UTCDateTime", "json_type"]


def json_type() -> TypeEngine[Any]:
    """Return a new JSON type: JSONB on PostgreSQL, JSON elsewhere.

    Python None is stored as SQL NULL, not as the JSON text ``null``, so "no value" reads
    the same whichever way a row was written. Each column gets its own instance, because
    ``Mutable.as_mutable`` tracks every column that shares a type instance.
    """
    return JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timestamp that is always an aware UTC datetime in Python.

    PostgreSQL stores ``timestamp with time zone``; SQLite has no zone, so values are
    written as naive UTC and the zone is restored when they are read. Naive datetimes are
    rejected on the way in, because their zone is unknown.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None

        if not isinstance(value, dt.datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}: {value!r}")

        if value.tzinfo is None:
            raise ValueError(
                f"naive datetime {value.isoformat()} has no time zone; pass an aware "
                "datetime (for example with tzinfo=datetime.UTC)"
            )

        utc_value = value.astimezone(dt.UTC)
        if dialect.name == "sqlite":
            return utc_value.replace(tzinfo=None)
        return utc_value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return ensure_utc(value)
