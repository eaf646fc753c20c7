"""Creating and upgrading the unified tables with the bundled Alembic revisions."""

from __future__ import annotations

import logging

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine, inspect

from medrecord.errors import ConfigurationError

__all__ = [
    "BASE_REVISION",
    "UNIFIED_TABLES",
    "VERSION_TABLE",
    "current_revision",
    "upgrade_schema",
]

logger = logging.getLogger(__name__)

VERSION_TABLE = "medrecord_alembic_version"
"""Alembic version table of medrecord, apart from the application's own ``alembic_version``."""

BASE_REVISION = "0001"
"""The revision matching the production tables before medrecord's additions."""

UNIFIED_TABLES = ("sessions", "messages", "medical_events")


def alembic_config(connection: Connection | None = None) -> Config:
    """Return an Alembic configuration for the bundled revisions, bound to a connection."""
    config = Config()
    config.set_main_option("script_location", "medrecord:db_migrations")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def current_revision(engine: Engine) -> str | None:
    """Return the schema revision of a database, or None when medrecord never ran on it."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        return context.get_current_revision()


def upgrade_schema(
    engine: Engine, *, existing_tables: bool = False, revision: str = "head"
) -> str | None:
    """Create the unified tables or upgrade them to ``revision``; return the new revision.

    A database that already contains the production tables but no medrecord version must be
    adopted explicitly with ``existing_tables=True``: it is stamped at the base revision,
    which matches the production schema, and then upgraded, so only the additions run.
    """
    with engine.begin() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        revision_before = context.get_current_revision()
        present = [name for name in UNIFIED_TABLES if inspect(connection).has_table(name)]
        config = alembic_config(connection)

        if revision_before is None and present:
            if not existing_tables:
                raise ConfigurationError(
                    f"the database already has table(s) {', '.join(present)} but no medrecord "
                    "schema version; back it up, then run 'medrecord init --existing-tables' "
                    "to adopt the tables without recreating them"
                )
            missing = [name for name in UNIFIED_TABLES if name not in present]
            if missing:
                raise ConfigurationError(
                    f"cannot adopt existing tables: table(s) {', '.join(missing)} are missing; "
                    "adopt a database that has all of sessions, messages and medical_events"
                )
            command.stamp(config, BASE_REVISION)
            logger.info("stamped existing tables at revision %s", BASE_REVISION)

        command.upgrade(config, revision)

    revision_after = current_revision(engine)
    logger.info("schema upgraded from %s to %s", revision_before, revision_after)
    return revision_after
