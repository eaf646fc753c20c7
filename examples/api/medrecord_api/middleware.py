"""ASGI middleware: the request body limit and the headers of deprecated endpoints."""

from __future__ import annotations

import datetime as dt
import email.utils
from collections.abc import Mapping

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from medrecord_api.i18n import negotiate_locale
from medrecord_api.problems import ApiError, problem_response

__all__ = ["BodySizeLimitMiddleware", "DeprecationHeadersMiddleware", "PayloadTooLargeError"]


class PayloadTooLargeError(HTTPException):
    """A request body passed the limit while it was being read."""

    def __init__(self, limit: int) -> None:
        super().__init__(413)
        self.limit = limit


class BodySizeLimitMiddleware:
    """Reject request bodies larger than ``max_bytes`` with a 413 problem.

    A declared Content-Length over the limit is rejected before the body is read. A body
    without one is counted as it arrives, and reading stops at the limit.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        headers = Headers(scope=scope)
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            error = ApiError("payload_too_large", 413, {"limit": self.max_bytes})
            response = problem_response(error, negotiate_locale(headers.get("accept-language")))
            await response(scope, receive, send)
            return

        received = 0

        async def receive_within_limit() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise PayloadTooLargeError(self.max_bytes)
            return message

        await self.app(scope, receive_within_limit, send)


class DeprecationHeadersMiddleware:
    """Add ``Deprecation``, ``Sunset`` and ``Link`` headers to responses of deprecated paths.

    ``successors`` maps each deprecated path to the path that replaces it, or to None
    when the handler sets the ``Link`` header itself. ``Deprecation`` uses the RFC 9745
    form ``@<unix seconds>``, ``Sunset`` an HTTP-date (RFC 8594).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        successors: Mapping[str, str | None],
        deprecated_at: dt.datetime,
        sunset_at: dt.datetime,
    ) -> None:
        self.app = app
        self.successors = dict(successors)
        self.deprecation = f"@{int(deprecated_at.timestamp())}"
        self.sunset = email.utils.format_datetime(sunset_at.astimezone(dt.UTC), usegmt=True)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path not in self.successors:
            await self.app(scope, receive, send)
            return

        successor = self.successors[path]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Deprecation"] = self.deprecation
                headers["Sunset"] = self.sunset
                if successor is not None and "link" not in headers:
                    headers["Link"] = f'<{successor}>; rel="successor-version"'
            await send(message)

        await self.app(scope, receive, send_with_headers)
