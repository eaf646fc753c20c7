"""Fixtures of the API tests: an app and a test client on each database backend.

The app upgrades the schema itself on start-up, as in production. The shared test
engine creates the tables without a schema version, so they are dropped first, once per
database. Later tests of a PostgreSQL module find the version and keep the tables.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from medrecord_api import IntakeAgent, RuleBasedIntakeAgent, Settings, create_app
from sqlalchemy.engine import Engine

from medrecord import Base, DepartmentRegistry
from medrecord.schema import current_revision
from tests.api.helpers import TOKENS

AppFactory = Callable[..., TestClient]


@pytest.fixture
def api_database_url(engine: Engine, database_url: str) -> str:
    """URL of the test's empty database, ready for the app's schema upgrade."""
    if current_revision(engine) is None:
        Base.metadata.drop_all(engine)
    return database_url


@pytest.fixture
def api_settings(api_database_url: str, tmp_path: Path) -> Settings:
    """Settings of a test app: the test database, two users, a temporary media directory."""
    return Settings.with_tokens(TOKENS, database_url=api_database_url, media_dir=tmp_path / "media")


@pytest.fixture
def make_client(
    api_settings: Settings, installed_registry: DepartmentRegistry
) -> Iterator[AppFactory]:
    """Return a function that starts an app and returns its test client.

    Keyword arguments replace settings fields; ``agent`` replaces the rule-based agent.
    Every app started is shut down after the test, which disposes of its engine.
    """
    clients: list[TestClient] = []

    def start(agent: IntakeAgent | None = None, **settings_changes: Any) -> TestClient:
        settings = dataclasses.replace(api_settings, **settings_changes)
        app = create_app(
            settings,
            agent=agent or RuleBasedIntakeAgent(chunk_delay=0),
            registry=installed_registry,
        )
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        return client

    yield start

    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: AppFactory) -> TestClient:
    """Test client of an app with the default settings and the rule-based agent."""
    return make_client()
