"""Properties of aggregation over generated states and conversations, on SQLite and PostgreSQL.

Each property runs its examples inside one database session and rolls back after every
example. Aggregation never commits, so each example starts from empty tables.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session as DatabaseSession

from medrecord import ChatSession, DepartmentRegistry, MedicalEvent, RiskLevel
from medrecord.state.spellings import RISK_LEVEL_SPELLINGS
from medrecord.testing.strategies import NAME_SEPARATORS, agent_states, chat_messages
from tests.factories import DEFAULT_STARTED_AT, add_message, aggregate_session, make_session

MAX_EXAMPLES = {"sqlite": 40, "postgresql": 25}

FIRST_USER_ID = 5001
SECOND_USER_ID = 5002

LATEST_START_OFFSET_MINUTES = 600
"""Sessions start within 10 hours of 10:00 Shanghai time, so all fall on one local day."""


@dataclass(frozen=True)
class SessionInput:
    """What one generated session stores: its state, messages and start time."""

    agent_state: dict[str, Any]
    messages: list[dict[str, Any]]
    started_at: dt.datetime


@st.composite
def session_inputs(draw: st.DrawFn) -> SessionInput:
    """Generate one session with any state (invalid values included) and a conversation."""
    offset = draw(st.integers(min_value=0, max_value=LATEST_START_OFFSET_MINUTES))
    return SessionInput(
        agent_state=draw(agent_states(include_invalid=True)),
        messages=draw(chat_messages(max_size=8)),
        started_at=DEFAULT_STARTED_AT + dt.timedelta(minutes=offset),
    )


def property_settings(backend: str) -> Callable[[Any], Any]:
    """Return the hypothesis settings of one property on one backend."""
    return settings(
        max_examples=MAX_EXAMPLES[backend],
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )


@contextmanager
def rolled_back(db: DatabaseSession) -> Iterator[DatabaseSession]:
    """Run one example in the database session and roll back what it wrote."""
    try:
        yield db
    finally:
        db.rollback()


def insert_session(db: DatabaseSession, user_id: int, index: int, given_input: SessionInput) -> str:
    """Insert a generated session and its messages, one minute apart, and return its id."""
    chat_session = make_session(
        db,
        user_id=user_id,
        agent_state=given_input.agent_state,
        message_count=0,
        started_at=given_input.started_at,
        session_id=f"user-{user_id}-session-{index}",
    )
    for position, message in enumerate(given_input.messages):
        add_message(
            db,
            chat_session,
            created_at=given_input.started_at + dt.timedelta(minutes=position),
            flush=False,
            **message,
        )
    db.flush()
    return chat_session.id


def aggregate_in_order(
    db: DatabaseSession,
    registry: DepartmentRegistry,
    user_id: int,
    inputs: Sequence[SessionInput],
    order: Sequence[int],
) -> MedicalEvent:
    """Insert the sessions of one user, aggregate them in ``order`` and return the event."""
    session_ids = [insert_session(db, user_id, index, given) for index, given in enumerate(inputs)]

    for index in order:
        chat_session = db.get(ChatSession, session_ids[index])
        assert chat_session is not None
        result = aggregate_session(db, registry, chat_session)

    stored_event = db.get(MedicalEvent, result.event_id)
    assert stored_event is not None
    return stored_event


def event_fields(stored_event: MedicalEvent) -> dict[str, Any]:
    """Return the event's derived columns and snapshots, without ids and aggregation times."""
    snapshots = [
        {
            key: value
            for key, value in snapshot.items()
            if key not in ("session_id", "aggregated_at", "messages")
        }
        | {"message_texts": [message["content"] for message in snapshot["messages"]]}
        for snapshot in stored_event.sessions or []
    ]
    return {
        "title": stored_event.title,
        "department": stored_event.department,
        "agent_type": stored_event.agent_type,
        "status": stored_event.status,
        "event_date": stored_event.event_date,
        "session_count": stored_event.session_count,
        "chief_complaint": stored_event.chief_complaint,
        "summary": stored_event.summary,
        "risk_level": stored_event.risk_level,
        "attachment_count": stored_event.attachment_count,
        "start_time": stored_event.start_time,
        "end_time": stored_event.end_time,
        "ai_analysis": stored_event.ai_analysis,
        "snapshots": snapshots,
    }


def stored_risk_level(raw: Any) -> str | None:
    """Return the risk level a stored value spells, or None when it spells none."""
    if not isinstance(raw, str):
        return None
    return RISK_LEVEL_SPELLINGS.get(raw.strip().lower())


def stored_symptom_names(agent_state: dict[str, Any]) -> set[str]:
    """Return every symptom name a stored state mentions, in its list or its details."""
    raw = agent_state.get("symptoms") or []
    if isinstance(raw, str):
        for separator in NAME_SEPARATORS:
            raw = raw.replace(separator, "\n")
        raw = raw.split("\n")
    names = {name.strip() for name in raw if name.strip()}
    return names | set(agent_state.get("symptom_details") or {})


def expected_attachments(message: dict[str, Any]) -> int:
    """Count a message's attachments: its list's length, or 1 for an image message without one."""
    attachments = message["attachments"]
    if isinstance(attachments, list) and attachments:
        return len(attachments)
    return 1 if message["message_type"] == "image" else 0


def carries_image(message: dict[str, Any]) -> bool:
    """Tell whether a message is an image or carries an image attachment."""
    if message["message_type"] == "image":
        return True
    return any(
        isinstance(item, dict)
        and (item.get("type") == "image" or str(item.get("mime_type", "")).startswith("image/"))
        for item in message["attachments"] or []
    )


