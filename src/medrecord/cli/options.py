"""Options that every command takes: the database, the time zone of event days, verbosity.

Each option can be given before the command (``medrecord --db URL events``) or after it
(``medrecord events --db URL``); the value after the command wins. Without either, the
environment variables ``MEDRECORD_DATABASE_URL`` and ``MEDRECORD_TIMEZONE`` apply, and then
the defaults: ``sqlite:///medrecord.db`` in the working directory and Asia/Shanghai.
"""

import enum
import os
from dataclasses import dataclass
from typing import Annotated

import typer

from medrecord.cli.runtime import configure_logging
from medrecord.clock import DEFAULT_TIME_ZONE, resolve_time_zone
from medrecord.database import DEFAULT_DATABASE_URL, normalize_database_url
from medrecord.errors import ConfigurationError

__all__ = [
    "DATABASE_URL_ENV",
    "TIME_ZONE_ENV",
    "CommonOptions",
    "DatabaseOption",
    "GlobalOptions",
    "Locale",
    "TimeZoneOption",
    "VerboseOption",
    "resolve_options",
    "store_global_options",
]

DATABASE_URL_ENV = "MEDRECORD_DATABASE_URL"
TIME_ZONE_ENV = "MEDRECORD_TIMEZONE"

DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        metavar="URL",
        show_default=False,
        help=(
            f"SQLAlchemy database URL. Default: ${DATABASE_URL_ENV}, else "
            f"{DEFAULT_DATABASE_URL} in the working directory."
        ),
    ),
]

TimeZoneOption = Annotated[
    str | None,
    typer.Option(
        "--tz",
        metavar="ZONE",
        show_default=False,
        help=(
            "IANA time zone of event days and of the times shown in records. "
            f"Default: ${TIME_ZONE_ENV}, else {DEFAULT_TIME_ZONE}."
        ),
    ),
]

VerboseOption = Annotated[
    bool,
    typer.Option("--verbose", "-v", help="Log progress at INFO level to standard error."),
]


class Locale(enum.StrEnum):
    """Locales of records and messages."""

    ZH_CN = "zh-CN"
    EN = "en"


@dataclass(frozen=True)
class GlobalOptions:
    """The shared options given before the command, as typed."""

    database_url: str | None = None
    time_zone: str | None = None
    verbose: bool = False


@dataclass(frozen=True)
class CommonOptions:
    """The shared options of a command after command line, environment and defaults.

    ``database_url_from_command_line`` is true when ``--db`` was on the command line. The
    demo needs it, because it writes to a database only when the command line names one.
    """

    database_url: str
    database_url_from_command_line: bool
    time_zone: str
    verbose: bool


def store_global_options(
    ctx: typer.Context,
    db: DatabaseOption = None,
    tz: TimeZoneOption = None,
    verbose: VerboseOption = False,
) -> None:
    """Build medical records (病历) from AI-intake chat sessions, from real session data only."""
    ctx.obj = GlobalOptions(database_url=db, time_zone=tz, verbose=verbose)


def resolve_options(
    ctx: typer.Context, *, db: str | None, tz: str | None, verbose: bool
) -> CommonOptions:
    """Combine a command's options with those given before it, validate them, set up logging.

    An invalid URL or time zone is a usage error that names the value and where it
    came from.
    """
    outer = ctx.find_object(GlobalOptions) or GlobalOptions()
    verbose = verbose or outer.verbose
    configure_logging(verbose=verbose)

    command_line_url = db or outer.database_url
    database_url = command_line_url or _environment(DATABASE_URL_ENV) or DEFAULT_DATABASE_URL
    try:
        normalize_database_url(database_url)
    except ConfigurationError as error:
        raise typer.BadParameter(
            str(error), param_hint=_source("--db", command_line_url, DATABASE_URL_ENV)
        ) from None

    command_line_zone = tz or outer.time_zone
    time_zone = command_line_zone or _environment(TIME_ZONE_ENV) or DEFAULT_TIME_ZONE
    try:
        resolve_time_zone(time_zone)
    except ConfigurationError as error:
        raise typer.BadParameter(
            str(error), param_hint=_source("--tz", command_line_zone, TIME_ZONE_ENV)
        ) from None

    return CommonOptions(
        database_url=database_url,
        database_url_from_command_line=command_line_url is not None,
        time_zone=time_zone,
        verbose=verbose,
    )


def _environment(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def _source(option: str, command_line_value: str | None, environment_variable: str) -> str:
    return f"'{option}'" if command_line_value is not None else f"${environment_variable}"
