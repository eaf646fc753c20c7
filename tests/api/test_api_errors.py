"""Problem responses: stable codes, zh-CN and en messages, and no 500 for bad input."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from medrecord_api.i18n import PROBLEMS, negotiate_locale

from tests.api.helpers import ALICE, auth, create_session


@pytest.mark.parametrize(
    ("header", "locale"),
    [
        (None, "zh-CN"),
        ("", "zh-CN"),
        ("en", "en"),
        ("en-US,en;q=0.9", "en"),
        ("zh-Hans", "zh-CN"),
        ("zh", "zh-CN"),
        ("en;q=0.5, zh-CN;q=0.9", "zh-CN"),
        ("zh-CN;q=0, en", "en"),
        ("fr, de;q=0.8", "zh-CN"),
        ("fr, en-AU;q=0.3", "en"),
        ("*", "zh-CN"),
        ("en;q=abc, zh", "zh-CN"),
        (";;;,,,", "zh-CN"),
    ],
)
def test_negotiate_locale(header: str | None, locale: str) -> None:
    assert negotiate_locale(header) == locale


def test_every_problem_has_both_locales() -> None:
    for code, texts in PROBLEMS.items():
        assert set(texts) == {"zh-CN", "en"}, code


def test_problem_in_chinese_by_default(client: TestClient) -> None:
    response = client.get("/api/sessions/missing-session", headers=auth(ALICE))

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["content-language"] == "zh-CN"
    body = response.json()
    assert body == {
        "type": "urn:medrecord:problem:session_not_found",
        "title": "会话不存在",
        "status": 404,
        "detail": "未找到会话 missing-session。",
        "code": "session_not_found",
    }


def test_problem_in_english(client: TestClient) -> None:
    response = client.get(
        "/api/sessions/missing-session",
        headers=auth(ALICE, **{"Accept-Language": "en-US,en;q=0.9,zh;q=0.8"}),
    )

    body = response.json()
    assert response.headers["content-language"] == "en"
    assert body["title"] == "Session not found"
    assert body["detail"] == "Session missing-session was not found."


def test_field_messages_follow_locale(client: TestClient) -> None:
    chinese = client.post("/api/sessions", json={}, headers=auth(ALICE)).json()
    english = client.post(
        "/api/sessions", json={}, headers=auth(ALICE, **{"Accept-Language": "en"})
    ).json()

    assert chinese["errors"][0]["message"] == "缺少必填字段。"
    assert english["errors"][0]["message"] == "Field required"
    assert chinese["detail"] == "1 个字段无效：body.agent_type。"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"", "application/json"),
        (b"[1, 2, 3]", "application/json"),
        (b'{"agent_type": "derma"}', "text/plain"),
        (b'{"agent_type": "' + b"9" * 5000 + b'"}', "application/json"),
        (b'{"agent_type": 1e999}', "application/json"),
        (b'{"agent_type": "derma", "doctor_id": ' + b"9" * 5000 + b"}", "application/json"),
        (b"\xff\xfe\x00garbage", "application/json"),
    ],
    ids=[
        "malformed",
        "empty",
        "array",
        "text-plain",
        "long-string",
        "infinity",
        "huge-integer",
        "invalid-utf8",
    ],
)
def test_bad_body_is_client_error(client: TestClient, body: bytes, content_type: str) -> None:
    response = client.post(
        "/api/sessions", content=body, headers=auth(ALICE, **{"Content-Type": content_type})
    )

    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] in {"validation_failed", "bad_request"}


def test_unknown_path_is_problem(client: TestClient) -> None:
    response = client.get("/api/nothing-here", headers=auth(ALICE))

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_wrong_method_is_problem(client: TestClient) -> None:
    response = client.delete("/api/sessions", headers=auth(ALICE))

    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
    assert "allow" in response.headers


def test_aggregate_with_nul_session_id_is_422(client: TestClient) -> None:
    create_session(client)

    response = client.post(
        "/api/medical-events/aggregate",
        json={"session_id": "abc\x00def"},
        headers=auth(ALICE),
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "contains_nul"
