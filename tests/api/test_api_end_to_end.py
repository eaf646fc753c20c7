"""The iOS client's flow end to end, on each database: stream, page, aggregate, render.

The flow is the one the client runs: create a session, send several messages and read
each streamed reply, send a photo, page through the conversation, aggregate the session
into its medical event, then read the event and its record. The aggregation through the
API is compared with a direct ``medrecord.aggregate`` call on the same conversation.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session as DatabaseSession

from medrecord import DepartmentRegistry, MedicalEvent, aggregate
from tests.api.helpers import ALICE, BOB, TOKENS, auth, create_session, parse_events, png_base64

DERMA_CHAT = ("我的手臂上起了红疹，很痒", "三天了", "中度，有些影响", "没有发烧，也没有用过药")
PHOTO_TEXT = "这是患处的照片"
TIME_ZONE = "Asia/Shanghai"

# Event columns that identify a row or record when it was written, not what it contains.
ROW_IDENTITY_COLUMNS = {"id", "user_id", "created_at", "updated_at", "start_time", "end_time"}
# Keys of the session snapshots inside an event that name rows of one user's conversation.
SNAPSHOT_IDENTITY_KEYS = {"id", "session_id", "message_id"}


@dataclass(frozen=True)
class StreamedReply:
    """The chunks of one streamed reply and the data of its ``complete`` event."""

    chunks: list[str]
    complete: dict[str, Any]


def stream_message(
    client: TestClient, path: str, body: dict[str, Any], token: str = ALICE
) -> StreamedReply:
    """Send a message to a streaming endpoint, read the stream, and check its shape."""
    with client.stream("POST", path, json=body, headers=auth(token)) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        text = "".join(response.iter_text())

    events = parse_events(text)
    assert len(events) >= 2, text
    *chunk_events, last = events
    assert [event.name for event in chunk_events] == ["chunk"] * len(chunk_events)
    assert all(event.data["type"] == "chunk" for event in chunk_events)
    assert last.name == "complete"
    assert last.data["type"] == "complete"

    chunks = [event.data["content"] for event in chunk_events]
    assert all(chunks)
    assert last.data["message"] == "".join(chunks)
    assert isinstance(last.data["message_id"], int)
    assert isinstance(last.data["quick_options"], list)
    return StreamedReply(chunks=chunks, complete=last.data)


def send_streamed(
    client: TestClient, session_id: str, content: str, token: str = ALICE, **body: Any
) -> StreamedReply:
    return stream_message(
        client, f"/api/sessions/{session_id}/messages", {"content": content, **body}, token
    )


def run_intake(client: TestClient, token: str) -> tuple[str, list[StreamedReply]]:
    """Run the whole intake conversation as one user and return the session id and replies."""
    session_id = create_session(client, token, agent_type="derma")
    replies = [send_streamed(client, session_id, text, token) for text in DERMA_CHAT]
    photo = {"type": "image", "data": png_base64(), "mime_type": "image/png"}
    replies.append(
        send_streamed(
            client, session_id, PHOTO_TEXT, token, attachments=[photo], action="analyze_skin"
        )
    )
    return session_id, replies


def read_all_messages(client: TestClient, session_id: str, limit: int) -> list[dict[str, Any]]:
    """Follow ``next_cursor`` through every page of a session's messages."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(100):
        query = f"limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        response = client.get(f"/api/sessions/{session_id}/messages?{query}", headers=auth(ALICE))
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= limit
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("the message pages never ended")


def event_contents(event: MedicalEvent) -> dict[str, Any]:
    """Return an event's columns and snapshots without the ids and times inside them."""
    columns = {
        column.key: getattr(event, column.key)
        for column in MedicalEvent.__table__.columns
        if column.key not in ROW_IDENTITY_COLUMNS
    }
    contents: dict[str, Any] = _without_identity(columns)
    return contents


def _without_identity(value: Any) -> Any:
    """Drop ids and timestamps at every depth of a JSON-like value."""
    if isinstance(value, dict):
        return {
            key: _without_identity(item)
            for key, item in value.items()
            if key not in SNAPSHOT_IDENTITY_KEYS and not _looks_like_time(item)
        }
    if isinstance(value, list):
        return [_without_identity(item) for item in value]
    return value


