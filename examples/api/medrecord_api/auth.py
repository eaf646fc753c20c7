"""Bearer-token authentication: ``Authorization: Bearer <token>`` to a user id.

The token map from ``MEDRECORD_API_TOKENS`` is a stand-in for the team's own
authentication. To use real auth, replace :func:`current_user` with a dependency that
returns the user id of the request, for example with
``app.dependency_overrides[current_user] = your_dependency``.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from medrecord_api.context import AppContext, app_context
from medrecord_api.problems import ApiError

__all__ = ["Context", "CurrentUser", "bearer_scheme", "current_user"]

logger = logging.getLogger(__name__)

bearer_scheme = HTTPBearer(
    auto_error=False,
    description="A token from MEDRECORD_API_TOKENS, a stand-in for the deployment's own auth.",
)

Context = Annotated[AppContext, Depends(app_context)]


def current_user(
    context: Context,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> int:
    """Return the id of the user whose bearer token the request carries.

    Raises a 401 problem with ``WWW-Authenticate: Bearer`` when the header is missing,
    is not a bearer token, or names an unknown token.
    """
    if credentials is None:
        raise ApiError("unauthorized", 401, headers={"WWW-Authenticate": "Bearer"})

    user_id = context.settings.user_for_token(credentials.credentials)
    if user_id is None:
        logger.info("rejected a request with an unknown bearer token")
        raise ApiError(
            "unauthorized", 401, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
        )
    return user_id


CurrentUser = Annotated[int, Depends(current_user)]
