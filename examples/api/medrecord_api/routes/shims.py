"""Deprecated ``/api/derma/*`` and ``/api/diagnosis/*`` endpoints, as shims onto the unified API.

``start`` creates a dermatology or general-practice session like ``POST /api/sessions``;
``continue`` sends a message like ``POST /api/sessions/{id}/messages`` and streams the
same events. ``continue`` accepts only a session of its own department, and a session
of another department gets the same 404 as a missing one. Every response carries
``Deprecation``, ``Sunset`` and, where the successor is known, ``Link`` headers (added by
:class:`~medrecord_api.middleware.DeprecationHeadersMiddleware`).
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote

from fastapi import APIRouter, Request
from sse_starlette import EventSourceResponse

from medrecord_api.auth import Context, CurrentUser
from medrecord_api.messaging import accept_message, reply_response
from medrecord_api.problems import problem_responses, request_locale
from medrecord_api.routes.sessions import SSE_RESPONSES, create_new_session, resolve_department
from medrecord_api.schemas import ContinueRequest, SessionCreated, ShimStartRequest

__all__ = ["SHIM_DEPARTMENTS", "SHIM_SUCCESSORS", "router"]

router = APIRouter(tags=["deprecated"])

SHIM_DEPARTMENTS: Mapping[str, str] = {"derma": "dermatology", "diagnosis": "general"}
"""The department code behind each deprecated path prefix."""

SHIM_SUCCESSORS: Mapping[str, str | None] = {
    "/api/derma/start": "/api/sessions",
    "/api/diagnosis/start": "/api/sessions",
    # The successor of continue names the session, so the handler sets its Link.
    "/api/derma/continue": None,
    "/api/diagnosis/continue": None,
}


def _start(
    prefix: str, body: ShimStartRequest | None, user_id: int, context: Context
) -> SessionCreated:
    department = resolve_department(context.registry, SHIM_DEPARTMENTS[prefix], field="path")
    return create_new_session(
        context,
        user_id=user_id,
        department=department,
        doctor_id=body.doctor_id if body is not None else None,
    )


def _continue(
    prefix: str, body: ContinueRequest, request: Request, user_id: int, context: Context
) -> EventSourceResponse:
    department = resolve_department(context.registry, SHIM_DEPARTMENTS[prefix], field="path")
    content_field = "body.content" if body.content is not None else "body.message"
    prepared = accept_message(
        context,
        user_id=user_id,
        session_id=body.session_id,
        content=body.text,
        content_field=content_field,
        attachments=body.attachments,
        action=body.action.value,
        locale=request_locale(request),
        department_code=department.code,
    )
    # Percent-encoded, because header values must be Latin-1 and a Link target a URI.
    successor = f"/api/sessions/{quote(body.session_id, safe='')}/messages"
    return reply_response(
        context, prepared, headers={"Link": f'<{successor}>; rel="successor-version"'}
    )


@router.post(
    "/api/derma/start",
    status_code=201,
    response_model=SessionCreated,
    responses=problem_responses(401, 413, 422),
    deprecated=True,
    summary="Create a dermatology session (deprecated: use POST /api/sessions)",
)
def derma_start(
    user_id: CurrentUser, context: Context, body: ShimStartRequest | None = None
) -> SessionCreated:
    """Create a dermatology session, as ``POST /api/sessions`` with agent_type dermatology."""
    return _start("derma", body, user_id, context)


@router.post(
    "/api/diagnosis/start",
    status_code=201,
    response_model=SessionCreated,
    responses=problem_responses(401, 413, 422),
    deprecated=True,
    summary="Create a general-practice session (deprecated: use POST /api/sessions)",
)
def diagnosis_start(
    user_id: CurrentUser, context: Context, body: ShimStartRequest | None = None
) -> SessionCreated:
    """Create a general-practice session, as ``POST /api/sessions`` with agent_type general."""
    return _start("diagnosis", body, user_id, context)


@router.post(
    "/api/derma/continue",
    response_model=None,
    response_class=EventSourceResponse,
    responses={**SSE_RESPONSES, **problem_responses(401, 404, 413, 422)},
    deprecated=True,
    summary="Send a message in a dermatology session (deprecated)",
)
def derma_continue(
    body: ContinueRequest, request: Request, user_id: CurrentUser, context: Context
) -> EventSourceResponse:
    """Send a message, as ``POST /api/sessions/{session_id}/messages``, in a dermatology session."""
    return _continue("derma", body, request, user_id, context)


@router.post(
    "/api/diagnosis/continue",
    response_model=None,
    response_class=EventSourceResponse,
    responses={**SSE_RESPONSES, **problem_responses(401, 404, 413, 422)},
    deprecated=True,
    summary="Send a message in a general-practice session (deprecated)",
)
def diagnosis_continue(
    body: ContinueRequest, request: Request, user_id: CurrentUser, context: Context
) -> EventSourceResponse:
    """Send a message, as ``POST /api/sessions/{session_id}/messages``, in a general session."""
    return _continue("diagnosis", body, request, user_id, context)
