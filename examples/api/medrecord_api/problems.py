"""Problem responses (RFC 9457, ``application/problem+json``) with stable error codes.

Every error the API returns has the body ``{type, title, status, detail, code}`` and, for
invalid fields, ``errors: [{field, code, message}]``. ``code`` is stable for clients to
switch on; ``title``, ``detail`` and ``message`` follow the request's Accept-Language.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from medrecord.errors import (
    DepartmentConflictError,
    EventNotFoundError,
    NoUserMessageError,
    SessionNotFoundError,
    UnknownDepartmentError,
)
from medrecord_api.i18n import (
    PROBLEMS,
    Locale,
    field_message,
    negotiate_locale,
    problem_text,
)

__all__ = [
    "PROBLEM_MEDIA_TYPE",
    "ApiError",
    "FieldError",
    "FieldProblem",
    "Problem",
    "install_exception_handlers",
    "problem_response",
    "problem_responses",
    "problem_type",
    "request_locale",
]

logger = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"

_STATUS_CODES: Mapping[int, str] = {
    400: "bad_request",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
}


class FieldProblem(BaseModel):
    """One invalid field of a request."""

    field: str
    code: str
    message: str


class Problem(BaseModel):
    """An error response body."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: list[FieldProblem] | None = None


@dataclass(frozen=True)
class FieldError:
    """An invalid field before localisation: pydantic's type, message and context."""

    field: str
    code: str
    english: str
    context: Mapping[str, Any] | None = None


class ApiError(Exception):
    """An error that becomes a problem response with a stable code.

    ``parameters`` fill the code's localised detail template (see ``i18n.PROBLEMS``).
    """

    def __init__(
        self,
        code: str,
        status: int,
        parameters: Mapping[str, Any] | None = None,
        *,
        errors: Sequence[FieldError] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if code not in PROBLEMS:
            raise ValueError(f"unknown problem code {code!r}; add it to i18n.PROBLEMS")
        self.code = code
        self.status = status
        self.parameters = dict(parameters or {})
        self.errors = list(errors)
        self.headers = dict(headers or {})
        super().__init__(f"{code} ({status})")


def problem_type(code: str) -> str:
    """Return the ``type`` URI of a problem code."""
    return f"urn:medrecord:problem:{code}"


def request_locale(request: Request) -> Locale:
    """Return the locale of a request's messages, from its Accept-Language header."""
    return negotiate_locale(request.headers.get("accept-language"))


def problem_body(error: ApiError, locale: Locale) -> dict[str, Any]:
    """Return the localised problem body of an error."""
    title, detail = problem_text(error.code, locale, error.parameters)
    body: dict[str, Any] = {
        "type": problem_type(error.code),
        "title": title,
        "status": error.status,
        "detail": detail,
        "code": error.code,
    }
    if error.errors:
        body["errors"] = [
            {
                "field": item.field,
                "code": item.code,
                "message": field_message(item.code, item.english, item.context, locale),
            }
            for item in error.errors
        ]
    return body


def problem_response(error: ApiError, locale: Locale) -> JSONResponse:
    """Return the problem response of an error in a locale."""
    headers = {"Content-Language": locale, **error.headers}
    return JSONResponse(
        problem_body(error, locale),
        status_code=error.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Return the OpenAPI ``responses`` entries of problem responses with these statuses."""
    return {
        status: {"model": Problem, "content": {PROBLEM_MEDIA_TYPE: {}}, "description": "Problem"}
        for status in statuses
    }


def validation_errors(error: RequestValidationError) -> list[FieldError]:
    """Turn FastAPI's validation error into field errors, without the rejected values."""
    fields: list[FieldError] = []
    for detail in error.errors():
        error_type = str(detail.get("type", "value_error"))
        location = [str(part) for part in detail.get("loc", ())]
        if error_type == "json_invalid":
            # The second part of the location is the character position of the JSON error.
            location = location[:1]
        context = detail.get("ctx")
        fields.append(
            FieldError(
                field=".".join(location) or "body",
                code=error_type,
                english=str(detail.get("msg", "Invalid value")),
                context=context if isinstance(context, Mapping) else None,
            )
        )
    return fields


def install_exception_handlers(app: FastAPI) -> None:
    """Turn every error a request can cause into a problem response."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, error: ApiError) -> JSONResponse:
        return problem_response(error, request_locale(request))

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        fields = validation_errors(error)
        logger.info(
            "rejected %s %s: %d invalid field(s): %s",
            request.method,
            request.url.path,
            len(fields),
            ", ".join(item.field for item in fields),
        )
        problem = ApiError(
            "validation_failed",
            422,
            {"count": len(fields), "fields": ", ".join(item.field for item in fields)},
            errors=fields,
        )
        return problem_response(problem, request_locale(request))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(error.status_code, "bad_request")
        parameters = {"limit": getattr(error, "limit", "?")}
        problem = ApiError(code, error.status_code, parameters, headers=error.headers)
        return problem_response(problem, request_locale(request))

    @app.exception_handler(SessionNotFoundError)
    async def _session_not_found(request: Request, error: SessionNotFoundError) -> JSONResponse:
        problem = ApiError("session_not_found", 404, {"session_id": error.session_id})
        return problem_response(problem, request_locale(request))

    @app.exception_handler(EventNotFoundError)
    async def _event_not_found(request: Request, error: EventNotFoundError) -> JSONResponse:
        problem = ApiError("event_not_found", 404, {"event_id": error.event_id})
        return problem_response(problem, request_locale(request))

    @app.exception_handler(UnknownDepartmentError)
    async def _unknown_department(request: Request, error: UnknownDepartmentError) -> JSONResponse:
        problem = ApiError(
            "unknown_department",
            422,
            {"name": error.code, "codes": ", ".join(error.registered)},
        )
        return problem_response(problem, request_locale(request))

    @app.exception_handler(DepartmentConflictError)
    async def _department_conflict(
        request: Request, error: DepartmentConflictError
    ) -> JSONResponse:
        problem = ApiError(
            "department_conflict",
            409,
            {
                "session_department": error.session_department,
                "hint": error.hint,
                "hinted_department": error.hinted_department,
            },
        )
        return problem_response(problem, request_locale(request))

    @app.exception_handler(NoUserMessageError)
    async def _no_user_message(request: Request, error: NoUserMessageError) -> JSONResponse:
        problem = ApiError("no_user_message", 422, {"session_id": error.session_id})
        return problem_response(problem, request_locale(request))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        # Only the type: the message of a database or driver error can quote row values.
        logger.error("%s %s failed with %s", request.method, request.url.path, type(error).__name__)
        return problem_response(ApiError("internal_error", 500), request_locale(request))
