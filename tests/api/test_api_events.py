"""``/api/medical-events``: aggregation as the library does it, listing, reading, records."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session as DatabaseSession

from medrecord import DepartmentRegistry, MedicalEvent, aggregate
from tests.api.helpers import ALICE, BOB, auth, converse, create_session

DERMA_CHAT = ("我的手臂上起了红疹，很痒", "三天了", "中度，有些影响")


def aggregate_through_api(
    client: TestClient, session_id: str, token: str = ALICE, **body: object
) -> dict[str, Any]:
    response = client.post(
        "/api/medical-events/aggregate",
        json={"session_id": session_id, **body},
        headers=auth(token),
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def test_aggregate_returns_prd_response(client: TestClient) -> None:
    session_id = create_session(client)
    converse(client, session_id, *DERMA_CHAT)

    body = aggregate_through_api(client, session_id, session_type="derma")

    assert isinstance(body["event_id"], int)
    assert body["message"] == "会话已聚合到病历事件"
    assert body["is_new_event"] is True
    assert body["session_summary"] == {
        "chief_complaint": "我的手臂上起了红疹，很痒",
        "symptoms": ["红疹", "瘙痒"],
        "risk_level": None,
        "message_count": 6,
        "has_images": False,
    }


def test_aggregate_matches_library_call(
    client: TestClient, engine: Engine, installed_registry: DepartmentRegistry
) -> None:
    session_id = create_session(client)
    converse(client, session_id, *DERMA_CHAT)

    through_api = aggregate_through_api(client, session_id)
    with DatabaseSession(engine) as db:
        through_library = aggregate(
            session=db,
            registry=installed_registry,
            user_id=101,
            session_id=session_id,
            time_zone="Asia/Shanghai",
        )
        db.commit()
        events = db.query(MedicalEvent).all()

    assert through_library.event_id == through_api["event_id"]
    assert through_library.is_new_event is False
    assert through_library.session_summary.as_json() == through_api["session_summary"]
    assert len(events) == 1
    assert events[0].session_count == 1


def test_aggregate_english_message(client: TestClient) -> None:
    session_id = create_session(client)
    converse(client, session_id, "头痛")

    response = client.post(
        "/api/medical-events/aggregate",
        json={"session_id": session_id},
        headers=auth(ALICE, **{"Accept-Language": "en"}),
    )

    assert response.json()["message"] == "The session was added to the medical event"


def test_aggregate_other_users_session_is_404_like_missing(client: TestClient) -> None:
    session_id = create_session(client, ALICE)
    converse(client, session_id, "头痛")
    missing_id = str(uuid.uuid4())

    other = client.post(
        "/api/medical-events/aggregate", json={"session_id": session_id}, headers=auth(BOB)
    )
    missing = client.post(
        "/api/medical-events/aggregate", json={"session_id": missing_id}, headers=auth(BOB)
    )

    assert other.status_code == missing.status_code == 404
    expected = missing.json()
    expected["detail"] = expected["detail"].replace(missing_id, session_id)
    assert other.json() == expected


def test_aggregate_without_user_message_is_422(client: TestClient) -> None:
    session_id = create_session(client)

    response = client.post(
        "/api/medical-events/aggregate", json={"session_id": session_id}, headers=auth(ALICE)
    )

    assert response.status_code == 422
    assert response.json()["code"] == "no_user_message"


def test_aggregate_department_conflict_is_409(client: TestClient) -> None:
    session_id = create_session(client, agent_type="dermatology")
    converse(client, session_id, "头痛")

    response = client.post(
        "/api/medical-events/aggregate",
        json={"session_id": session_id, "session_type": "cardio"},
        headers=auth(ALICE),
    )

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "department_conflict"
    assert "cardiology" in body["detail"]


def test_aggregate_unknown_session_type_is_422(client: TestClient) -> None:
    session_id = create_session(client)
    converse(client, session_id, "头痛")

    response = client.post(
        "/api/medical-events/aggregate",
        json={"session_id": session_id, "session_type": "astrology"},
        headers=auth(ALICE),
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.session_type"


# Reading events


def test_list_events_in_pages(client: TestClient) -> None:
    event_ids = []
    for agent_type in ("dermatology", "cardiology", "general"):
        session_id = create_session(client, agent_type=agent_type)
        converse(client, session_id, "头痛")
        event_ids.append(aggregate_through_api(client, session_id)["event_id"])
    bob_session = create_session(client, BOB)
    converse(client, bob_session, "头痛", token=BOB)
    aggregate_through_api(client, bob_session, token=BOB)

    first = client.get("/api/medical-events?limit=2", headers=auth(ALICE)).json()
    second = client.get(
        f"/api/medical-events?limit=2&cursor={first['next_cursor']}", headers=auth(ALICE)
    ).json()

    listed = [item["event_id"] for item in first["items"] + second["items"]]
    assert listed == sorted(event_ids, reverse=True)
    assert second["next_cursor"] is None


def test_get_event_with_snapshots(client: TestClient) -> None:
    session_id = create_session(client)
    converse(client, session_id, *DERMA_CHAT)
    event_id = aggregate_through_api(client, session_id)["event_id"]

    response = client.get(f"/api/medical-events/{event_id}", headers=auth(ALICE))

    assert response.status_code == 200
    body = response.json()
    assert body["event_id"] == event_id
    assert body["agent_type"] == "derma"
    assert body["session_count"] == 1
    assert body["risk_level"] is None
    assert [snapshot["session_id"] for snapshot in body["sessions"]] == [session_id]


def test_other_users_event_is_404_like_missing(client: TestClient) -> None:
    session_id = create_session(client)
    converse(client, session_id, "头痛")
    event_id = aggregate_through_api(client, session_id)["event_id"]
    missing_id = 99_999

    other = client.get(f"/api/medical-events/{event_id}", headers=auth(BOB))
    missing = client.get(f"/api/medical-events/{missing_id}", headers=auth(BOB))

    assert other.status_code == missing.status_code == 404
    expected = missing.json()
    expected["detail"] = expected["detail"].replace(str(missing_id), str(event_id))
    assert other.json() == expected
    assert other.json()["code"] == "event_not_found"


@pytest.mark.parametrize("event_id", ["0", "abc", str(2**31), "1" * 40])
def test_invalid_event_id_is_422(client: TestClient, event_id: str) -> None:
    response = client.get(f"/api/medical-events/{event_id}", headers=auth(ALICE))

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "path.event_id"


# Records


@pytest.mark.parametrize(
    ("query", "media_type", "heading"),
    [
        ("format=html&locale=zh-CN", "text/html; charset=utf-8", "主诉"),
        ("format=markdown&locale=zh-CN", "text/markdown; charset=utf-8", "## 主诉"),
        ("format=markdown&locale=en", "text/markdown; charset=utf-8", "Chief complaint"),
    ],
)
def test_record_formats_and_locales(
    client: TestClient, query: str, media_type: str, heading: str
) -> None:
    session_id = create_session(client)
    converse(client, session_id, *DERMA_CHAT)
    event_id = aggregate_through_api(client, session_id)["event_id"]

    response = client.get(f"/api/medical-events/{event_id}/record?{query}", headers=auth(ALICE))

    assert response.status_code == 200
    assert response.headers["content-type"] == media_type
    assert heading in response.text
    assert "我的手臂上起了红疹" in response.text


def test_record_locale_from_accept_language(client: TestClient) -> None:
    session_id = create_session(client)
    converse(client, session_id, "头痛")
    event_id = aggregate_through_api(client, session_id)["event_id"]

    response = client.get(
        f"/api/medical-events/{event_id}/record?format=markdown",
        headers=auth(ALICE, **{"Accept-Language": "en-GB"}),
    )

    assert response.headers["content-language"] == "en"
    assert "Chief complaint" in response.text


@pytest.mark.parametrize("query", ["format=pdf", "locale=fr"])
def test_record_invalid_query_is_422(client: TestClient, query: str) -> None:
    session_id = create_session(client)
    converse(client, session_id, "头痛")
    event_id = aggregate_through_api(client, session_id)["event_id"]

    response = client.get(f"/api/medical-events/{event_id}/record?{query}", headers=auth(ALICE))

    assert response.status_code == 422


def test_record_of_other_users_event_is_404(client: TestClient) -> None:
    session_id = create_session(client)
    converse(client, session_id, "头痛")
    event_id = aggregate_through_api(client, session_id)["event_id"]

    response = client.get(f"/api/medical-events/{event_id}/record", headers=auth(BOB))

    assert response.status_code == 404
    assert response.json()["code"] == "event_not_found"
