"""Logging set-up, engine and department registry for the commands."""

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy
from sqlalchemy.engine import Engine

from medrecord.database import create_engine, normalize_database_url
from medrecord.departments import DepartmentRegistry, load_departments
from medrecord.errors import ConfigurationError

__all__ = ["LOGGER_NAMES", "configure_logging", "load_registry", "open_engine", "safe_url"]

LOGGER_NAMES = ("medrecord", "medrecord_departments")
"""The loggers of the library and of the built-in department plugins."""

_LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"


class _CommandLineHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler the command line adds, so that a second set-up replaces it."""


def configure_logging(*, verbose: bool) -> None:
    """Send the library's log records to standard error: INFO and above when verbose, else WARNING.

    Only the library's own loggers are set up, never the root logger. The library logs ids
    and counts, never health data.
    """
    handler = _CommandLineHandler()
    handler.setFormatter(logging.Formatter(_LOG_FORMAT))

    for name in LOGGER_NAMES:
        logger = logging.getLogger(name)
        for existing in [h for h in logger.handlers if isinstance(h, _CommandLineHandler)]:
            logger.removeHandler(existing)
        logger.addHandler(handler)
        logger.setLevel(logging.INFO if verbose else logging.WARNING)


def safe_url(url: str) -> str:
    """Return a database URL with its password masked, for messages."""
    try:
        return normalize_database_url(url).render_as_string(hide_password=True)
    except ConfigurationError:
        return "<invalid URL>"


@contextmanager
def open_engine(url: str) -> Iterator[Engine]:
    """Create an engine for the URL and dispose of it when the command is done."""
    try:
        engine = create_engine(url)
    except sqlalchemy.exc.ArgumentError as error:
        raise ConfigurationError(
            f"cannot open database URL {safe_url(url)!r}: {error}; use a URL such as "
            "'sqlite:///medrecord.db' or 'postgresql+psycopg://user@host/dbname'"
        ) from error
    except ImportError as error:
        raise ConfigurationError(
            f"the database driver for {safe_url(url)!r} is not installed ({error.name}); "
            "for PostgreSQL install medrecord[postgresql]"
        ) from error

    try:
        yield engine
    finally:
        engine.dispose()


def load_registry() -> DepartmentRegistry:
    """Load the installed department plugins.

    A plugin that fails to load is logged as an error with its name, which the command
    line prints on standard error, and the other departments are still registered.
    """
    return load_departments()
