"""Helpers that insert chat sessions and messages with explicit, aware UTC timestamps.

The helpers add rows and flush, or aggregate, but never commit: the test owns the
transaction.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Collection, Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session as DatabaseSession

from medrecord import (
    AggregationResult,
    ChatSession,
    DepartmentRegistry,
    MedicalEvent,
    Message,
    MessageType,
    Sender,
    aggregate,
)

__all__ = [
    "DEFAULT_AGGREGATED_AT",
    "DEFAULT_STARTED_AT",
    "DEFAULT_USER_ID",
    "add_message",
    "aggregate_session",
    "count_rows",
    "fixed_clock",
    "make_session",
    "message_content",
]

DEFAULT_USER_ID = 1001

DEFAULT_STARTED_AT = dt.datetime(2024, 3, 1, 2, 0, tzinfo=dt.UTC)
"""10:00 on 2024-03-01 in Asia/Shanghai, well inside one local day."""

DEFAULT_MESSAGE_INTERVAL = dt.timedelta(minutes=1)

DEFAULT_AGGREGATED_AT = dt.datetime(2024, 3, 1, 4, 0, tzinfo=dt.UTC)
"""What the clock of :func:`aggregate_session` reads unless a test passes another time."""


def message_content(sender: str, position: int) -> str:
    """Return the text that :func:`make_session` writes for the message at a 0-based position."""
    return f"{sender} message {position}"


def make_session(
    db: DatabaseSession,
    *,
    user_id: int = DEFAULT_USER_ID,
    agent_type: str = "dermatology",
    agent_state: Mapping[str, Any] | None = None,
    message_count: int = 2,
    started_at: dt.datetime = DEFAULT_STARTED_AT,
    message_interval: dt.timedelta = DEFAULT_MESSAGE_INTERVAL,
    first_sender: str = Sender.USER,
    image_positions: Collection[int] = (),
    attachments: Mapping[int, list[Any]] | None = None,
    session_id: str | None = None,
    status: str = "active",
) -> ChatSession:
    """Insert a session with ``message_count`` messages, user and assistant taking turns.

    The session is created at ``started_at`` and message ``i`` (0-based) at
    ``started_at + i * message_interval``. Positions in ``image_positions`` become image
    messages, and ``attachments`` maps positions to their attachment lists.
    """
    if started_at.tzinfo is None:
        raise ValueError(
            f"invalid started_at {started_at.isoformat()}: naive datetime, pass an aware one"
        )

    chat_session = ChatSession(
        id=session_id or str(uuid.uuid4()),
        user_id=user_id,
        agent_type=agent_type,
        agent_state=dict(agent_state) if agent_state is not None else None,
        status=status,
        created_at=started_at,
        updated_at=started_at + max(message_count - 1, 0) * message_interval,
    )
    db.add(chat_session)
    db.flush()

    second_sender = Sender.ASSISTANT if first_sender == Sender.USER else Sender.USER
    attachment_lists = attachments or {}
    for position in range(message_count):
        sender = first_sender if position % 2 == 0 else second_sender
        is_image = position in image_positions
        add_message(
            db,
            chat_session,
            sender=sender,
            content=message_content(sender, position),
            created_at=started_at + position * message_interval,
            message_type=MessageType.IMAGE if is_image else MessageType.TEXT,
            attachments=attachment_lists.get(position),
            flush=False,
        )

    if message_count:
        chat_session.last_message = message_content(
            first_sender if (message_count - 1) % 2 == 0 else second_sender, message_count - 1
        )
    db.flush()
    return chat_session


def add_message(
    db: DatabaseSession,
    chat_session: ChatSession,
    *,
    sender: str,
    content: str,
    created_at: dt.datetime,
    message_type: str = MessageType.TEXT,
    attachments: list[Any] | None = None,
    flush: bool = True,
) -> Message:
    """Insert one message of a session at an explicit, aware time."""
    message = Message(
        session_id=chat_session.id,
        sender=str(sender),
        content=content,
        message_type=str(message_type),
        attachments=attachments,
        created_at=created_at,
    )
    db.add(message)
    if flush:
        db.flush()
    return message


def fixed_clock(moment: dt.datetime) -> Callable[[], dt.datetime]:
    """Return a clock that always reads ``moment``."""
    return lambda: moment


def count_rows(db: DatabaseSession, model: type[ChatSession | Message | MedicalEvent]) -> int:
    """Count the rows of a model's table within the current transaction."""
    return int(db.scalar(select(func.count()).select_from(model)) or 0)


def aggregate_session(
    db: DatabaseSession,
    registry: DepartmentRegistry,
    chat_session: ChatSession,
    *,
    now: dt.datetime = DEFAULT_AGGREGATED_AT,
    **options: Any,
) -> AggregationResult:
    """Aggregate a session as its owner, with a clock that reads ``now``.

    ``options`` go to :func:`medrecord.aggregate` (``department_hint``, ``time_zone``,
    ``message_cap``).
    """
    return aggregate(
        session=db,
        registry=registry,
        user_id=chat_session.user_id,
        session_id=chat_session.id,
        clock=fixed_clock(now),
        **options,
    )
