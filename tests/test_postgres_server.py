"""Tests for the PostgreSQL server that the test suite starts for itself."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support import postgres_server
from tests.support.postgres_server import PostgresServer


def _require_postgres() -> None:
    """Skip when PostgreSQL cannot run here, but fail when CI is "true", because CI must run it."""
    reason = postgres_server.unavailable_reason()
    if not reason:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but the PostgreSQL test server cannot run: {reason}")
    pytest.skip(reason)


def test_server_creates_queries_and_drops_database(tmp_path: Path) -> None:
    _require_postgres()
    import psycopg

    with PostgresServer().start(tmp_path) as server:
        assert server.running
        assert server.url().startswith(f"postgresql+psycopg://postgres@127.0.0.1:{server.port}/")

        url = server.create_database("medrecord_probe")
        assert url == f"postgresql+psycopg://postgres@127.0.0.1:{server.port}/medrecord_probe"

        with psycopg.connect(
            host="127.0.0.1", port=server.port, user="postgres", dbname="medrecord_probe"
        ) as connection:
            row = connection.execute("SELECT 1").fetchone()
            encoding = connection.execute("SHOW server_encoding").fetchone()
        assert row == (1,)
        assert encoding == ("UTF8",)

        server.drop_database("medrecord_probe")
        with psycopg.connect(
            host="127.0.0.1", port=server.port, user="postgres", dbname="postgres"
        ) as connection:
            remaining = connection.execute(
                "SELECT count(*) FROM pg_database WHERE datname = 'medrecord_probe'"
            ).fetchone()
        assert remaining == (0,)

        port = server.port

    assert not server.running
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(host="127.0.0.1", port=port, user="postgres", connect_timeout=5)


def test_drop_database_closes_open_connections(tmp_path: Path) -> None:
    _require_postgres()
    import psycopg

    with PostgresServer().start(tmp_path) as server:
        server.create_database("medrecord_busy")
        connection = psycopg.connect(
            host="127.0.0.1", port=server.port, user="postgres", dbname="medrecord_busy"
        )
        try:
            server.drop_database("medrecord_busy")
        finally:
            connection.close()

        server.drop_database("medrecord_busy")


def test_server_rejects_invalid_database_name(tmp_path: Path) -> None:
    _require_postgres()

    with PostgresServer().start(tmp_path) as server:
        for name in ("", "1starts_with_digit", "has-dash", "x" * 64, 'quote"d'):
            with pytest.raises(ValueError, match="invalid database name"):
                server.create_database(name)


def test_server_methods_need_start() -> None:
    server = PostgresServer()

    with pytest.raises(postgres_server.PostgresServerError, match="is not running"):
        server.url()

    server.stop()
    assert not server.running
