"""Property-based fuzzing of every operation in the OpenAPI schema: no request gets a 5xx.

Schemathesis 4 generates valid and invalid requests from the app's own OpenAPI schema and
calls the ASGI app in process, on each database backend, with a valid bearer token.
Alice owns one session and one event, so an id that the fuzzer happens to reuse can hit
a real row. Most generated ids are missing ones and get 404.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from medrecord_api import RuleBasedIntakeAgent, Settings, create_app
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.schemas import OpenApiSchema

from medrecord import DepartmentRegistry
from tests.api.helpers import ALICE, auth, converse, create_session

# Examples per operation: about 20 s per backend on a 2-core machine. Raise it for a deeper run.
MAX_EXAMPLES = 50


@pytest.fixture
def fuzzed_app(
    api_settings: Settings, installed_registry: DepartmentRegistry, backend: str
) -> FastAPI:
    """The app on the test's backend, with one aggregated conversation of Alice stored."""
    app = create_app(
        api_settings, agent=RuleBasedIntakeAgent(chunk_delay=0), registry=installed_registry
    )
    with TestClient(app) as client:
        session_id = create_session(client)
        converse(client, session_id, "手臂上起了红疹")
        response = client.post(
            "/api/medical-events/aggregate", json={"session_id": session_id}, headers=auth(ALICE)
        )
        assert response.status_code == 200, response.text
    return app


def load_schema() -> OpenApiSchema:
    """Load the app's OpenAPI schema, which does not depend on the database it runs on.

    NOTE: ``schemathesis.pytest.from_fixture`` of schemathesis 4.32.5 fails under pytest 9.2
    because it reads ``Function._nodeid``, which pytest no longer has. So the schema is
    loaded once here, and each case goes to the backend's app through the call's ``app``.
    """
    with tempfile.TemporaryDirectory() as media_dir:
        settings = Settings(database_url="sqlite://", media_dir=Path(media_dir))
        app = create_app(settings, agent=RuleBasedIntakeAgent(chunk_delay=0))
        document = app.openapi()
        app.state.medrecord.engine.dispose()
    return schemathesis.openapi.from_dict(document)


schema = load_schema()


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    # The app and its database are shared by every example of a test on purpose: rows
    # that earlier examples create do not change whether a request may get a 5xx.
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
)
def test_no_server_error(case: schemathesis.Case[Any], fuzzed_app: FastAPI) -> None:
    # Only not_a_server_error runs. positive_data_acceptance is left out on purpose:
    # requests that are valid by the schema still name sessions and events that do not
    # exist, and the API rightly returns 404 for those, not 2xx.
    case.call_and_validate(headers=auth(ALICE), checks=[not_a_server_error], app=fuzzed_app)
