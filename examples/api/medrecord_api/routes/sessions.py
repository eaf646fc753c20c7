"""``/api/sessions``: create, read and list sessions, page their messages, send a message."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import FileResponse
from sse_starlette import EventSourceResponse

from medrecord.departments import Department, DepartmentRegistry
from medrecord.errors import UnknownDepartmentError
from medrecord.models import ChatSession, Message
from medrecord.state import read_agent_state
from medrecord_api.attachments import IMAGE_EXTENSIONS
from medrecord_api.auth import Context, CurrentUser
from medrecord_api.conversations import (
    count_messages,
    create_session,
    find_image,
    load_owned_session,
    page_messages,
    page_sessions,
)
from medrecord_api.messaging import accept_message, reply_response
from medrecord_api.pagination import (
    DEFAULT_PAGE_SIZE,
    MAX_CURSOR_LENGTH,
    MAX_PAGE_SIZE,
    decode_message_cursor,
    decode_session_cursor,
    encode_cursor,
)
from medrecord_api.problems import ApiError, FieldError, problem_responses, request_locale
from medrecord_api.schemas import (
    MAX_ID_LENGTH,
    CreateSessionRequest,
    MessageOut,
    MessagePage,
    SendMessageRequest,
    SessionCreated,
    SessionDetail,
    SessionPage,
    SessionSummary,
)

__all__ = [
    "SSE_RESPONSES",
    "Cursor",
    "PageSize",
    "SessionIdPath",
    "create_new_session",
    "resolve_department",
    "router",
    "unknown_department_problem",
]

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/api/sessions", tags=["sessions"])

SessionIdPath = Annotated[
    str,
    Path(
        min_length=1,
        max_length=MAX_ID_LENGTH,
        pattern=r"^[^\x00-\x1f\x7f]+$",
        description="Id of a session of the authenticated user.",
    ),
]
PageSize = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Number of items on the page.")]
Cursor = Annotated[
    str | None,
    Query(max_length=MAX_CURSOR_LENGTH, description="next_cursor of the previous page."),
]

SSE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": (
            "Server-Sent Events: `chunk` events with data "
            '`{"type":"chunk","content":...}`, then one `complete` event with data '
            '`{"type":"complete","message":...,"message_id":...,"quick_options":[...]}`, '
            'or one `error` event with data `{"type":"error","code":...,"message":...}`.'
        ),
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
    },
}


def resolve_department(registry: DepartmentRegistry, name: str, *, field: str) -> Department:
    """Return the department of a code or alias; an unknown one is a 422 naming the field."""
    try:
        return registry.resolve(name)
    except UnknownDepartmentError as error:
        raise unknown_department_problem(error, field=field) from None


def unknown_department_problem(error: UnknownDepartmentError, *, field: str) -> ApiError:
    """Return the 422 problem of an unknown department name sent in a request field."""
    codes = ", ".join(error.registered)
    return ApiError(
        "unknown_department",
        422,
        {"name": error.code, "codes": codes},
        errors=[
            FieldError(
                field=field,
                code="unknown_department",
                english=f"Unknown department; registered departments: {codes}",
            )
        ],
    )


def create_new_session(
    context: Context, *, user_id: int, department: Department, doctor_id: int | None
) -> SessionCreated:
    """Create and commit a session; used by the unified and the deprecated endpoints."""
    with context.database() as db:
        chat_session = create_session(
            db, user_id=user_id, department=department, doctor_id=doctor_id
        )
        db.commit()
    logger.info("created session %s of user %s in %s", chat_session.id, user_id, department.code)
    return SessionCreated(
        session_id=chat_session.id,
        agent_type=chat_session.agent_type,
        status=chat_session.status,
        created_at=chat_session.created_at,
    )


@router.post(
    "",
    status_code=201,
    response_model=SessionCreated,
    responses=problem_responses(401, 413, 422),
    summary="Create a session",
)
def create_session_route(
    body: CreateSessionRequest, user_id: CurrentUser, context: Context
) -> SessionCreated:
    """Create an intake session of a department, given by code or alias."""
    department = resolve_department(context.registry, body.agent_type, field="body.agent_type")
    return create_new_session(
        context, user_id=user_id, department=department, doctor_id=body.doctor_id
    )


@router.get(
    "",
    response_model=SessionPage,
    responses=problem_responses(401, 422),
    summary="List your sessions",
)
def list_sessions_route(
    user_id: CurrentUser,
    context: Context,
    limit: PageSize = DEFAULT_PAGE_SIZE,
    cursor: Cursor = None,
) -> SessionPage:
    """List the user's sessions, newest first."""
    before = decode_session_cursor(cursor) if cursor is not None else None
    with context.database() as db:
        rows, more = page_sessions(db, user_id=user_id, limit=limit, before=before)

    next_cursor = None
    if more and rows:
        last = rows[-1]
        next_cursor = encode_cursor("sessions", last.created_at.isoformat(), last.id)
    return SessionPage(
        items=[SessionSummary(**_summary_fields(row)) for row in rows], next_cursor=next_cursor
    )


