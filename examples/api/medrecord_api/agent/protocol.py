"""The intake agent protocol: what the app passes to an agent and what it gets back.

An agent is called once per user message with an :class:`IntakeTurn` and returns an
async iterator that yields the reply as text chunks and then exactly one
:class:`TurnResult`. The app streams each chunk to the client as it arrives, validates
the result's state update with the department's state schema, and stores the reply and
the update together. A team plugs in its LLM by implementing :class:`IntakeAgent`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from medrecord.departments import Department
from medrecord.state import AgentState

__all__ = [
    "AgentOutput",
    "HistoryMessage",
    "IntakeAgent",
    "IntakeTurn",
    "SessionInfo",
    "TurnResult",
]


@dataclass(frozen=True)
class SessionInfo:
    """The session an agent replies in."""

    session_id: str
    user_id: int
    department: Department


@dataclass(frozen=True)
class HistoryMessage:
    """A stored message of the session, as passed to the agent.

    ``attachments`` are the stored entries (``type``, ``mime_type``, ``size``,
    ``sha256``), not the image bytes.
    """

    id: int
    sender: str
    content: str
    message_type: str
    created_at: dt.datetime
    attachments: Sequence[Mapping[str, Any]] = ()


@dataclass(frozen=True)
class IntakeTurn:
    """One call of the agent: the session, its history and its validated state.

    ``history`` is every message of the session in chronological order and ends with
    the user message this turn replies to. ``action`` is the client's request type:
    ``conversation``, ``analyze_skin`` or ``interpret_report``.
    """

    session: SessionInfo
    history: Sequence[HistoryMessage]
    state: AgentState
    action: str

    @property
    def message(self) -> HistoryMessage:
        """The user message this turn replies to."""
        return self.history[-1]


@dataclass(frozen=True)
class TurnResult:
    """The end of a reply: the state update and the quick options shown under it.

    ``state_update`` holds only the fields that change. Before it is stored it is
    validated by the department's state schema, then merged into the stored state:
    mappings merge key by key, lists gain the items they lack, other values are replaced.
    """

    state_update: Mapping[str, Any] = field(default_factory=dict)
    quick_options: Sequence[str] = ()


AgentOutput = str | TurnResult
"""An item of an agent's reply: a text chunk, or the final :class:`TurnResult`."""


class IntakeAgent(Protocol):
    """An intake agent that replies to one user message at a time."""

    def respond(self, turn: IntakeTurn) -> AsyncIterator[AgentOutput]:
        """Yield the reply as text chunks, then exactly one :class:`TurnResult`.

        An exception raised while iterating ends the stream with an ``error`` event; the
        user message stays stored and the reply is not.
        """
        ...
