"""Owner scoping on every route, a client that disconnects mid-stream, concurrent aggregation.

The disconnect and concurrency tests run a real uvicorn server on a free 127.0.0.1 port
in a thread, because only a real connection can drop mid-stream and only a real server
handles requests in parallel the way production does.
"""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from medrecord_api import RuleBasedIntakeAgent, Settings, create_app
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session as DatabaseSession

from medrecord import DepartmentRegistry, MedicalEvent, Message
from tests.api.helpers import ALICE, BOB, auth, converse, create_session, parse_events

START_TIMEOUT_SECONDS = 30
MISSING_EVENT_ID = 99_999

LiveServerFactory = Callable[..., str]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def start_server(
    api_settings: Settings, installed_registry: DepartmentRegistry
) -> Iterator[LiveServerFactory]:
    """Return a function that starts the app under uvicorn in a thread and returns its URL.

    ``chunk_delay`` sets the rule-based agent's pause between chunks, in seconds. Every
    server started is stopped after the test.
    """
    running: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(chunk_delay: float = 0) -> str:
        app = create_app(
            api_settings,
            agent=RuleBasedIntakeAgent(chunk_size=2, chunk_delay=chunk_delay),
            registry=installed_registry,
        )
        port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
        thread.start()
        running.append((server, thread))
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not server.started:
            if not thread.is_alive():
                pytest.fail("the uvicorn server thread exited during start-up")
            if time.monotonic() > deadline:
                pytest.fail(f"uvicorn did not start within {START_TIMEOUT_SECONDS} s")
            time.sleep(0.05)
        return f"http://127.0.0.1:{port}"

    yield start

    for server, thread in running:
        server.should_exit = True
        thread.join(timeout=START_TIMEOUT_SECONDS)
        assert not thread.is_alive(), "the uvicorn server did not stop"


def stored_messages(engine: Engine, session_id: str) -> list[Message]:
    with DatabaseSession(engine) as db:
        statement = (
            select(Message)
            .where(Message.session_id == session_id)
            .order_by(Message.created_at, Message.id)
        )
        return list(db.scalars(statement))


def stored_events(engine: Engine) -> list[MedicalEvent]:
    with DatabaseSession(engine) as db:
        return list(db.scalars(select(MedicalEvent)))


# Owner scoping


def not_found_body(response: httpx.Response, own_id: object, missing_id: object) -> dict[str, Any]:
    """Return a 404 body with the missing id in place of the other user's id."""
    body: dict[str, Any] = response.json()
    body["detail"] = body["detail"].replace(str(own_id), str(missing_id))
    return body


def session_routes(session_id: str) -> list[tuple[str, str, dict[str, Any] | None]]:
    """Every route that takes a session id, as (method, path, JSON body)."""
    return [
        ("GET", f"/api/sessions/{session_id}", None),
        ("GET", f"/api/sessions/{session_id}/messages", None),
        ("GET", f"/api/sessions/{session_id}/messages?limit=1", None),
        ("POST", f"/api/sessions/{session_id}/messages", {"content": "头痛"}),
        ("POST", "/api/medical-events/aggregate", {"session_id": session_id}),
        (
            "POST",
            "/api/medical-events/aggregate",
            {"session_id": session_id, "session_type": "derma"},
        ),
        ("POST", "/api/derma/continue", {"session_id": session_id, "content": "头痛"}),
        ("POST", "/api/derma/continue", {"session_id": session_id, "message": "头痛"}),
    ]


def event_routes(event_id: int) -> list[tuple[str, str, dict[str, Any] | None]]:
    """Every route that takes an event id, as (method, path, JSON body)."""
    return [
        ("GET", f"/api/medical-events/{event_id}", None),
        ("GET", f"/api/medical-events/{event_id}/record", None),
        ("GET", f"/api/medical-events/{event_id}/record?format=markdown&locale=en", None),
        ("GET", f"/api/medical-events/{event_id}/record?format=html&locale=zh-CN", None),
    ]


def request(
    client: TestClient, method: str, path: str, body: dict[str, Any] | None, **headers: str
) -> httpx.Response:
    response: httpx.Response = client.request(method, path, json=body, headers=auth(BOB, **headers))
    return response


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_other_users_ids_get_missing_id_404(
    client: TestClient, engine: Engine, language: str
) -> None:
    derma_session = create_session(client)
    general_session = create_session(client, agent_type="general")
    converse(client, derma_session, "手臂上起了红疹")
    converse(client, general_session, "头痛")
    event_id = client.post(
        "/api/medical-events/aggregate", json={"session_id": derma_session}, headers=auth(ALICE)
    ).json()["event_id"]
    missing_session = str(uuid.uuid4())
    messages_before = len(stored_messages(engine, derma_session))

    cases = [
        *[(route, derma_session, missing_session) for route in session_routes(derma_session)],
        (
            ("POST", "/api/diagnosis/continue", {"session_id": general_session, "content": "痛"}),
            general_session,
            missing_session,
        ),
        *[(route, event_id, MISSING_EVENT_ID) for route in event_routes(event_id)],
    ]
    for (method, path, body), own_id, missing_id in cases:
        other = request(client, method, path, body, **{"Accept-Language": language})
        missing_path = path.replace(str(own_id), str(missing_id))
        missing_body = (
            {key: missing_id if value == own_id else value for key, value in body.items()}
            if body is not None
            else None
        )
        missing = request(
            client, method, missing_path, missing_body, **{"Accept-Language": language}
        )

        assert other.status_code == 404, (method, path, other.text)
        assert missing.status_code == 404, (method, missing_path, missing.text)
        assert not_found_body(other, own_id, missing_id) == missing.json(), (method, path)
        assert other.headers["content-type"] == missing.headers["content-type"], (method, path)

    assert len(stored_messages(engine, derma_session)) == messages_before
    assert [event.user_id for event in stored_events(engine)] == [101]
    bob_events = client.get("/api/medical-events", headers=auth(BOB)).json()
    assert bob_events["items"] == []
    bob_sessions = client.get("/api/sessions", headers=auth(BOB)).json()
    assert bob_sessions["items"] == []


