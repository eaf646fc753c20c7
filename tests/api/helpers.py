"""Helpers of the API tests: users, Server-Sent Events parsing, sample images, conversations."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response

__all__ = [
    "ALICE",
    "BOB",
    "PNG_BYTES",
    "TOKENS",
    "ServerSentEvent",
    "auth",
    "converse",
    "create_session",
    "parse_events",
    "png_base64",
    "send_message",
]

TOKENS = {"alice-token-0123456789": 101, "bob-token-0123456789": 202}
ALICE = "alice-token-0123456789"
BOB = "bob-token-0123456789"

# The 8-byte PNG signature followed by an IHDR chunk header: enough for type sniffing.
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\x0dIHDR" + bytes(range(64))


@dataclass(frozen=True)
class ServerSentEvent:
    """One parsed event of a text/event-stream body."""

    name: str
    data: dict[str, Any]


def auth(token: str, **headers: str) -> dict[str, str]:
    """Return request headers with a bearer token and any extra headers."""
    return {"Authorization": f"Bearer {token}", **headers}


def png_base64(data: bytes = PNG_BYTES) -> str:
    """Return image bytes as the base64 text a client sends."""
    return base64.b64encode(data).decode("ascii")


def parse_events(body: str) -> list[ServerSentEvent]:
    """Parse a Server-Sent Events body into its named events with JSON data.

    Comment lines (pings) are skipped; each event's data lines are joined with newlines,
    as the EventSource specification does.
    """
    events: list[ServerSentEvent] = []
    for block in body.replace("\r\n", "\n").split("\n\n"):
        name = "message"
        data_lines: list[str] = []
        for line in block.split("\n"):
            if line.startswith("event:"):
                name = line.removeprefix("event:").strip()
            elif line.startswith("data:"):
                data_lines.append(line.removeprefix("data:").removeprefix(" "))
        if data_lines:
            events.append(ServerSentEvent(name, json.loads("\n".join(data_lines))))
    return events


def create_session(client: TestClient, token: str = ALICE, agent_type: str = "dermatology") -> str:
    """Create a session through the API and return its id."""
    response = client.post("/api/sessions", json={"agent_type": agent_type}, headers=auth(token))
    assert response.status_code == 201, response.text
    session_id: str = response.json()["session_id"]
    return session_id


def send_message(
    client: TestClient,
    session_id: str,
    content: str,
    token: str = ALICE,
    **body: Any,
) -> Response:
    """Send a message through the unified endpoint and return the whole response."""
    response: Response = client.post(
        f"/api/sessions/{session_id}/messages",
        json={"content": content, **body},
        headers=auth(token),
    )
    return response


def converse(
    client: TestClient, session_id: str, *contents: str, token: str = ALICE
) -> list[list[ServerSentEvent]]:
    """Send messages one after another; return the events of each reply."""
    replies = []
    for content in contents:
        response = send_message(client, session_id, content, token=token)
        assert response.status_code == 200, response.text
        replies.append(parse_events(response.text))
    return replies
