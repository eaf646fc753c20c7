"""``medrecord serve``: run the example API (``medrecord_api``) with uvicorn."""

import logging
from typing import Annotated

import typer

from medrecord.cli.options import DatabaseOption, TimeZoneOption, VerboseOption, resolve_options
from medrecord.cli.output import fail
from medrecord.cli.runtime import safe_url

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "serve"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000

# Seconds uvicorn waits for open streams to end after Ctrl-C before it closes them.
_GRACEFUL_SHUTDOWN_SECONDS = 5


def serve(
    ctx: typer.Context,
    host: Annotated[
        str, typer.Option("--host", metavar="HOST", help="Address to listen on.")
    ] = DEFAULT_HOST,
    port: Annotated[
        int,
        typer.Option("--port", metavar="PORT", min=1, max=65535, help="TCP port to listen on."),
    ] = DEFAULT_PORT,
    db: DatabaseOption = None,
    tz: TimeZoneOption = None,
    verbose: VerboseOption = False,
) -> None:
    """Serve the example API that the iOS client uses, with uvicorn.

    Set MEDRECORD_API_TOKENS to token:user_id pairs separated by commas.

    These tokens stand in for real authentication.

    Uploaded images go to MEDRECORD_API_MEDIA_DIR (default ./medrecord-media).

    The database schema is created or upgraded on start.

    FastAPI and uvicorn come with the api extra of medrecord.
    """
    options = resolve_options(ctx, db=db, tz=tz, verbose=verbose)

    try:
        import uvicorn
        from medrecord_api import Settings, create_app
    except ImportError as error:
        fail(
            f"the API needs FastAPI and uvicorn, but {error.name or 'a module'} is not "
            "installed; install them with: pip install 'medrecord[api]'"
        )

    _configure_api_logging(verbose=options.verbose)
    settings = Settings.from_environment(
        database_url=options.database_url, time_zone=options.time_zone
    )
    app = create_app(settings)

    typer.echo(
        f"serving the medrecord API on http://{host}:{port} "
        f"(database {safe_url(options.database_url)}, time zone {options.time_zone})",
        err=True,
    )
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="info",
        timeout_graceful_shutdown=_GRACEFUL_SHUTDOWN_SECONDS,
    )


def _configure_api_logging(*, verbose: bool) -> None:
    """Send the example app's log records to standard error, like the library's."""
    logger = logging.getLogger("medrecord_api")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(logging.INFO if verbose else logging.WARNING)