# Disconnect mid-stream


def test_disconnect_mid_stream_keeps_session_consistent(
    start_server: LiveServerFactory, engine: Engine
) -> None:
    # Two characters per chunk and 0.1 s between chunks: the reply takes seconds to stream.
    base_url = start_server(chunk_delay=0.1)
    with httpx.Client(base_url=base_url, timeout=10) as http:
        session_id = http.post(
            "/api/sessions", json={"agent_type": "dermatology"}, headers=auth(ALICE)
        ).json()["session_id"]
        fresh_state = http.get(f"/api/sessions/{session_id}", headers=auth(ALICE)).json()[
            "agent_state"
        ]

        first_chunk = ""
        with http.stream(
            "POST",
            f"/api/sessions/{session_id}/messages",
            json={"content": "我的手臂上起了红疹，很痒"},
            headers=auth(ALICE),
        ) as response:
            assert response.status_code == 200
            received = ""
            for text in response.iter_text():
                received += text
                events = parse_events(received) if "\n\n" in received else []
                if events:
                    assert events[0].name == "chunk"
                    first_chunk = events[0].data["content"]
                    break
        # Leaving the block closed the connection before the stream ended.
        assert first_chunk

        # The server notices the disconnect on its next write; give it the time of a few
        # chunks, then read what it stored.
        deadline = time.monotonic() + 10
        rows = stored_messages(engine, session_id)
        while len(rows) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
            rows = stored_messages(engine, session_id)

        assert rows[0].sender == "user"
        assert rows[0].content == "我的手臂上起了红疹，很痒"
        assert len(rows) in (1, 2)
        if len(rows) == 2:
            partial = rows[1]
            assert partial.sender == "assistant"
            assert partial.message_metadata == {
                "partial": True,
                "reason": "client_disconnected",
            }
            assert partial.content.startswith(first_chunk)

        listed = http.get(f"/api/sessions/{session_id}/messages", headers=auth(ALICE)).json()
        assert [item["partial"] for item in listed["items"]] == [False, True][: len(rows)]
        detail = http.get(f"/api/sessions/{session_id}", headers=auth(ALICE)).json()
        # The state update of an interrupted turn is dropped.
        assert detail["agent_state"] == fresh_state

        with http.stream(
            "POST",
            f"/api/sessions/{session_id}/messages",
            json={"content": "三天了"},
            headers=auth(ALICE),
        ) as response:
            assert response.status_code == 200
            body = response.read().decode("utf-8")
        events = parse_events(body)
        assert events[-1].name == "complete"
        assert events[-1].data["message"] == "".join(event.data["content"] for event in events[:-1])

    rows = stored_messages(engine, session_id)
    assert [row.content for row in rows][-2:] == ["三天了", events[-1].data["message"]]
    assert len(rows) in (3, 4)


# Concurrent aggregation


SESSION_COUNT = 6


def test_concurrent_aggregation_files_one_event(
    start_server: LiveServerFactory, engine: Engine
) -> None:
    base_url = start_server()
    with httpx.Client(base_url=base_url, timeout=30) as http:
        session_ids = []
        for index in range(SESSION_COUNT):
            session_id = http.post(
                "/api/sessions", json={"agent_type": "derma"}, headers=auth(ALICE)
            ).json()["session_id"]
            reply = http.post(
                f"/api/sessions/{session_id}/messages",
                json={"content": f"手臂上起了红疹，第{index + 1}处"},
                headers=auth(ALICE),
            )
            assert parse_events(reply.text)[-1].name == "complete"
            session_ids.append(session_id)

    barrier = threading.Barrier(SESSION_COUNT)

    def aggregate_session(session_id: str) -> httpx.Response:
        with httpx.Client(base_url=base_url, timeout=30) as http:
            barrier.wait(timeout=START_TIMEOUT_SECONDS)
            return http.post(
                "/api/medical-events/aggregate",
                json={"session_id": session_id},
                headers=auth(ALICE),
            )

    with ThreadPoolExecutor(max_workers=SESSION_COUNT) as pool:
        responses = list(pool.map(aggregate_session, session_ids))

    statuses = [response.status_code for response in responses]
    assert all(status < 500 for status in statuses), [r.text for r in responses]
    assert statuses == [200] * SESSION_COUNT, [r.text for r in responses]
    bodies = [response.json() for response in responses]
    assert len({body["event_id"] for body in bodies}) == 1
    assert sum(body["is_new_event"] for body in bodies) == 1

    events = stored_events(engine)
    assert len(events) == 1
    event = events[0]
    assert event.session_count == SESSION_COUNT
    snapshots = event.sessions or []
    assert sorted(snapshot["session_id"] for snapshot in snapshots) == sorted(session_ids)
