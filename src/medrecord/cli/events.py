"""``medrecord events`` and ``medrecord render``: list medical events and render records."""

import enum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy.orm import Session as DatabaseSession

from medrecord.cli.options import (
    DatabaseOption,
    Locale,
    TimeZoneOption,
    VerboseOption,
    resolve_options,
)
from medrecord.cli.output import cell, print_json, print_table, risk_label, write_text_file
from medrecord.cli.runtime import load_registry, open_engine
from medrecord.events import get_event, list_events
from medrecord.models import MedicalEvent
from medrecord.records import render_record

__all__ = ["RecordFormat", "event_json", "events", "render"]


class RecordFormat(enum.StrEnum):
    """Output formats of a record."""

    MARKDOWN = "markdown"
    HTML = "html"


def events(
    ctx: typer.Context,
    user: Annotated[
        int | None, typer.Option("--user", metavar="ID", help="List only this user's events.")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a JSON list instead of a table.")
    ] = False,
    db: DatabaseOption = None,
    tz: TimeZoneOption = None,
    verbose: VerboseOption = False,
) -> None:
    """List medical events, newest day first."""
    options = resolve_options(ctx, db=db, tz=tz, verbose=verbose)

    with open_engine(options.database_url) as engine, DatabaseSession(engine) as database:
        found = list_events(session=database, user_id=user)
        rows = [event_json(event) for event in found]

    if as_json:
        print_json(rows)
        return

    table = Table(title="Medical events")
    for heading in (
        "ID",
        "User",
        "Department",
        "Date",
        "Title",
        "Sessions",
        "Risk level",
        "Attachments",
    ):
        table.add_column(heading)
    for row in rows:
        table.add_row(
            cell(row["id"]),
            cell(row["user_id"]),
            cell(row["department"]),
            cell(row["event_date"]),
            cell(row["title"]),
            cell(row["session_count"]),
            cell(risk_label(row["risk_level"])),
            cell(row["attachment_count"]),
        )
    print_table(table)


def event_json(event: MedicalEvent) -> dict[str, Any]:
    """Return the listing fields of an event; ``risk_level`` is None when not assessed."""
    return {
        "id": event.id,
        "user_id": event.user_id,
        "department": event.department,
        "agent_type": event.agent_type,
        "event_date": event.event_date.isoformat() if event.event_date else None,
        "title": event.title,
        "status": event.status,
        "session_count": event.session_count,
        "risk_level": event.risk_level,
        "attachment_count": event.attachment_count,
    }


def render(
    ctx: typer.Context,
    event_id: Annotated[int, typer.Argument(metavar="EVENT_ID", help="Id of the medical event.")],
    record_format: Annotated[
        RecordFormat, typer.Option("--format", help="Output format of the record.")
    ] = RecordFormat.MARKDOWN,
    locale: Annotated[
        Locale, typer.Option("--locale", help="Language of the record.")
    ] = Locale.ZH_CN,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="Write the record to FILE instead of standard output.",
        ),
    ] = None,
    user: Annotated[
        int | None,
        typer.Option("--user", metavar="ID", help="Render the event only if this user owns it."),
    ] = None,
    db: DatabaseOption = None,
    tz: TimeZoneOption = None,
    verbose: VerboseOption = False,
) -> None:
    """Render the record (病历) of a medical event as Markdown or HTML."""
    options = resolve_options(ctx, db=db, tz=tz, verbose=verbose)
    registry = load_registry()

    with open_engine(options.database_url) as engine, DatabaseSession(engine) as database:
        event = get_event(session=database, event_id=event_id, user_id=user)
        text = render_record(
            event,
            registry=registry,
            format=record_format.value,
            locale=locale.value,
            time_zone=options.time_zone,
        )

    if output is None:
        typer.echo(text, nl=False)
        return

    write_text_file(output, text)
    typer.echo(f"wrote the record of event {event_id} to {output}")
