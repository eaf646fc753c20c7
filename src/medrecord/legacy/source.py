"""Reading a legacy table in id order, a batch at a time, whatever columns it has."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, Connection, DateTime, Text, cast, func, inspect, select, type_coerce
from sqlalchemy.sql.elements import ColumnElement

from medrecord.errors import LegacyMigrationError, LegacyRowError
from medrecord.legacy.mapping import LegacyMapper, ProblemReason

__all__ = [
    "LOOKUP_CHUNK",
    "LegacyColumns",
    "chunked",
    "decode_row",
    "inspect_legacy_table",
    "latest_update",
    "read_batch",
    "read_rows",
    "row_count",
]


LOOKUP_CHUNK = 1000
"""Ids per ``IN`` list, well under every database's limit on bound parameters."""


def chunked(values: Sequence[str]) -> Iterator[Sequence[str]]:
    """Yield the values in slices of at most :data:`LOOKUP_CHUNK`, for ``IN`` lookups."""
    for start in range(0, len(values), LOOKUP_CHUNK):
        yield values[start : start + LOOKUP_CHUNK]


@dataclass(frozen=True)
class LegacyColumns:
    """The mapper's columns a legacy table has, those it lacks, and those no mapper reads."""

    present: tuple[str, ...]
    missing: tuple[str, ...]
    unmapped: tuple[str, ...]
    json: frozenset[str]


def inspect_legacy_table(connection: Connection, mapper: LegacyMapper) -> LegacyColumns | None:
    """Return the columns the mapper's table has in this database, or None without the table."""
    inspector = inspect(connection)
    if not inspector.has_table(mapper.table_name):
        return None

    actual = [column["name"] for column in inspector.get_columns(mapper.table_name)]
    expected = [column.name for column in mapper.table.columns]
    if "id" not in actual:
        raise LegacyMigrationError(
            f"legacy table {mapper.table_name!r} has no id column; the migration reads rows "
            "in id order and keeps each id as the session id"
        )

    json_columns = frozenset(
        column.name for column in mapper.table.columns if isinstance(column.type, JSON)
    )
    return LegacyColumns(
        present=tuple(name for name in expected if name in actual),
        missing=tuple(name for name in expected if name not in actual),
        unmapped=tuple(name for name in actual if name not in expected),
        json=json_columns,
    )


def row_count(connection: Connection, mapper: LegacyMapper) -> int:
    """Return how many rows the legacy table has."""
    return int(connection.scalar(select(func.count()).select_from(mapper.table)) or 0)


def latest_update(
    connection: Connection, mapper: LegacyMapper, columns: LegacyColumns
) -> str | None:
    """Return the highest ``updated_at`` of the table as text, or None without the column.

    The value is only compared, never parsed. On SQLite it is read as the stored text, so
    a malformed time in some row cannot fail the read.
    """
    if "updated_at" not in columns.present:
        return None
    column: ColumnElement[Any] = mapper.table.c.updated_at
    if connection.dialect.name == "sqlite":
        column = type_coerce(column, Text)
    latest = connection.scalar(select(func.max(column)))
    return None if latest is None else str(latest)


def read_batch(
    connection: Connection,
    mapper: LegacyMapper,
    columns: LegacyColumns,
    *,
    after_id: str | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Read up to ``limit`` rows with ids after ``after_id``, in id order.

    JSON columns are read as their text, and on SQLite times too, so that a malformed
    value becomes a problem of its row (see :func:`decode_row`) instead of an error that
    stops the batch.
    """
    selected = _selected_columns(connection, mapper, columns)
    statement = select(*selected).order_by(mapper.table.c.id).limit(limit)
    if after_id is not None:
        statement = statement.where(mapper.table.c.id > after_id)
    return [dict(row) for row in connection.execute(statement).mappings()]


def read_rows(
    connection: Connection, mapper: LegacyMapper, columns: LegacyColumns, ids: Sequence[str]
) -> list[dict[str, Any]]:
    """Read the rows with these ids, read as :func:`read_batch` reads them."""
    selected = _selected_columns(connection, mapper, columns)
    rows: list[dict[str, Any]] = []
    for chunk in chunked(ids):
        statement = select(*selected).where(mapper.table.c.id.in_(chunk))
        rows.extend(dict(row) for row in connection.execute(statement).mappings())
    return rows


def _reject_constant(name: str) -> Any:
    # NaN and Infinity are not JSON, and PostgreSQL refuses them.
    raise ValueError(f"{name} is not a JSON number")


def _selected_columns(
    connection: Connection, mapper: LegacyMapper, columns: LegacyColumns
) -> list[ColumnElement[Any]]:
    dialect = connection.dialect.name
    selected: list[ColumnElement[Any]] = []
    for name in columns.present:
        column = mapper.table.c[name]
        if name in columns.json:
            selected.append(cast(column, Text).label(name))
        elif isinstance(column.type, DateTime) and dialect == "sqlite":
            selected.append(type_coerce(column, Text).label(name))
        else:
            selected.append(column)
    return selected


def decode_row(
    mapper: LegacyMapper, columns: LegacyColumns, raw: Mapping[str, Any]
) -> dict[str, Any]:
    """Decode the JSON text of a row read by :func:`read_batch`.

    Raises :class:`LegacyRowError` with reason ``invalid_json`` naming the column whose
    text is not JSON.
    """
    row = dict(raw)
    for name in columns.json:
        text = row.get(name)
        if text is None:
            continue
        try:
            row[name] = json.loads(text, parse_constant=_reject_constant)
        except (TypeError, ValueError) as error:
            message = getattr(error, "msg", None) or str(error)
            raise LegacyRowError(
                mapper.table_name,
                str(row.get("id")),
                ProblemReason.INVALID_JSON.value,
                f"column {name} is not valid JSON ({message})",
            ) from None
    return row
