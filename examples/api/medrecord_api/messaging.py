"""Sending a message: store it, run the intake agent, stream the reply as Server-Sent Events.

Persistence follows the stream:

1. :func:`accept_message` checks the request and commits the user message in its own
   database session before any byte of the stream is sent, so the message is never lost.
2. :func:`stream_reply` streams ``chunk`` events while the agent writes. When the agent
   ends, the reply and the validated state update are committed together in a new
   database session, then one ``complete`` event follows. A failure sends one ``error``
   event instead and stores no reply.
3. When the client disconnects mid-stream, the text streamed so far is stored as an
   assistant message with metadata ``{"partial": true, "reason": "client_disconnected"}``
   and the state update is dropped. A disconnect before the first chunk stores no reply.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
import anyio.to_thread
from sqlalchemy.exc import SQLAlchemyError
from sse_starlette import EventSourceResponse, ServerSentEvent

from medrecord.models import Message
from medrecord.state import read_agent_state
from medrecord_api.agent.protocol import (
    AgentOutput,
    HistoryMessage,
    IntakeTurn,
    SessionInfo,
    TurnResult,
)
from medrecord_api.attachments import decode_attachments
from medrecord_api.context import AppContext
from medrecord_api.conversations import (
    load_owned_session,
    read_history,
    store_partial_reply,
    store_reply,
    store_user_message,
)
from medrecord_api.i18n import Locale, stream_error_text
from medrecord_api.problems import ApiError, FieldError
from medrecord_api.schemas import AttachmentIn
from medrecord_api.state_updates import InvalidStateUpdateError, validate_state_update

__all__ = ["AgentProtocolError", "PreparedTurn", "accept_message", "reply_response", "stream_reply"]

logger = logging.getLogger(__name__)

SSE_LINE_SEPARATOR = "\n"


class AgentProtocolError(Exception):
    """An agent's output broke the protocol: no result, two results, or text after it."""


@dataclass(frozen=True)
class PreparedTurn:
    """A stored user message and the agent call that replies to it."""

    turn: IntakeTurn
    user_message_id: int
    locale: Locale


@dataclass
class _StreamProgress:
    chunks: list[str] = field(default_factory=list)
    # Set once the stream's outcome is settled (reply stored or error sent), so that
    # a disconnect afterwards stores nothing more.
    settled: bool = False


def accept_message(
    context: AppContext,
    *,
    user_id: int,
    session_id: str,
    content: str,
    content_field: str,
    attachments: Sequence[AttachmentIn],
    action: str,
    locale: Locale,
    department_code: str | None = None,
) -> PreparedTurn:
    """Check a message, save its images, commit it, and prepare the agent's turn.

    ``department_code`` restricts the session to one department (the deprecated
    endpoints). Raises :class:`ApiError` for invalid content or attachments, and
    :class:`SessionNotFoundError` for a session the user does not own.
    """
    limit = context.settings.max_message_length
    if len(content) > limit:
        error = FieldError(
            field=content_field,
            code="string_too_long",
            english=f"String should have at most {limit} characters",
            context={"max_length": limit},
        )
        raise ApiError(
            "validation_failed", 422, {"count": 1, "fields": content_field}, errors=[error]
        )

    images = decode_attachments(
        attachments,
        max_bytes=context.settings.max_attachment_bytes,
        max_count=context.settings.max_attachments,
    )

    with context.database() as db:
        chat_session = load_owned_session(
            db, user_id=user_id, session_id=session_id, department_code=department_code
        )
        department = context.registry.resolve(chat_session.agent_type)
        for image in images:
            context.media.save(image)
        message = store_user_message(
            db,
            chat_session,
            content=content,
            attachments=[image.as_json() for image in images],
            action=action,
        )
        history = read_history(db, session_id)
        reading = read_agent_state(
            chat_session.agent_state, department.state_schema, session_id=session_id
        )
        db.commit()

    logger.info(
        "stored user message %s in session %s (%d image(s), %d earlier message(s))",
        message.id,
        session_id,
        len(images),
        len(history) - 1,
    )
    turn = IntakeTurn(
        session=SessionInfo(session_id=session_id, user_id=user_id, department=department),
        history=[_history_message(row) for row in history],
        state=reading.state,
        action=action,
    )
    return PreparedTurn(turn=turn, user_message_id=message.id, locale=locale)


def reply_response(
    context: AppContext, prepared: PreparedTurn, headers: dict[str, str] | None = None
) -> EventSourceResponse:
    """Return the Server-Sent Events response that streams the agent's reply."""
    return EventSourceResponse(
        stream_reply(context, prepared),
        headers=headers,
        sep=SSE_LINE_SEPARATOR,
    )