def test_aggregating_twice_changes_nothing(
    db: DatabaseSession, registry: DepartmentRegistry, backend: str
) -> None:
    @property_settings(backend)
    @given(given_input=session_inputs())
    def check(given_input: SessionInput) -> None:
        with rolled_back(db):
            session_id = insert_session(db, FIRST_USER_ID, 0, given_input)
            chat_session = db.get(ChatSession, session_id)
            assert chat_session is not None

            first = aggregate_session(db, registry, chat_session)
            first_event = db.get(MedicalEvent, first.event_id)
            assert first_event is not None
            first_fields = event_fields(first_event)
            later = DEFAULT_STARTED_AT + dt.timedelta(days=2)
            second = aggregate_session(db, registry, chat_session, now=later)
            second_event = db.get(MedicalEvent, second.event_id)
            assert second_event is not None

            assert second.event_id == first.event_id
            assert second.is_new_event is False
            assert second.session_summary == first.session_summary
            assert event_fields(second_event) == first_fields
            assert second_event.updated_at == later

    check()


def test_derived_fields_ignore_aggregation_order(
    db: DatabaseSession, registry: DepartmentRegistry, backend: str
) -> None:
    @property_settings(backend)
    @given(data=st.data(), inputs=st.lists(session_inputs(), min_size=2, max_size=4))
    def check(data: st.DataObject, inputs: list[SessionInput]) -> None:
        with rolled_back(db):
            order = data.draw(st.permutations(range(len(inputs))), label="order")

            in_order = aggregate_in_order(db, registry, FIRST_USER_ID, inputs, range(len(inputs)))
            permuted = aggregate_in_order(db, registry, SECOND_USER_ID, inputs, order)

            assert event_fields(permuted) == event_fields(in_order)

    check()


def test_event_holds_no_fabricated_values(
    db: DatabaseSession, registry: DepartmentRegistry, backend: str
) -> None:
    @property_settings(backend)
    @given(inputs=st.lists(session_inputs(), min_size=1, max_size=3))
    def check(inputs: list[SessionInput]) -> None:
        with rolled_back(db):
            stored_event = aggregate_in_order(
                db, registry, FIRST_USER_ID, inputs, range(len(inputs))
            )
            states = [given_input.agent_state for given_input in inputs]

            complaints = {state.get("chief_complaint") for state in states}
            assert (
                stored_event.chief_complaint is None or stored_event.chief_complaint in complaints
            )
            assert stored_event.summary is None

            mentioned = set().union(*(stored_symptom_names(state) for state in states))
            analysis = stored_event.ai_analysis or {}
            for key in ("symptoms", "denied_symptoms", "uncertain_symptoms"):
                assert set(analysis[key]) <= mentioned, key

            assessed = [
                RiskLevel(level)
                for level in (stored_risk_level(state.get("risk_level")) for state in states)
                if level is not None
            ]
            expected_risk = max(assessed, key=lambda level: level.rank).value if assessed else None
            assert stored_event.risk_level == expected_risk

            for snapshot, state in zip(stored_event.sessions or [], _by_start(inputs), strict=True):
                assert snapshot["risk_level"] == stored_risk_level(
                    state.agent_state.get("risk_level")
                )

    check()


def test_event_counts_match_inserted_rows(
    db: DatabaseSession, registry: DepartmentRegistry, backend: str
) -> None:
    @property_settings(backend)
    @given(inputs=st.lists(session_inputs(), min_size=1, max_size=3), message_cap=st.integers(2, 6))
    def check(inputs: list[SessionInput], message_cap: int) -> None:
        with rolled_back(db):
            session_ids = [
                insert_session(db, FIRST_USER_ID, index, given_input)
                for index, given_input in enumerate(inputs)
            ]
            for session_id in session_ids:
                chat_session = db.get(ChatSession, session_id)
                assert chat_session is not None
                result = aggregate_session(db, registry, chat_session, message_cap=message_cap)
            stored_event = db.get(MedicalEvent, result.event_id)
            assert stored_event is not None
            snapshots = {
                snapshot["session_id"]: snapshot for snapshot in stored_event.sessions or []
            }

            all_messages = [message for given_input in inputs for message in given_input.messages]
            assert stored_event.session_count == len(inputs)
            assert stored_event.attachment_count == sum(map(expected_attachments, all_messages))
            assert stored_event.ai_analysis is not None
            assert stored_event.ai_analysis["message_count"] == len(all_messages)
            assert stored_event.ai_analysis["has_images"] == any(map(carries_image, all_messages))
            for session_id, given_input in zip(session_ids, inputs, strict=True):
                snapshot = snapshots[session_id]
                kept = min(len(given_input.messages), message_cap)
                assert snapshot["message_count"] == len(given_input.messages)
                assert len(snapshot["messages"]) == kept
                assert snapshot["omitted_message_count"] == len(given_input.messages) - kept
                assert snapshot["user_message_count"] == sum(
                    message["sender"] == "user" for message in given_input.messages
                )

    check()


def _by_start(inputs: Sequence[SessionInput]) -> list[SessionInput]:
    """Order inputs as the event orders its snapshots: by start time, then session id."""
    indexed = sorted(
        enumerate(inputs),
        key=lambda pair: (pair[1].started_at, f"user-{FIRST_USER_ID}-session-{pair[0]}"),
    )
    return [given_input for _, given_input in indexed]