@router.get(
    "/{session_id}",
    response_model=SessionDetail,
    responses=problem_responses(401, 404, 422),
    summary="Read a session",
)
def get_session_route(
    session_id: SessionIdPath, user_id: CurrentUser, context: Context
) -> SessionDetail:
    """Return a session with its validated agent state and message count."""
    with context.database() as db:
        chat_session = load_owned_session(db, user_id=user_id, session_id=session_id)
        message_count = count_messages(db, session_id)

    return SessionDetail(
        **_summary_fields(chat_session),
        agent_state=_validated_state(context, chat_session),
        message_count=message_count,
    )


@router.get(
    "/{session_id}/messages",
    response_model=MessagePage,
    responses=problem_responses(401, 404, 422),
    summary="Page through a session's messages",
)
def list_messages_route(
    session_id: SessionIdPath,
    user_id: CurrentUser,
    context: Context,
    limit: PageSize = DEFAULT_PAGE_SIZE,
    cursor: Cursor = None,
) -> MessagePage:
    """List a session's messages in chronological order, by (created_at, id)."""
    after = decode_message_cursor(cursor) if cursor is not None else None
    with context.database() as db:
        load_owned_session(db, user_id=user_id, session_id=session_id)
        rows, more = page_messages(db, session_id=session_id, limit=limit, after=after)

    next_cursor = None
    if more and rows:
        last = rows[-1]
        next_cursor = encode_cursor("messages", last.created_at.isoformat(), last.id)
    return MessagePage(items=[_message_out(row) for row in rows], next_cursor=next_cursor)


@router.get(
    "/{session_id}/attachments/{sha256}",
    response_class=FileResponse,
    responses={
        200: {
            "description": "The image, with its type as uploaded.",
            "content": {mime_type: {} for mime_type in IMAGE_EXTENSIONS},
        },
        **problem_responses(401, 404, 422),
    },
    summary="Download an image of a session",
)
def get_attachment_route(
    session_id: SessionIdPath,
    sha256: Annotated[
        str,
        Path(
            pattern=r"^[0-9a-f]{64}$",
            description="SHA-256 of the image, as in the message's attachments.",
        ),
    ],
    user_id: CurrentUser,
    context: Context,
) -> FileResponse:
    """Return an image that a message of the session carries, by its SHA-256 digest."""
    with context.database() as db:
        load_owned_session(db, user_id=user_id, session_id=session_id)
        entry = find_image(db, session_id=session_id, sha256=sha256)

    mime_type = entry.get("mime_type") if entry is not None else None
    if mime_type not in IMAGE_EXTENSIONS:
        raise ApiError("attachment_not_found", 404, {"session_id": session_id, "sha256": sha256})

    path = context.media.path_for(sha256, str(mime_type))
    if not path.is_file():
        logger.warning(
            "image %s of session %s is listed but missing from the media directory",
            sha256,
            session_id,
        )
        raise ApiError("attachment_not_found", 404, {"session_id": session_id, "sha256": sha256})
    return FileResponse(path, media_type=str(mime_type))


@router.post(
    "/{session_id}/messages",
    response_model=None,
    response_class=EventSourceResponse,
    responses={**SSE_RESPONSES, **problem_responses(401, 404, 413, 422)},
    summary="Send a message and stream the reply",
)
def send_message_route(
    session_id: SessionIdPath,
    body: SendMessageRequest,
    request: Request,
    user_id: CurrentUser,
    context: Context,
) -> EventSourceResponse:
    """Store the user's message, then stream the intake agent's reply as Server-Sent Events.

    The user message is committed before the stream starts. Invalid input and unknown
    sessions are problem responses, never stream events.
    """
    prepared = accept_message(
        context,
        user_id=user_id,
        session_id=session_id,
        content=body.content,
        content_field="body.content",
        attachments=body.attachments,
        action=body.action.value,
        locale=request_locale(request),
    )
    return reply_response(context, prepared)


def _summary_fields(chat_session: ChatSession) -> dict[str, Any]:
    return {
        "session_id": chat_session.id,
        "agent_type": chat_session.agent_type,
        "doctor_id": chat_session.doctor_id,
        "status": chat_session.status,
        "created_at": chat_session.created_at,
        "updated_at": chat_session.updated_at,
        "last_message": chat_session.last_message,
    }


def _validated_state(context: Context, chat_session: ChatSession) -> dict[str, Any]:
    department = context.registry.find(chat_session.agent_type)
    if department is None:
        # A department whose plugin is no longer installed: show the state as stored.
        return dict(chat_session.agent_state or {})
    reading = read_agent_state(
        chat_session.agent_state, department.state_schema, session_id=chat_session.id
    )
    state: dict[str, Any] = reading.state.model_dump(mode="json")
    return state


def _message_out(message: Message) -> MessageOut:
    metadata = message.message_metadata or {}
    return MessageOut(
        id=message.id,
        sender=message.sender,
        content=message.content,
        message_type=message.message_type,
        attachments=[item for item in message.attachments or [] if isinstance(item, dict)],
        created_at=message.created_at,
        partial=metadata.get("partial") is True,
    )
