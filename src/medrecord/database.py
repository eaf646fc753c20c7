"""Engines configured for the library's needs on SQLite and PostgreSQL."""

from __future__ import annotations

import functools
import json
import logging
import sqlite3
from typing import Any

import sqlalchemy
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, make_url

from medrecord.errors import ConfigurationError

__all__ = ["DEFAULT_DATABASE_URL", "create_engine", "normalize_database_url"]

logger = logging.getLogger(__name__)

DEFAULT_DATABASE_URL = "sqlite:///medrecord.db"

SQLITE_BUSY_TIMEOUT_MS = 30_000


def normalize_database_url(url: str | URL) -> URL:
    """Parse a database URL, selecting psycopg 3 for plain ``postgresql://`` URLs."""
    try:
        parsed = make_url(url)
    except sqlalchemy.exc.ArgumentError as error:
        raise ConfigurationError(
            f"invalid database URL {str(url)!r}: use a SQLAlchemy URL such as "
            "'sqlite:///medrecord.db' or 'postgresql+psycopg://user@host/dbname'"
        ) from error

    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def create_engine(url: str | URL = DEFAULT_DATABASE_URL, **kwargs: Any) -> Engine:
    """Create an engine for the unified tables.

    On PostgreSQL the session time zone is UTC, so ``timestamp without time zone`` columns
    of existing tables store UTC. On SQLite the engine turns on foreign keys, WAL journaling
    and a busy timeout, and it starts every transaction with ``BEGIN IMMEDIATE``. SQLite has
    one writer at a time. A transaction that reads first and writes later fails with
    "database is locked" when another writer got in between, so taking the write lock at
    the start makes concurrent aggregations wait for each other instead. Extra keyword
    arguments go to :func:`sqlalchemy.create_engine`.

    NOTE: on SQLite even a read-only transaction keeps the write lock until it ends. A
    second session opened in the same thread while the first is still in a transaction
    therefore waits for the busy timeout (30 s) and then fails with "database is locked". End or
    commit one transaction before starting another.
    """
    parsed = normalize_database_url(url)
    # Chinese text stored as itself takes a third of the space of \uXXXX escapes.
    kwargs.setdefault("json_serializer", functools.partial(json.dumps, ensure_ascii=False))
    if parsed.get_backend_name() == "postgresql":
        _use_utc_sessions(kwargs)
    engine = sqlalchemy.create_engine(parsed, **kwargs)

    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)

    logger.info("created %s engine", engine.dialect.name)
    return engine


def _use_utc_sessions(kwargs: dict[str, Any]) -> None:
    """Set the PostgreSQL session time zone to UTC unless the caller set connection options.

    Production tables may use ``timestamp without time zone``; PostgreSQL converts aware
    values to the session zone when it stores them there, so a non-UTC zone would shift
    every stored time.
    """
    connect_args = dict(kwargs.get("connect_args") or {})
    if "options" not in connect_args:
        connect_args["options"] = "-c TimeZone=UTC"
    kwargs["connect_args"] = connect_args


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        # Hand transaction control to SQLAlchemy so that the "begin" hook below decides
        # how each transaction starts.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: sqlalchemy.Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
