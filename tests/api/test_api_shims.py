"""Deprecated ``/api/derma/*`` and ``/api/diagnosis/*``: shims onto the unified endpoints."""

from __future__ import annotations

import email.utils
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session as DatabaseSession

from medrecord import ChatSession
from tests.api.helpers import ALICE, BOB, auth, create_session, parse_events

SHIM_OPERATIONS = [
    "/api/derma/start",
    "/api/diagnosis/start",
    "/api/derma/continue",
    "/api/diagnosis/continue",
]


def assert_deprecation_headers(response: Response) -> None:
    deprecation = response.headers["deprecation"]
    assert deprecation.startswith("@")
    assert deprecation[1:].isdigit()
    sunset = email.utils.parsedate_to_datetime(response.headers["sunset"])
    assert sunset.timestamp() > int(deprecation[1:])


@pytest.mark.parametrize(
    ("path", "department"),
    [("/api/derma/start", "dermatology"), ("/api/diagnosis/start", "general")],
)
def test_start_creates_session_of_department(
    client: TestClient, path: str, department: str
) -> None:
    response = client.post(path, json={"doctor_id": 3}, headers=auth(ALICE))

    assert response.status_code == 201
    assert response.json()["agent_type"] == department
    assert_deprecation_headers(response)
    assert response.headers["link"] == '</api/sessions>; rel="successor-version"'

    session_id = response.json()["session_id"]
    detail = client.get(f"/api/sessions/{session_id}", headers=auth(ALICE)).json()
    assert detail["doctor_id"] == 3


def test_start_without_body(client: TestClient) -> None:
    response = client.post("/api/derma/start", headers=auth(ALICE))

    assert response.status_code == 201
    assert response.json()["agent_type"] == "dermatology"


@pytest.mark.parametrize("text_field", ["content", "message"])
def test_continue_streams_like_unified_endpoint(client: TestClient, text_field: str) -> None:
    session_id = client.post("/api/derma/start", headers=auth(ALICE)).json()["session_id"]

    response = client.post(
        "/api/derma/continue",
        json={"session_id": session_id, text_field: "手臂上起了红疹"},
        headers=auth(ALICE),
    )

    assert response.status_code == 200
    events = parse_events(response.text)
    assert events[-1].name == "complete"
    assert events[-1].data["message"] == "".join(event.data["content"] for event in events[:-1])
    assert_deprecation_headers(response)
    successor = f"/api/sessions/{session_id}/messages"
    assert response.headers["link"] == f'<{successor}>; rel="successor-version"'

    messages = client.get(f"{successor}", headers=auth(ALICE)).json()["items"]
    assert messages[0]["content"] == "手臂上起了红疹"


def test_continue_other_department_is_404_like_missing(client: TestClient) -> None:
    general_session = create_session(client, agent_type="general")
    missing_id = "0" * 36

    other = client.post(
        "/api/derma/continue",
        json={"session_id": general_session, "content": "头痛"},
        headers=auth(ALICE),
    )
    missing = client.post(
        "/api/derma/continue",
        json={"session_id": missing_id, "content": "头痛"},
        headers=auth(ALICE),
    )

    assert other.status_code == missing.status_code == 404
    expected = missing.json()
    expected["detail"] = expected["detail"].replace(missing_id, general_session)
    assert other.json() == expected
    assert_deprecation_headers(other)


def test_continue_other_users_session_is_404(client: TestClient) -> None:
    session_id = client.post("/api/diagnosis/start", headers=auth(ALICE)).json()["session_id"]

    response = client.post(
        "/api/diagnosis/continue",
        json={"session_id": session_id, "content": "头痛"},
        headers=auth(BOB),
    )

    assert response.status_code == 404
    assert response.json()["code"] == "session_not_found"


@pytest.mark.parametrize("path", SHIM_OPERATIONS)
def test_shim_errors_carry_deprecation_headers(client: TestClient, path: str) -> None:
    response = client.post(path, json={})

    assert response.status_code == 401
    assert_deprecation_headers(response)


def test_openapi_marks_only_shims_deprecated(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]

    deprecated = sorted(
        path
        for path, operations in paths.items()
        for operation in operations.values()
        if operation.get("deprecated")
    )
    assert deprecated == sorted(SHIM_OPERATIONS)
    assert "deprecated" not in paths["/api/sessions"]["post"]


def test_unified_endpoints_have_no_deprecation_header(client: TestClient) -> None:
    response = client.post("/api/sessions", json={"agent_type": "derma"}, headers=auth(ALICE))

    assert "deprecation" not in response.headers
    assert "sunset" not in response.headers


def test_continue_link_percent_encodes_session_id(client: TestClient, engine: Engine) -> None:
    session_id = "旧会话-42"
    with DatabaseSession(engine) as db:
        db.add(ChatSession(id=session_id, user_id=101, agent_type="dermatology", agent_state={}))
        db.commit()

    response = client.post(
        "/api/derma/continue",
        json={"session_id": session_id, "content": "头痛"},
        headers=auth(ALICE),
    )

    assert response.status_code == 200
    successor = f"/api/sessions/{quote(session_id, safe='')}/messages"
    assert response.headers["link"] == f'<{successor}>; rel="successor-version"'