async def stream_reply(
    context: AppContext, prepared: PreparedTurn
) -> AsyncIterator[ServerSentEvent]:
    """Run the agent and yield ``chunk`` events, then a ``complete`` or an ``error`` event."""
    progress = _StreamProgress()
    session = prepared.turn.session
    try:
        result: TurnResult | None = None
        try:
            async with _closing(context.agent.respond(prepared.turn)) as outputs:
                async for output in outputs:
                    if isinstance(output, TurnResult) and result is None:
                        result = output
                    elif isinstance(output, str) and result is None:
                        if output:
                            progress.chunks.append(output)
                            yield _event("chunk", {"type": "chunk", "content": output})
                    else:
                        raise AgentProtocolError(
                            f"unexpected {type(output).__name__} after the turn result"
                            if result is not None
                            else f"agent yielded {type(output).__name__}, not str or TurnResult"
                        )
            if result is None:
                raise AgentProtocolError("agent ended without a TurnResult")
            update = validate_state_update(session.department.state_schema, result.state_update)
        except InvalidStateUpdateError as error:
            progress.settled = True
            logger.error(
                "session %s: the agent's state update was rejected, invalid field(s): %s",
                session.session_id,
                ", ".join(error.fields),
            )
            yield _error_event("invalid_state_update", prepared.locale)
            return
        except Exception as error:
            progress.settled = True
            logger.error(
                "session %s: the agent failed with %s", session.session_id, type(error).__name__
            )
            yield _error_event("agent_failed", prepared.locale)
            return

        reply = "".join(progress.chunks)
        try:
            message_id = await anyio.to_thread.run_sync(
                functools.partial(_store_final_reply, context, prepared, reply, update, progress)
            )
        except SQLAlchemyError as error:
            progress.settled = True
            logger.error(
                "session %s: storing the reply failed with %s",
                session.session_id,
                type(error).__name__,
            )
            yield _error_event("internal_error", prepared.locale)
            return
        if message_id is None:
            yield _error_event("internal_error", prepared.locale)
            return

        yield _event(
            "complete",
            {
                "type": "complete",
                "message": reply,
                "message_id": message_id,
                "quick_options": list(result.quick_options),
            },
        )
    finally:
        if not progress.settled and progress.chunks:
            # The client went away mid-stream: this generator is being cancelled or
            # closed. Shield the write so the cancellation does not cut it short.
            with anyio.CancelScope(shield=True):
                await _store_partial(context, prepared, progress)


def _store_final_reply(
    context: AppContext,
    prepared: PreparedTurn,
    reply: str,
    update: dict[str, Any],
    progress: _StreamProgress,
) -> int | None:
    session = prepared.turn.session
    message_id = store_reply(
        context.engine,
        user_id=session.user_id,
        session_id=session.session_id,
        content=reply,
        state_update=update,
    )
    # Set here, in the worker thread, because a cancellation can arrive while the
    # event loop waits for this function and would skip code after the await.
    progress.settled = True
    if message_id is not None:
        logger.info(
            "stored reply %s in session %s (%d chunk(s), %d state field(s))",
            message_id,
            session.session_id,
            len(progress.chunks),
            len(update),
        )
    return message_id


async def _store_partial(
    context: AppContext, prepared: PreparedTurn, progress: _StreamProgress
) -> None:
    session = prepared.turn.session
    try:
        message_id = await anyio.to_thread.run_sync(
            functools.partial(
                store_partial_reply,
                context.engine,
                user_id=session.user_id,
                session_id=session.session_id,
                content="".join(progress.chunks),
            )
        )
    except SQLAlchemyError as error:
        logger.error(
            "session %s: storing the partial reply failed with %s",
            session.session_id,
            type(error).__name__,
        )
        return
    logger.info(
        "client disconnected from session %s after %d chunk(s); stored partial reply %s",
        session.session_id,
        len(progress.chunks),
        message_id,
    )


@asynccontextmanager
async def _closing(
    outputs: AsyncIterator[AgentOutput],
) -> AsyncIterator[AsyncIterator[AgentOutput]]:
    """Close an agent's async generator when the stream ends early, so its cleanup runs."""
    try:
        yield outputs
    finally:
        close = getattr(outputs, "aclose", None)
        if close is not None:
            await close()


def _event(name: str, payload: dict[str, Any]) -> ServerSentEvent:
    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return ServerSentEvent(data=data, event=name, sep=SSE_LINE_SEPARATOR)


def _error_event(code: str, locale: Locale) -> ServerSentEvent:
    return _event(
        "error", {"type": "error", "code": code, "message": stream_error_text(code, locale)}
    )


def _history_message(message: Message) -> HistoryMessage:
    return HistoryMessage(
        id=message.id,
        sender=message.sender,
        content=message.content,
        message_type=message.message_type,
        created_at=message.created_at,
        attachments=[item for item in message.attachments or [] if isinstance(item, dict)],
    )
