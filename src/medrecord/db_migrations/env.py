"""Alembic environment of the unified tables.

Run through :mod:`medrecord.schema` (``medrecord init``), which passes an open connection
in ``config.attributes["connection"]``, or with the ``alembic`` command and the
``alembic.ini`` at the repository root, which reads ``MEDRECORD_DATABASE_URL``.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Connection

from medrecord.database import DEFAULT_DATABASE_URL, create_engine
from medrecord.models import metadata
from medrecord.schema import VERSION_TABLE

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    """Emit the migration SQL without a database connection."""
    url = config.get_main_option("sqlalchemy.url") or os.environ.get(
        "MEDRECORD_DATABASE_URL", DEFAULT_DATABASE_URL
    )
    context.configure(
        url=url,
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        literal_binds=True,
        render_as_batch=url.startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run the migrations on the passed connection, or on a new engine."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return

    url = config.get_main_option("sqlalchemy.url") or os.environ.get(
        "MEDRECORD_DATABASE_URL", DEFAULT_DATABASE_URL
    )
    engine = create_engine(url)
    try:
        with engine.connect() as new_connection:
            _run(new_connection)
            new_connection.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
