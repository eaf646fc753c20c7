"""The application factory: settings in, a FastAPI app with its database ready out."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import sqlalchemy
from fastapi import FastAPI
from sqlalchemy.engine import Engine

from medrecord import __version__
from medrecord.database import create_engine
from medrecord.departments import DepartmentRegistry, load_departments
from medrecord.errors import ConfigurationError
from medrecord.schema import upgrade_schema
from medrecord_api.agent.protocol import IntakeAgent
from medrecord_api.agent.rule_based import RuleBasedIntakeAgent
from medrecord_api.attachments import MediaStore
from medrecord_api.context import AppContext
from medrecord_api.middleware import BodySizeLimitMiddleware, DeprecationHeadersMiddleware
from medrecord_api.problems import install_exception_handlers
from medrecord_api.routes import events, sessions, shims
from medrecord_api.settings import Settings

__all__ = ["create_app"]

logger = logging.getLogger(__name__)

DESCRIPTION = """\
The API the iOS client uses: unified intake sessions for every department, streamed
replies of the intake agent, medical events aggregated from real session data, and
rendered records (病历).

Every route needs `Authorization: Bearer <token>`. In this example the tokens come from
`MEDRECORD_API_TOKENS`, a stand-in for the deployment's own authentication. Errors are
`application/problem+json` with a stable `code`, in zh-CN or en by `Accept-Language`.
"""


def create_app(
    settings: Settings | None = None,
    *,
    agent: IntakeAgent | None = None,
    registry: DepartmentRegistry | None = None,
) -> FastAPI:
    """Build the app: open the engine, upgrade the schema, load departments, create media.

    ``settings`` default to :meth:`Settings.from_environment`, so ``uvicorn --factory
    medrecord_api:create_app`` works. ``agent`` defaults to
    :class:`RuleBasedIntakeAgent`, ``registry`` to the installed department plugins.
    Raises :class:`ConfigurationError` when the database cannot be opened or upgraded
    or the media directory cannot be created; nothing is served then.
    """
    settings = settings if settings is not None else Settings.from_environment()
    engine = _open_engine(settings.database_url)
    try:
        revision = _upgrade(engine)
        media = MediaStore(settings.media_dir)
        try:
            media.prepare()
        except OSError as error:
            raise ConfigurationError(
                f"cannot create the media directory {str(settings.media_dir)!r}: "
                f"{error.strerror}; set MEDRECORD_API_MEDIA_DIR to a writable directory"
            ) from error
    except BaseException:
        engine.dispose()
        raise

    context = AppContext(
        settings=settings,
        engine=engine,
        registry=registry if registry is not None else load_departments(),
        agent=agent if agent is not None else RuleBasedIntakeAgent(),
        media=media,
    )
    logger.info(
        "API ready: %s database at schema revision %s, %d department(s), %d user token(s)",
        engine.dialect.name,
        revision,
        len(context.registry),
        len(settings.token_digests),
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            engine.dispose()

    app = FastAPI(
        title="medrecord example API",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.medrecord = context
    install_exception_handlers(app)
    app.include_router(sessions.router)
    app.include_router(events.router)
    app.include_router(shims.router)
    app.add_middleware(
        DeprecationHeadersMiddleware,
        successors=shims.SHIM_SUCCESSORS,
        deprecated_at=settings.deprecated_at,
        sunset_at=settings.sunset_at,
    )
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_request_bytes)
    return app


def _open_engine(url: str) -> Engine:
    try:
        return create_engine(url)
    except sqlalchemy.exc.ArgumentError as error:
        raise ConfigurationError(f"cannot open the database URL: {error}") from error
    except ImportError as error:
        raise ConfigurationError(
            f"the database driver is not installed ({error.name}); "
            "for PostgreSQL install medrecord[postgresql]"
        ) from error


def _upgrade(engine: Engine) -> str | None:
    try:
        return upgrade_schema(engine)
    except sqlalchemy.exc.OperationalError as error:
        # Only the first line: later lines of a driver message can quote values.
        lines = str(error.orig).strip().splitlines()
        detail = lines[0] if lines else type(error.orig).__name__
        raise ConfigurationError(f"cannot open the database: {detail}") from error
