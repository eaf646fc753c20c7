"""``medrecord import``: load sessions and their messages from JSON Lines."""

from typing import Annotated

import typer
from sqlalchemy.orm import Session as DatabaseSession

from medrecord.cli.options import DatabaseOption, TimeZoneOption, VerboseOption, resolve_options
from medrecord.cli.runtime import load_registry, open_engine
from medrecord.importing import DEFAULT_BATCH_SIZE, ImportReport, import_sessions

__all__ = ["import_command", "print_import_report"]


def import_command(
    ctx: typer.Context,
    file: Annotated[
        typer.FileText,
        typer.Argument(
            metavar="FILE",
            encoding="utf-8",
            help="JSON Lines file with one session per line, or - for standard input.",
        ),
    ],
    batch_size: Annotated[
        int,
        typer.Option("--batch-size", min=1, help="Sessions written and committed together."),
    ] = DEFAULT_BATCH_SIZE,
    db: DatabaseOption = None,
    tz: TimeZoneOption = None,
    verbose: VerboseOption = False,
) -> None:
    """Import sessions with their messages, one JSON object per line.

    Each line contains the columns of the sessions table and "messages", a list of objects
    with the columns of the messages table. Times need a UTC offset. A session whose id
    already exists is skipped, without comparing content. Invalid lines are reported
    with their line number, and the other lines are still imported. The exit status is 1
    when any line was rejected.
    """
    options = resolve_options(ctx, db=db, tz=tz, verbose=verbose)
    registry = load_registry()

    with open_engine(options.database_url) as engine, DatabaseSession(engine) as database:
        report = import_sessions(
            file,
            session=database,
            registry=registry,
            batch_size=batch_size,
            after_batch=lambda _report: database.commit(),
        )

    print_import_report(report)
    if report.rejected:
        raise typer.Exit(1)


def print_import_report(report: ImportReport) -> None:
    """Print skipped sessions and totals on standard output, rejected lines on standard error."""
    for skipped in report.skipped_sessions:
        typer.echo(
            f"line {skipped.line_number}: skipped session {skipped.session_id!r}, "
            "which already exists"
        )
    for error in report.errors:
        typer.echo(f"line {error.line_number}: rejected: {error.reason}", err=True)

    typer.echo(
        f"imported {report.imported} session(s) with {report.imported_messages} message(s), "
        f"skipped {report.skipped} existing session(s), rejected {report.rejected} line(s)"
    )
