"""Tests of the chat-model intake agent beside this file, served by the example API.

A scripted model replaces the provider's model, so the tests need no network. pytest puts the
folder of this file on ``sys.path``, so the package imports without being installed.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from llm_intake_agent import ChatMessage, LlmIntakeAgent
from medrecord_api import Settings, create_app

TOKEN = "docs-example-token-0123456789"
HEADERS = {"Authorization": f"Bearer {TOKEN}"}
USER_TEXT = "手臂上起了红疹，很痒，三天了"


class ScriptedModel:
    """A chat model that replies with fixed chunks and state, and records its prompts."""

    def __init__(self, chunks: Sequence[str], state: Mapping[str, Any]) -> None:
        self.chunks = chunks
        self.state = state
        self.prompts: list[list[ChatMessage]] = []

    async def stream(self, messages: Sequence[ChatMessage]) -> AsyncIterator[str]:
        self.prompts.append(list(messages))
        for chunk in self.chunks:
            yield chunk

    async def extract_state(self, messages: Sequence[ChatMessage]) -> Mapping[str, Any]:
        return self.state


@contextmanager
def serve(tmp_path: Path, model: ScriptedModel) -> Iterator[TestClient]:
    settings = Settings.with_tokens(
        {TOKEN: 42},
        database_url=f"sqlite:///{tmp_path / 'api.db'}",
        media_dir=tmp_path / "media",
    )
    with TestClient(create_app(settings, agent=LlmIntakeAgent(model))) as client:
        yield client


def parse_events(body: str) -> list[tuple[str, dict[str, Any]]]:
    """Return the (event name, JSON data) pairs of a text/event-stream body."""
    events = []
    for block in body.replace("\r\n", "\n").strip().split("\n\n"):
        lines = block.split("\n")
        names = [line.removeprefix("event: ") for line in lines if line.startswith("event: ")]
        data = [line.removeprefix("data: ") for line in lines if line.startswith("data: ")]
        if names and data:
            events.append((names[0], json.loads("\n".join(data))))
    return events


def send_first_message(client: TestClient) -> tuple[str, list[tuple[str, dict[str, Any]]]]:
    created = client.post("/api/sessions", json={"agent_type": "derma"}, headers=HEADERS)
    assert created.status_code == 201, created.text
    session_id: str = created.json()["session_id"]

    response = client.post(
        f"/api/sessions/{session_id}/messages", json={"content": USER_TEXT}, headers=HEADERS
    )
    assert response.status_code == 200, response.text
    return session_id, parse_events(response.text)


@pytest.fixture
def model() -> ScriptedModel:
    return ScriptedModel(
        chunks=["三天了，", "影响睡眠吗？"],
        state={
            "chief_complaint": "手臂红疹伴瘙痒三天",
            "symptoms": ["红疹", "瘙痒"],
            "risk_level": "中",
        },
    )


def test_reply_streams_and_state_stored(tmp_path: Path, model: ScriptedModel) -> None:
    with serve(tmp_path, model) as client:
        session_id, events = send_first_message(client)
        session = client.get(f"/api/sessions/{session_id}", headers=HEADERS).json()

    assert [name for name, _ in events] == ["chunk", "chunk", "complete"]
    assert events[-1][1]["message"] == "三天了，影响睡眠吗？"
    assert session["agent_state"]["chief_complaint"] == "手臂红疹伴瘙痒三天"
    assert session["agent_state"]["risk_level"] == "medium"
    assert session["message_count"] == 2


def test_prompt_has_department_and_history(tmp_path: Path, model: ScriptedModel) -> None:
    with serve(tmp_path, model) as client:
        send_first_message(client)

    prompt = model.prompts[0]
    assert prompt[0]["role"] == "system"
    assert "Dermatology" in prompt[0]["content"]
    assert prompt[-1] == {"role": "user", "content": USER_TEXT}


def test_invalid_state_sends_error_event(tmp_path: Path) -> None:
    model = ScriptedModel(chunks=["好的。"], state={"questions_asked": "many"})
    with serve(tmp_path, model) as client:
        session_id, events = send_first_message(client)
        stored = client.get(f"/api/sessions/{session_id}/messages", headers=HEADERS).json()

    assert events[-1][0] == "error"
    assert events[-1][1]["code"] == "invalid_state_update"
    assert [message["sender"] for message in stored["items"]] == ["user"]
