"""An intake agent for the example API that requests every reply from a chat model.

:class:`ChatModel` is the part a team writes for its provider: stream a reply to a list of
chat messages, then extract the intake state from the conversation as a JSON object.
:class:`LlmIntakeAgent` turns the app's :class:`~medrecord_api.IntakeTurn` into chat
messages and the model's output into the agent protocol.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, Protocol

from medrecord_api import AgentOutput, IntakeTurn, TurnResult

__all__ = ["SYSTEM_PROMPT", "ChatMessage", "ChatModel", "LlmIntakeAgent", "chat_messages"]

ChatMessage = dict[str, str]
"""A message in the common chat format: ``{"role": ..., "content": ...}``."""

SYSTEM_PROMPT = (
    "You are the intake assistant of the {department} department of a health app. "
    "Ask one follow-up question at a time and never name a diagnosis. "
    "Known so far: {state}"
)


class ChatModel(Protocol):
    """The chat model of your provider."""

    def stream(self, messages: Sequence[ChatMessage]) -> AsyncIterator[str]:
        """Yield the model's reply to the messages as text chunks."""
        ...

    async def extract_state(self, messages: Sequence[ChatMessage]) -> Mapping[str, Any]:
        """Return the state fields the conversation sets, such as chief_complaint."""
        ...


class LlmIntakeAgent:
    """A :class:`~medrecord_api.IntakeAgent` backed by a :class:`ChatModel`."""

    def __init__(self, model: ChatModel) -> None:
        self.model = model

    async def respond(self, turn: IntakeTurn) -> AsyncIterator[AgentOutput]:
        """Stream the model's reply, then the state the model extracts from the chat."""
        messages = chat_messages(turn)
        reply: list[str] = []
        async for chunk in self.model.stream(messages):
            reply.append(chunk)
            yield chunk

        conversation = [*messages, {"role": "assistant", "content": "".join(reply)}]
        state_update = await self.model.extract_state(conversation)
        yield TurnResult(state_update=state_update)


def chat_messages(turn: IntakeTurn) -> list[ChatMessage]:
    """Return the turn as chat messages: a system prompt, then the session's history."""
    department = turn.session.department.display_name("en")
    state = turn.state.model_dump_json(exclude_defaults=True)
    system = SYSTEM_PROMPT.format(department=department, state=state)
    messages: list[ChatMessage] = [{"role": "system", "content": system}]
    for message in turn.history:
        # sender is "user" or "assistant", the chat format's role names.
        messages.append({"role": message.sender, "content": message.content})
    return messages