def _looks_like_time(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def test_ios_flow_end_to_end(client: TestClient) -> None:
    session_id, replies = run_intake(client, ALICE)

    assert len(replies) == len(DERMA_CHAT) + 1
    assert all(len(reply.chunks) > 1 for reply in replies)

    detail = client.get(f"/api/sessions/{session_id}", headers=auth(ALICE))
    assert detail.status_code == 200
    assert detail.json()["agent_type"] == "dermatology"
    assert detail.json()["message_count"] == 2 * len(replies)
    assert detail.json()["agent_state"]["chief_complaint"] == DERMA_CHAT[0]

    # Pages of 3 split the 10 messages unevenly, so a cursor lands mid-turn.
    paged = read_all_messages(client, session_id, limit=3)
    whole = read_all_messages(client, session_id, limit=200)
    assert [item["id"] for item in paged] == [item["id"] for item in whole]
    assert len({item["id"] for item in paged}) == len(paged) == 2 * len(replies)
    assert [item["sender"] for item in paged] == ["user", "assistant"] * len(replies)
    assert [item["content"] for item in paged[::2]] == [*DERMA_CHAT, PHOTO_TEXT]
    assert [item["content"] for item in paged[1::2]] == [
        reply.complete["message"] for reply in replies
    ]
    assert [item["id"] for item in paged[1::2]] == [
        reply.complete["message_id"] for reply in replies
    ]
    assert not any(item["partial"] for item in paged)
    keys = [(item["created_at"], item["id"]) for item in paged]
    assert keys == sorted(keys)
    photo_message = paged[-2]
    assert photo_message["message_type"] == "image"
    assert [attachment["mime_type"] for attachment in photo_message["attachments"]] == ["image/png"]

    aggregated = client.post(
        "/api/medical-events/aggregate",
        json={"session_id": session_id, "session_type": "derma"},
        headers=auth(ALICE),
    )
    assert aggregated.status_code == 200, aggregated.text
    result = aggregated.json()
    assert result["is_new_event"] is True
    assert result["session_summary"]["chief_complaint"] == DERMA_CHAT[0]
    assert result["session_summary"]["message_count"] == 2 * len(replies)
    assert result["session_summary"]["has_images"] is True
    event_id = result["event_id"]

    listed = client.get("/api/medical-events", headers=auth(ALICE)).json()
    assert [item["event_id"] for item in listed["items"]] == [event_id]

    event = client.get(f"/api/medical-events/{event_id}", headers=auth(ALICE))
    assert event.status_code == 200
    assert event.json()["chief_complaint"] == DERMA_CHAT[0]
    assert event.json()["session_count"] == 1
    assert event.json()["attachment_count"] == 1
    assert [snapshot["session_id"] for snapshot in event.json()["sessions"]] == [session_id]

    records = {
        (record_format, locale): client.get(
            f"/api/medical-events/{event_id}/record?format={record_format}&locale={locale}",
            headers=auth(ALICE),
        )
        for record_format in ("html", "markdown")
        for locale in ("zh-CN", "en")
    }
    for (record_format, locale), response in records.items():
        assert response.status_code == 200, (record_format, locale)
        assert response.headers["content-type"].startswith(f"text/{record_format}")
        assert response.headers["content-language"] == locale
        assert DERMA_CHAT[0] in response.text, (record_format, locale)
    assert "主诉" in records["markdown", "zh-CN"].text
    assert "Chief complaint" in records["markdown", "en"].text
    assert "主诉" in records["html", "zh-CN"].text
    assert "Chief complaint" in records["html", "en"].text
    assert records["html", "zh-CN"].text.lstrip().startswith("<")


def test_api_aggregate_equals_library_aggregate(
    client: TestClient, engine: Engine, installed_registry: DepartmentRegistry
) -> None:
    alice_session, alice_replies = run_intake(client, ALICE)
    bob_session, bob_replies = run_intake(client, BOB)
    # The rule-based agent is deterministic, so both users have the same conversation.
    assert [reply.complete["message"] for reply in alice_replies] == [
        reply.complete["message"] for reply in bob_replies
    ]

    response = client.post(
        "/api/medical-events/aggregate", json={"session_id": alice_session}, headers=auth(ALICE)
    )
    assert response.status_code == 200, response.text
    api_result = response.json()

    with DatabaseSession(engine) as db:
        library_result = aggregate(
            session=db,
            registry=installed_registry,
            user_id=TOKENS[BOB],
            session_id=bob_session,
            time_zone=TIME_ZONE,
        )
        db.commit()

    assert library_result.is_new_event is api_result["is_new_event"] is True
    assert library_result.session_summary.as_json() == api_result["session_summary"]
    assert library_result.as_response("zh-CN")["message"] == api_result["message"]

    with DatabaseSession(engine) as db:
        api_event = db.get(MedicalEvent, api_result["event_id"])
        library_event = db.get(MedicalEvent, library_result.event_id)
        assert api_event is not None
        assert library_event is not None
        assert api_event.user_id == TOKENS[ALICE]
        assert library_event.user_id == TOKENS[BOB]
        api_contents = event_contents(api_event)
        library_contents = event_contents(library_event)
        event_count = len(db.scalars(select(MedicalEvent)).all())

    assert event_count == 2
    for name in (
        "title",
        "department",
        "agent_type",
        "status",
        "chief_complaint",
        "risk_level",
        "session_count",
        "attachment_count",
        "summary",
        "ai_analysis",
        "event_date",
        "sessions",
    ):
        assert api_contents[name] == library_contents[name], name
    assert api_contents == library_contents
    assert api_contents["chief_complaint"] == DERMA_CHAT[0]
    assert api_contents["session_count"] == 1

    # Read through the API, the library's event looks like the API's own.
    api_view = client.get(f"/api/medical-events/{api_result['event_id']}", headers=auth(ALICE))
    library_view = client.get(f"/api/medical-events/{library_result.event_id}", headers=auth(BOB))
    assert api_view.status_code == library_view.status_code == 200
    for name in ("title", "department", "agent_type", "chief_complaint", "risk_level", "summary"):
        assert api_view.json()[name] == library_view.json()[name], name


def test_deprecated_shims_end_to_end(client: TestClient) -> None:
    started = client.post("/api/derma/start", json={"doctor_id": 5}, headers=auth(ALICE))
    assert started.status_code == 201, started.text
    assert "deprecation" in started.headers
    session_id = started.json()["session_id"]
    assert started.json()["agent_type"] == "dermatology"

    # Older clients send the text as "message"; newer ones as "content".
    first = stream_message(
        client, "/api/derma/continue", {"session_id": session_id, "message": DERMA_CHAT[0]}
    )
    second = stream_message(
        client, "/api/derma/continue", {"session_id": session_id, "content": DERMA_CHAT[1]}
    )
    photo = {"data": png_base64()}
    third = stream_message(
        client,
        "/api/derma/continue",
        {"session_id": session_id, "content": PHOTO_TEXT, "attachments": [photo]},
    )

    messages = client.get(f"/api/sessions/{session_id}/messages", headers=auth(ALICE)).json()
    assert [item["content"] for item in messages["items"]] == [
        DERMA_CHAT[0],
        first.complete["message"],
        DERMA_CHAT[1],
        second.complete["message"],
        PHOTO_TEXT,
        third.complete["message"],
    ]

    aggregated = client.post(
        "/api/medical-events/aggregate",
        json={"session_id": session_id, "session_type": "derma"},
        headers=auth(ALICE),
    )
    assert aggregated.status_code == 200, aggregated.text
    summary = aggregated.json()["session_summary"]
    assert summary["chief_complaint"] == DERMA_CHAT[0]
    assert summary["message_count"] == 6
    assert summary["has_images"] is True

    event_id = aggregated.json()["event_id"]
    record = client.get(
        f"/api/medical-events/{event_id}/record?format=markdown&locale=en", headers=auth(ALICE)
    )
    assert record.status_code == 200
    assert DERMA_CHAT[0] in record.text

    # A dermatology session is not a general-practice one: the other shim does not find it.
    other_department = client.post(
        "/api/diagnosis/continue",
        json={"session_id": session_id, "content": "还有点头痛"},
        headers=auth(ALICE),
    )
    assert other_department.status_code == 404
    assert other_department.json()["code"] == "session_not_found"
