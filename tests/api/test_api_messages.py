"""``POST /api/sessions/{id}/messages``: stored messages, streamed replies, images, failures."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from medrecord_api import AgentOutput, IntakeTurn, TurnResult
from medrecord_api.state_updates import merge_state
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session as DatabaseSession

from medrecord import ChatSession, Message
from tests.api.conftest import AppFactory
from tests.api.helpers import (
    ALICE,
    BOB,
    PNG_BYTES,
    auth,
    create_session,
    parse_events,
    png_base64,
    send_message,
)

JPEG_BYTES = b"\xff\xd8\xff\xe0" + bytes(60)
PDF_BYTES = b"%PDF-1.7\n" + bytes(60)


def stored_messages(engine: Engine, session_id: str) -> list[Message]:
    with DatabaseSession(engine) as db:
        statement = (
            select(Message)
            .where(Message.session_id == session_id)
            .order_by(Message.created_at, Message.id)
        )
        return list(db.scalars(statement))


def stored_state(engine: Engine, session_id: str) -> dict[str, Any]:
    with DatabaseSession(engine) as db:
        chat_session = db.get(ChatSession, session_id)
        assert chat_session is not None
        return dict(chat_session.agent_state or {})


class FailingAgent:
    """An agent that streams one chunk and then fails."""

    async def respond(self, turn: IntakeTurn) -> AsyncIterator[AgentOutput]:
        yield "正在"
        raise RuntimeError("model backend timed out")


class InvalidUpdateAgent:
    """An agent whose state update breaks the schema: progress must be 0 to 100."""

    async def respond(self, turn: IntakeTurn) -> AsyncIterator[AgentOutput]:
        yield "好的"
        yield TurnResult(state_update={"progress": 500, "chief_complaint": "不该保存"})


class ResultlessAgent:
    """An agent that never yields its TurnResult."""

    async def respond(self, turn: IntakeTurn) -> AsyncIterator[AgentOutput]:
        yield "只有文字"


# Streaming


def test_reply_streams_chunks_then_complete(client: TestClient, engine: Engine) -> None:
    session_id = create_session(client)

    response = send_message(client, session_id, "我的手臂上起了红疹，很痒，没有发热")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = parse_events(response.text)
    names = [event.name for event in events]
    assert names[-1] == "complete"
    assert set(names[:-1]) == {"chunk"}
    assert len(names) > 2
    chunks = "".join(event.data["content"] for event in events[:-1])
    complete = events[-1].data
    assert complete["type"] == "complete"
    assert complete["message"] == chunks
    assert complete["quick_options"]

    messages = stored_messages(engine, session_id)
    assert [message.sender for message in messages] == ["user", "assistant"]
    assert messages[0].content == "我的手臂上起了红疹，很痒，没有发热"
    assert messages[1].id == complete["message_id"]
    assert messages[1].content == chunks


def test_reply_updates_agent_state(client: TestClient, engine: Engine) -> None:
    session_id = create_session(client)

    send_message(client, session_id, "我的手臂上起了红疹，很痒，没有发热")

    state = stored_state(engine, session_id)
    assert state["chief_complaint"] == "我的手臂上起了红疹，很痒，没有发热"
    assert state["symptoms"] == ["红疹", "瘙痒"]
    assert state["symptom_details"]["发热"] == {"status": "absent"}
    assert state["stage"] == "collecting"
    assert "risk_level" not in state


def test_second_message_answers_pending_question(client: TestClient, engine: Engine) -> None:
    session_id = create_session(client)
    send_message(client, session_id, "手臂上起了红疹")

    send_message(client, session_id, "三天了")

    state = stored_state(engine, session_id)
    assert state["symptom_details"]["红疹"]["duration"] == "三天"
    assert state["questions_asked"] == 2


def test_english_error_event(make_client: AppFactory) -> None:
    client = make_client(agent=FailingAgent())
    session_id = create_session(client)

    response = client.post(
        f"/api/sessions/{session_id}/messages",
        json={"content": "头痛"},
        headers=auth(ALICE, **{"Accept-Language": "en-US,en;q=0.9"}),
    )

    error = parse_events(response.text)[-1]
    assert error.name == "error"
    assert error.data["code"] == "agent_failed"
    assert error.data["message"].startswith("The intake agent failed")


# Failures keep the user message


@pytest.mark.parametrize(
    ("agent", "code"),
    [
        (FailingAgent(), "agent_failed"),
        (InvalidUpdateAgent(), "invalid_state_update"),
        (ResultlessAgent(), "agent_failed"),
    ],
    ids=["raises", "invalid-update", "no-result"],
)
def test_agent_failure_is_error_event(
    make_client: AppFactory, engine: Engine, agent: object, code: str
) -> None:
    client = make_client(agent=agent)
    session_id = create_session(client)

    response = send_message(client, session_id, "头痛")

    assert response.status_code == 200
    events = parse_events(response.text)
    assert events[-1].name == "error"
    assert events[-1].data["code"] == code
    assert "complete" not in [event.name for event in events]
    messages = stored_messages(engine, session_id)
    assert [message.sender for message in messages] == ["user"]
    assert stored_state(engine, session_id) == {}


# Images


def test_image_is_stored_by_digest(client: TestClient, engine: Engine, tmp_path: Path) -> None:
    session_id = create_session(client)

    response = send_message(
        client,
        session_id,
        "这是照片",
        attachments=[{"type": "image", "data": png_base64(), "mime_type": "image/png"}],
        action="analyze_skin",
    )

    assert response.status_code == 200
    assert parse_events(response.text)[-1].name == "complete"
    digest = hashlib.sha256(PNG_BYTES).hexdigest()
    user_message = stored_messages(engine, session_id)[0]
    assert user_message.message_type == "image"
    assert user_message.attachments == [
        {"type": "image", "mime_type": "image/png", "size": len(PNG_BYTES), "sha256": digest}
    ]
    stored_file = tmp_path / "media" / digest[:2] / f"{digest}.png"
    assert stored_file.read_bytes() == PNG_BYTES


def test_image_only_message_is_accepted(client: TestClient, engine: Engine) -> None:
    session_id = create_session(client)

    response = send_message(client, session_id, "", attachments=[{"data": png_base64(JPEG_BYTES)}])

    assert response.status_code == 200
    attachments = stored_messages(engine, session_id)[0].attachments
    assert attachments is not None
    attachment = attachments[0]
    assert attachment["mime_type"] == "image/jpeg"


@pytest.mark.parametrize(
    ("attachment", "reason", "field"),
    [
        ({"data": "not base64!"}, "invalid_base64", "body.attachments.0.data"),
        ({"data": png_base64()[:-2] + "\n="}, "invalid_base64", "body.attachments.0.data"),
        ({"data": png_base64(PDF_BYTES)}, "unsupported_type", "body.attachments.0.data"),
        (
            {"data": png_base64(), "mime_type": "image/jpeg"},
            "type_mismatch",
            "body.attachments.0.mime_type",
        ),
    ],
    ids=["garbage", "newline", "pdf", "mismatch"],
)
def test_invalid_attachment_is_422(
    client: TestClient, engine: Engine, attachment: dict[str, str], reason: str, field: str
) -> None:
    session_id = create_session(client)

    response = send_message(client, session_id, "照片", attachments=[attachment])

    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_attachment"
    assert (body["errors"][0]["field"], body["errors"][0]["code"]) == (field, reason)
    assert stored_messages(engine, session_id) == []


def test_attachment_over_limit_is_413(make_client: AppFactory, engine: Engine) -> None:
    client = make_client(max_attachment_bytes=64)
    session_id = create_session(client)

    response = send_message(
        client, session_id, "照片", attachments=[{"data": png_base64(PNG_BYTES + bytes(100))}]
    )

    assert response.status_code == 413
    assert response.json()["code"] == "attachment_too_large"
    assert stored_messages(engine, session_id) == []


def test_too_many_attachments_is_422(make_client: AppFactory) -> None:
    client = make_client(max_attachments=2)
    session_id = create_session(client)

    response = send_message(client, session_id, "照片", attachments=[{"data": png_base64()}] * 3)

    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert (error["field"], error["code"]) == ("body.attachments", "too_long")


def test_body_over_limit_is_413(make_client: AppFactory) -> None:
    client = make_client(max_attachment_bytes=16, max_attachments=1)
    session_id = create_session(client)
    huge = base64.b64encode(bytes(200_000)).decode("ascii")

    response = send_message(client, session_id, "照片", attachments=[{"data": huge}])

    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


# Invalid text


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"content": "头痛\x00"}, "body.content", "contains_nul"),
        ({"content": "\ud800"}, "body.content", "invalid_unicode"),
        ({"content": "   "}, "body", "blank_message"),
        ({"content": 42}, "body.content", "string_type"),
        ({"content": "头痛", "action": "diagnose"}, "body.action", "enum"),
    ],
    ids=["nul", "surrogate", "blank", "number", "unknown-action"],
)
def test_invalid_message_is_422_and_not_stored(
    client: TestClient, engine: Engine, body: dict[str, object], field: str, code: str
) -> None:
    session_id = create_session(client)

    # Escaped JSON, because a lone surrogate cannot be sent as UTF-8.
    response = client.post(
        f"/api/sessions/{session_id}/messages",
        content=json.dumps(body),
        headers=auth(ALICE, **{"Content-Type": "application/json"}),
    )

    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert (error["field"], error["code"]) == (field, code)
    assert stored_messages(engine, session_id) == []


def test_message_over_length_limit_is_422(make_client: AppFactory) -> None:
    client = make_client(max_message_length=10)
    session_id = create_session(client)

    response = send_message(client, session_id, "头" * 11)

    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert (error["field"], error["code"]) == ("body.content", "string_too_long")


# Owner scoping


def test_message_to_other_users_session_is_404(client: TestClient, engine: Engine) -> None:
    session_id = create_session(client, ALICE)

    response = send_message(client, session_id, "头痛", token=BOB)

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "session_not_found"
    assert stored_messages(engine, session_id) == []


# State merging


def test_merge_keeps_concurrent_additions() -> None:
    stored = {"symptoms": ["红疹"], "symptom_details": {"红疹": {"status": "present"}}}
    first = {"symptoms": ["瘙痒"], "symptom_details": {"瘙痒": {"status": "present"}}}
    second = {"symptoms": ["脱皮"], "symptom_details": {"红疹": {"duration": "三天"}}}

    merged = merge_state(merge_state(stored, first), second)

    assert merged["symptoms"] == ["红疹", "瘙痒", "脱皮"]
    assert merged["symptom_details"] == {
        "红疹": {"status": "present", "duration": "三天"},
        "瘙痒": {"status": "present"},
    }
    assert stored["symptoms"] == ["红疹"]


def test_merge_replaces_scalars_and_non_objects() -> None:
    assert merge_state({"stage": "collecting"}, {"stage": None}) == {"stage": None}
    assert merge_state(["not", "an", "object"], {"stage": "collecting"}) == {"stage": "collecting"}
