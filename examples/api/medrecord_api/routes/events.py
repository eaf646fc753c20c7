"""``/api/medical-events``: aggregate a session, list and read events, render records."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from medrecord.aggregation import aggregate
from medrecord.errors import UnknownDepartmentError
from medrecord.events import get_event
from medrecord.records import render_record
from medrecord_api.auth import Context, CurrentUser
from medrecord_api.i18n import Locale
from medrecord_api.medical_events import event_fields, page_events
from medrecord_api.pagination import DEFAULT_PAGE_SIZE, decode_event_cursor, encode_cursor
from medrecord_api.problems import problem_responses, request_locale
from medrecord_api.routes.sessions import Cursor, PageSize, unknown_department_problem
from medrecord_api.schemas import (
    MAX_INTEGER_ID,
    AggregateRequest,
    AggregateResponse,
    EventDetail,
    EventPage,
    EventSummary,
    RecordFormat,
)

__all__ = ["EventIdPath", "router"]

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/api/medical-events", tags=["medical events"])

EventIdPath = Annotated[
    int, Path(ge=1, le=MAX_INTEGER_ID, description="Id of a medical event of the user.")
]

_RECORD_MEDIA_TYPES = {RecordFormat.HTML: "text/html", RecordFormat.MARKDOWN: "text/markdown"}


@router.post(
    "/aggregate",
    response_model=AggregateResponse,
    responses=problem_responses(401, 404, 409, 413, 422),
    summary="Aggregate a session into its medical event",
)
def aggregate_route(
    body: AggregateRequest, request: Request, user_id: CurrentUser, context: Context
) -> dict[str, Any]:
    """File a session under the medical event of its user, department and local day.

    The event is built from the session's real data only, exactly as
    ``medrecord.aggregate`` builds it. ``session_type`` naming another department than
    the session's own is a 409 conflict.
    """
    with context.database() as db:
        try:
            result = aggregate(
                session=db,
                registry=context.registry,
                user_id=user_id,
                session_id=body.session_id,
                department_hint=body.session_type,
                time_zone=context.settings.time_zone,
            )
        except UnknownDepartmentError as error:
            if body.session_type is None or error.code != body.session_type:
                raise
            raise unknown_department_problem(error, field="body.session_type") from None
        db.commit()

    logger.info(
        "aggregated session %s of user %s into event %s (new=%s)",
        body.session_id,
        user_id,
        result.event_id,
        result.is_new_event,
    )
    return result.as_response(request_locale(request))


@router.get(
    "",
    response_model=EventPage,
    responses=problem_responses(401, 422),
    summary="List your medical events",
)
def list_events_route(
    user_id: CurrentUser,
    context: Context,
    limit: PageSize = DEFAULT_PAGE_SIZE,
    cursor: Cursor = None,
) -> EventPage:
    """List the user's medical events, newest day first."""
    before = decode_event_cursor(cursor) if cursor is not None else None
    with context.database() as db:
        rows, more = page_events(db, user_id=user_id, limit=limit, before=before)

    next_cursor = None
    if more and rows:
        last = rows[-1]
        day = last.event_date.isoformat() if last.event_date is not None else None
        next_cursor = encode_cursor("events", day, last.id)
    return EventPage(
        items=[EventSummary(**event_fields(row)) for row in rows], next_cursor=next_cursor
    )


@router.get(
    "/{event_id}",
    response_model=EventDetail,
    responses=problem_responses(401, 404, 422),
    summary="Read a medical event",
)
def get_event_route(event_id: EventIdPath, user_id: CurrentUser, context: Context) -> EventDetail:
    """Return a medical event with its session snapshots."""
    with context.database() as db:
        event = get_event(session=db, event_id=event_id, user_id=user_id)

    return EventDetail(
        **event_fields(event),
        summary=event.summary,
        ai_analysis=dict(event.ai_analysis or {}),
        sessions=[item for item in event.sessions or [] if isinstance(item, dict)],
    )


@router.get(
    "/{event_id}/record",
    response_class=Response,
    responses={
        200: {
            "description": "The record (病历) as HTML or Markdown, UTF-8.",
            "content": {
                "text/html": {"schema": {"type": "string"}},
                "text/markdown": {"schema": {"type": "string"}},
            },
        },
        **problem_responses(401, 404, 422),
    },
    summary="Render a medical event's record",
)
def get_record_route(
    event_id: EventIdPath,
    request: Request,
    user_id: CurrentUser,
    context: Context,
    format: Annotated[RecordFormat, Query(description="Output format.")] = RecordFormat.HTML,
    locale: Annotated[
        Locale | None,
        Query(description="Language of the record; default: from Accept-Language."),
    ] = None,
) -> Response:
    """Render the record of a medical event in the department's template."""
    chosen_locale = locale or request_locale(request)
    with context.database() as db:
        event = get_event(session=db, event_id=event_id, user_id=user_id)
        text = render_record(
            event,
            registry=context.registry,
            format=format.value,
            locale=chosen_locale,
            time_zone=context.settings.time_zone,
        )

    return Response(
        content=text,
        media_type=_RECORD_MEDIA_TYPES[format],
        headers={"Content-Language": chosen_locale},
    )
