"""``/api/sessions``: creating, reading and listing sessions, paging messages, owner scoping."""

from __future__ import annotations

import base64
import json
import re
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.helpers import ALICE, BOB, auth, converse, create_session

UTC_SECONDS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


# Creating


def test_create_session_resolves_alias(client: TestClient) -> None:
    response = client.post(
        "/api/sessions", json={"agent_type": "derma", "doctor_id": 7}, headers=auth(ALICE)
    )

    assert response.status_code == 201
    body = response.json()
    assert body["agent_type"] == "dermatology"
    assert body["status"] == "active"
    assert UTC_SECONDS.match(body["created_at"]), body["created_at"]
    assert uuid.UUID(body["session_id"])


def test_create_session_unknown_department(client: TestClient) -> None:
    response = client.post("/api/sessions", json={"agent_type": "astrology"}, headers=auth(ALICE))

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "unknown_department"
    assert "dermatology" in body["detail"]
    assert body["errors"][0]["field"] == "body.agent_type"


@pytest.mark.parametrize(
    ("payload", "field", "code"),
    [
        ({}, "body.agent_type", "missing"),
        ({"agent_type": 5}, "body.agent_type", "string_type"),
        ({"agent_type": "derma\x00"}, "body.agent_type", "contains_nul"),
        ({"agent_type": "derma", "doctor_id": 2**40}, "body.doctor_id", "less_than_equal"),
        ({"agent_type": "derma", "doctor_id": "seven"}, "body.doctor_id", "int_parsing"),
    ],
)
def test_create_session_invalid_fields(
    client: TestClient, payload: dict[str, object], field: str, code: str
) -> None:
    response = client.post("/api/sessions", json=payload, headers=auth(ALICE))

    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_failed"
    assert [(error["field"], error["code"]) for error in body["errors"]] == [(field, code)]


# Authentication


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer unknown-token"}, {"Authorization": f"Basic {ALICE}"}],
    ids=["missing", "unknown", "not-bearer"],
)
def test_unauthenticated_request_is_401(client: TestClient, headers: dict[str, str]) -> None:
    response = client.get("/api/sessions", headers=headers)

    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["code"] == "unauthorized"


def test_unauthorized_problem_never_echoes_token(client: TestClient) -> None:
    response = client.get("/api/sessions", headers={"Authorization": "Bearer secret-guess-42"})

    assert "secret-guess-42" not in response.text


# Reading


def test_get_session_after_conversation(client: TestClient) -> None:
    session_id = create_session(client)
    converse(client, session_id, "手臂上起了红疹，很痒，三天了")

    response = client.get(f"/api/sessions/{session_id}", headers=auth(ALICE))

    assert response.status_code == 200
    body = response.json()
    assert body["message_count"] == 2
    assert body["agent_type"] == "dermatology"
    assert body["agent_state"]["chief_complaint"] == "手臂上起了红疹，很痒，三天了"
    assert body["agent_state"]["symptoms"] == ["红疹", "瘙痒"]
    assert body["agent_state"]["risk_level"] is None
    assert body["last_message"]
    assert UTC_SECONDS.match(body["updated_at"])


def test_other_users_session_is_404_like_missing(client: TestClient) -> None:
    session_id = create_session(client, ALICE)
    missing_id = str(uuid.uuid4())

    other = client.get(f"/api/sessions/{session_id}", headers=auth(BOB))
    missing = client.get(f"/api/sessions/{missing_id}", headers=auth(BOB))

    assert other.status_code == 404
    assert missing.status_code == 404
    expected = missing.json()
    expected["detail"] = expected["detail"].replace(missing_id, session_id)
    assert other.json() == expected
    assert other.headers["content-type"] == missing.headers["content-type"]


@pytest.mark.parametrize("path_id", ["x" * 37, "%00abc"], ids=["too-long", "nul"])
def test_invalid_session_id_is_422(client: TestClient, path_id: str) -> None:
    response = client.get(f"/api/sessions/{path_id}", headers=auth(ALICE))

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "path.session_id"


# Listing


def test_list_sessions_newest_first_in_pages(client: TestClient) -> None:
    created = [create_session(client) for _ in range(3)]
    create_session(client, BOB)

    first = client.get("/api/sessions?limit=2", headers=auth(ALICE)).json()
    second = client.get(
        f"/api/sessions?limit=2&cursor={first['next_cursor']}", headers=auth(ALICE)
    ).json()

    listed = [item["session_id"] for item in first["items"] + second["items"]]
    assert sorted(listed) == sorted(created)
    assert listed[0] == created[-1]
    assert second["next_cursor"] is None


def test_list_messages_in_pages_keeps_order(client: TestClient) -> None:
    session_id = create_session(client)
    converse(client, session_id, "头痛两天了", "中度", "没有其他不适")

    seen: list[dict[str, Any]] = []
    cursor = None
    pages = 0
    while True:
        query = "limit=4" + (f"&cursor={cursor}" if cursor else "")
        response = client.get(f"/api/sessions/{session_id}/messages?{query}", headers=auth(ALICE))
        assert response.status_code == 200
        page = response.json()
        seen += page["items"]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert pages == 2
    assert [item["sender"] for item in seen] == ["user", "assistant"] * 3
    assert [item["content"] for item in seen][::2] == ["头痛两天了", "中度", "没有其他不适"]
    assert [item["id"] for item in seen] == sorted(item["id"] for item in seen)
    assert not any(item["partial"] for item in seen)


def test_list_messages_of_other_user_is_404(client: TestClient) -> None:
    session_id = create_session(client, ALICE)

    response = client.get(f"/api/sessions/{session_id}/messages", headers=auth(BOB))

    assert response.status_code == 404
    assert response.json()["code"] == "session_not_found"


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor",
        "WyJldmVudHMiLG51bGwsMV0",  # a valid events cursor, for the wrong listing
        "eyJ0IjoxfQ",  # base64 of a JSON object
        "WyJtZXNzYWdlcyIsIjIwMjYtMDEtMDEiLDFd",  # naive time
    ],
    ids=["garbage", "other-listing", "object", "naive-time"],
)
def test_invalid_cursor_is_422(client: TestClient, cursor: str) -> None:
    session_id = create_session(client)

    response = client.get(
        f"/api/sessions/{session_id}/messages?cursor={cursor}", headers=auth(ALICE)
    )

    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert (error["field"], error["code"]) == ("query.cursor", "invalid_cursor")


@pytest.mark.parametrize("limit", ["0", "201", "99999999999999999999999", "ten"])
def test_invalid_limit_is_422(client: TestClient, limit: str) -> None:
    response = client.get(f"/api/sessions?limit={limit}", headers=auth(ALICE))

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "query.limit"


def test_session_cursor_with_surrogate_is_422(client: TestClient) -> None:
    text = json.dumps(["sessions", "2026-01-01T00:00:00+00:00", "\ud800"])
    cursor = base64.urlsafe_b64encode(text.encode("ascii")).decode("ascii").rstrip("=")

    response = client.get(f"/api/sessions?cursor={cursor}", headers=auth(ALICE))

    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "invalid_cursor"
