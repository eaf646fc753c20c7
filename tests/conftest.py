"""Fixtures shared by the test suite: databases on SQLite and PostgreSQL, and departments.

A test that takes ``backend``, ``engine``, ``database_url`` or ``db`` runs once on SQLite and
once on PostgreSQL, and starts from empty tables. PostgreSQL tests use the server at
``MEDRECORD_TEST_POSTGRESQL_URL`` when it is set, and otherwise a throwaway server that the
suite starts on 127.0.0.1 (tests/support/postgres_server.py). When neither is available they
skip with the reason, except when the environment variable CI is "true": then they fail.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import medrecord_departments.dermatology
import pytest
import sqlalchemy
from sqlalchemy.engine import URL, Engine
from sqlalchemy.orm import Session as DatabaseSession
from sqlalchemy.pool import NullPool

from medrecord import Base, DepartmentRegistry, create_engine, load_departments
from medrecord.database import normalize_database_url
from tests.departments import SleepClinicPlugin
from tests.support import postgres_server
from tests.support.postgres_server import PostgresServer, PostgresServerError

POSTGRESQL_URL_ENV = "MEDRECORD_TEST_POSTGRESQL_URL"
"""URL of a PostgreSQL server to use instead of starting one. Its user must be allowed to
create databases."""

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgresql),
]

# PostgreSQL truncates identifiers to 63 bytes.
_MAX_DATABASE_NAME_LENGTH = 63


def _skip_or_fail(reason: str) -> NoReturn:
    """Skip the PostgreSQL tests with a reason, or fail them when CI is "true"."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true, but the PostgreSQL tests cannot run: {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL is unavailable: {reason}")


@pytest.fixture(scope="session")
def postgresql_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[URL]:
    """URL of the maintenance database of the PostgreSQL server that the tests use."""
    external = os.environ.get(POSTGRESQL_URL_ENV, "").strip()
    if external:
        url = normalize_database_url(external)
        probe = sqlalchemy.create_engine(url, poolclass=NullPool)
        try:
            with probe.connect() as connection:
                connection.exec_driver_sql("SELECT 1")
        except sqlalchemy.exc.OperationalError as error:
            _skip_or_fail(f"failed to connect to {POSTGRESQL_URL_ENV}: {error}")
        finally:
            probe.dispose()
        yield url
        return

    reason = postgres_server.unavailable_reason()
    if reason:
        _skip_or_fail(reason)

    server = PostgresServer()
    try:
        server.start(tmp_path_factory.mktemp("postgresql"))
    except PostgresServerError as error:
        _skip_or_fail(f"the test server failed to start: {error}")

    try:
        yield normalize_database_url(server.url())
    finally:
        server.stop()


@pytest.fixture(scope="module")
def postgresql_module_engine(
    request: pytest.FixtureRequest, postgresql_server_url: URL
) -> Iterator[Engine]:
    """Engine on a new PostgreSQL database for one test module, with the tables created."""
    name = _database_name(request.module.__name__)
    admin = sqlalchemy.create_engine(
        postgresql_server_url, isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    quoted_name = admin.dialect.identifier_preparer.quote(name)
    with admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {quoted_name}")

    engine = create_engine(postgresql_server_url.set(database=name))
    try:
        Base.metadata.create_all(engine)
        yield engine
    finally:
        engine.dispose()
        # DROP DATABASE ... WITH (FORCE) exists since PostgreSQL 13.
        version = admin.dialect.server_version_info or (0,)
        force = " WITH (FORCE)" if version >= (13,) else ""
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {quoted_name}{force}")
        admin.dispose()


def _database_name(module_name: str) -> str:
    """Return a unique database name that says which test module it belongs to."""
    suffix = uuid.uuid4().hex[:8]
    stem = re.sub(r"[^a-z0-9_]", "_", module_name.rsplit(".", 1)[-1].lower())
    stem = stem[: _MAX_DATABASE_NAME_LENGTH - len("medrecord__") - len(suffix)]
    return f"medrecord_{stem}_{suffix}"


def _empty_tables(engine: Engine) -> None:
    """Delete every row of the library's tables and restart their id sequences.

    Tables that an earlier test of the module dropped are created again first.
    """
    Base.metadata.create_all(engine)
    quote = engine.dialect.identifier_preparer.quote
    tables = ", ".join(quote(table.name) for table in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Name of the database backend that the test runs on: "sqlite" or "postgresql"."""
    name: str = request.param
    return name


@pytest.fixture
def engine(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """Engine from ``medrecord.create_engine`` on an empty database of the test's backend."""
    if backend == "postgresql":
        shared: Engine = request.getfixturevalue("postgresql_module_engine")
        _empty_tables(shared)
        yield shared
        return

    sqlite_engine = create_engine(f"sqlite:///{tmp_path / 'medrecord.db'}")
    try:
        Base.metadata.create_all(sqlite_engine)
        yield sqlite_engine
    finally:
        sqlite_engine.dispose()


@pytest.fixture
def database_url(engine: Engine) -> str:
    """URL of the test's empty database, with its password, for code that opens its own engine."""
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture
def db(engine: Engine) -> Iterator[DatabaseSession]:
    """SQLAlchemy session on the test's empty database, rolled back and closed after the test."""
    with DatabaseSession(engine) as session:
        yield session


@pytest.fixture(scope="session")
def registry() -> DepartmentRegistry:
    """Departments dermatology and the test-only sleep clinic, without the other plugins."""
    return load_departments(
        plugins=[
            ("dermatology", medrecord_departments.dermatology),
            ("sleep", SleepClinicPlugin()),
        ],
        entry_points=False,
        strict=True,
    )


@pytest.fixture(scope="session")
def installed_registry() -> DepartmentRegistry:
    """Departments of every installed plugin, found through entry points as an application does."""
    return load_departments()
