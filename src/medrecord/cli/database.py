"""``medrecord init``: create or upgrade the unified tables."""

from typing import Annotated

import typer

from medrecord.cli.options import DatabaseOption, TimeZoneOption, VerboseOption, resolve_options
from medrecord.cli.runtime import open_engine, safe_url
from medrecord.schema import upgrade_schema

__all__ = ["init"]


def init(
    ctx: typer.Context,
    existing_tables: Annotated[
        bool,
        typer.Option(
            "--existing-tables",
            help=(
                "Adopt sessions, messages and medical_events tables that exist without a "
                "medrecord schema version; only medrecord's additions are applied."
            ),
        ),
    ] = False,
    db: DatabaseOption = None,
    tz: TimeZoneOption = None,
    verbose: VerboseOption = False,
) -> None:
    """Create the tables, or upgrade them to the newest schema revision, and print the revision."""
    options = resolve_options(ctx, db=db, tz=tz, verbose=verbose)

    with open_engine(options.database_url) as engine:
        revision = upgrade_schema(engine, existing_tables=existing_tables)

    typer.echo(f"database {safe_url(options.database_url)} is at schema revision {revision}")
