"""Database work on sessions and messages: create, look up by owner, page, store turns.

Every function takes a SQLAlchemy session and leaves the commit to the caller, except
:func:`store_reply`, which opens, commits and closes its own.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session as DatabaseSession

from medrecord.clock import utc_now
from medrecord.departments import Department
from medrecord.errors import SessionNotFoundError
from medrecord.models import ChatSession, Message, MessageType, Sender
from medrecord_api.pagination import MessageKey, SessionKey
from medrecord_api.state_updates import merge_state

__all__ = [
    "find_image",
    "PARTIAL_REASON_DISCONNECTED",
    "count_messages",
    "create_session",
    "load_owned_session",
    "page_messages",
    "page_sessions",
    "read_history",
    "store_partial_reply",
    "store_reply",
    "store_user_message",
]

logger = logging.getLogger(__name__)

PARTIAL_REASON_DISCONNECTED = "client_disconnected"


def create_session(
    db: DatabaseSession, *, user_id: int, department: Department, doctor_id: int | None
) -> ChatSession:
    """Add a new active session of a department, with an empty agent state."""
    now = utc_now()
    chat_session = ChatSession(
        id=str(uuid.uuid4()),
        user_id=user_id,
        doctor_id=doctor_id,
        agent_type=department.code,
        agent_state={},
        status="active",
        created_at=now,
        updated_at=now,
    )
    db.add(chat_session)
    db.flush()
    return chat_session


def load_owned_session(
    db: DatabaseSession,
    *,
    user_id: int,
    session_id: str,
    department_code: str | None = None,
    for_update: bool = False,
) -> ChatSession:
    """Return a session of a user, optionally only if it belongs to a department.

    Raises :class:`SessionNotFoundError` alike when the session is missing, owned by
    another user or of another department, so the caller learns nothing more.
    """
    statement = (
        select(ChatSession)
        .where(ChatSession.id == session_id, ChatSession.user_id == user_id)
        .execution_options(populate_existing=True)
    )
    if department_code is not None:
        statement = statement.where(ChatSession.agent_type == department_code)
    if for_update:
        # FOR UPDATE on PostgreSQL; SQLite has no row locks, but the transaction already
        # holds the database's write lock (BEGIN IMMEDIATE).
        statement = statement.with_for_update()

    chat_session = db.execute(statement).scalar_one_or_none()
    if chat_session is None:
        raise SessionNotFoundError(session_id, user_id)
    return chat_session


def count_messages(db: DatabaseSession, session_id: str) -> int:
    """Return the number of messages of a session."""
    statement = select(func.count()).select_from(Message).where(Message.session_id == session_id)
    return int(db.scalar(statement) or 0)


def find_image(db: DatabaseSession, *, session_id: str, sha256: str) -> dict[str, Any] | None:
    """Return the attachment entry of an image with this digest in a session, or None."""
    statement = select(Message.attachments).where(
        Message.session_id == session_id, Message.attachments.is_not(None)
    )
    for attachments in db.scalars(statement):
        for entry in attachments if isinstance(attachments, list) else ():
            if (
                isinstance(entry, dict)
                and entry.get("type") == "image"
                and entry.get("sha256") == sha256
            ):
                return entry
    return None


def page_messages(
    db: DatabaseSession, *, session_id: str, limit: int, after: MessageKey | None
) -> tuple[list[Message], bool]:
    """Return up to ``limit`` messages after a key in (created_at, id) order, and whether
    more follow."""
    statement = select(Message).where(Message.session_id == session_id)
    if after is not None:
        created_at, message_id = after
        statement = statement.where(
            or_(
                Message.created_at > created_at,
                and_(Message.created_at == created_at, Message.id > message_id),
            )
        )
    statement = statement.order_by(Message.created_at, Message.id).limit(limit + 1)
    rows = list(db.scalars(statement))
    return rows[:limit], len(rows) > limit


def page_sessions(
    db: DatabaseSession, *, user_id: int, limit: int, before: SessionKey | None
) -> tuple[list[ChatSession], bool]:
    """Return up to ``limit`` sessions of a user, newest first, after a key, and whether
    more follow."""
    statement = select(ChatSession).where(ChatSession.user_id == user_id)
    if before is not None:
        created_at, session_id = before
        statement = statement.where(
            or_(
                ChatSession.created_at < created_at,
                and_(ChatSession.created_at == created_at, ChatSession.id < session_id),
            )
        )
    statement = statement.order_by(ChatSession.created_at.desc(), ChatSession.id.desc())
    rows = list(db.scalars(statement.limit(limit + 1)))
    return rows[:limit], len(rows) > limit


def read_history(db: DatabaseSession, session_id: str) -> list[Message]:
    """Return every message of a session in chronological order."""
    statement = (
        select(Message)
        .where(Message.session_id == session_id)
        .order_by(Message.created_at, Message.id)
    )
    return list(db.scalars(statement))


def store_user_message(
    db: DatabaseSession,
    chat_session: ChatSession,
    *,
    content: str,
    attachments: Sequence[dict[str, Any]],
    action: str,
) -> Message:
    """Add a user message to a session and make it the session's last message."""
    now = utc_now()
    message = Message(
        session_id=chat_session.id,
        sender=Sender.USER.value,
        content=content,
        message_type=MessageType.IMAGE.value if attachments else MessageType.TEXT.value,
        attachments=list(attachments) or None,
        message_metadata={"action": action},
        created_at=now,
    )
    db.add(message)
    chat_session.last_message = content
    chat_session.updated_at = now
    db.flush()
    return message


def store_reply(
    engine: Engine,
    *,
    user_id: int,
    session_id: str,
    content: str,
    state_update: dict[str, Any] | None,
    metadata: dict[str, Any] | None = None,
) -> int | None:
    """Store an assistant reply and merge a state update into the session; commit.

    The session row is read again and locked in this transaction, and the update is
    merged into the state read then, so a reply stored meanwhile by a concurrent request
    keeps its changes. Returns the new message id, or None when the session no longer
    exists.
    """
    with DatabaseSession(engine, expire_on_commit=False) as db:
        try:
            chat_session = load_owned_session(
                db, user_id=user_id, session_id=session_id, for_update=True
            )
        except SessionNotFoundError:
            logger.warning("session %s disappeared before its reply was stored", session_id)
            return None

        now = utc_now()
        if state_update:
            chat_session.agent_state = merge_state(chat_session.agent_state, state_update)
        chat_session.last_message = content
        chat_session.updated_at = now
        message = Message(
            session_id=session_id,
            sender=Sender.ASSISTANT.value,
            content=content,
            message_type=MessageType.TEXT.value,
            message_metadata=metadata,
            created_at=now,
        )
        db.add(message)
        db.commit()
        return message.id


def store_partial_reply(
    engine: Engine, *, user_id: int, session_id: str, content: str
) -> int | None:
    """Store the part of a reply streamed before the client disconnected, marked partial.

    The state update is not applied, because the agent never finished its turn.
    """
    return store_reply(
        engine,
        user_id=user_id,
        session_id=session_id,
        content=content,
        state_update=None,
        metadata={"partial": True, "reason": PARTIAL_REASON_DISCONNECTED},
    )
