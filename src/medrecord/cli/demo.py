"""``medrecord demo``: import the bundled conversations, aggregate them and write records."""

import importlib.resources
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session as DatabaseSession

from medrecord.cli.aggregate import aggregate_every_session, print_aggregation_run
from medrecord.cli.data import print_import_report
from medrecord.cli.options import (
    CommonOptions,
    DatabaseOption,
    TimeZoneOption,
    VerboseOption,
    resolve_options,
)
from medrecord.cli.output import (
    cell,
    fail,
    not_provided_label,
    print_table,
    risk_label,
    write_text_file,
)
from medrecord.cli.runtime import load_registry, open_engine, safe_url
from medrecord.departments import DepartmentRegistry
from medrecord.events import list_events
from medrecord.importing import ImportedSession, import_sessions
from medrecord.models import MedicalEvent
from medrecord.records import RECORD_FORMATS, SUPPORTED_LOCALES, RecordFormat, render_record
from medrecord.schema import upgrade_schema

__all__ = ["DEMO_CONVERSATIONS", "DEMO_DATABASE_NAME", "demo", "record_file_name"]

DEMO_CONVERSATIONS = "conversations.jsonl"
"""The example conversations in the package ``medrecord.demo``."""

DEMO_DATABASE_NAME = "medrecord-demo.db"

RECORD_FILE_PATTERNS = tuple(
    f"event-*.{locale}.{extension}"
    for locale in SUPPORTED_LOCALES
    for extension in RECORD_FORMATS.values()
)
"""Names of the record files a demo run writes, removed again before the next run."""


@dataclass(frozen=True)
class DemoEvent:
    """A demo event and the record files written for it."""

    event: MedicalEvent
    department_code: str
    files: list[Path]


def demo(
    ctx: typer.Context,
    out: Annotated[
        Path,
        typer.Option("--out", metavar="DIR", help="Folder for the records and the demo database."),
    ] = Path("medrecord-demo"),
    db: DatabaseOption = None,
    tz: TimeZoneOption = None,
    verbose: VerboseOption = False,
) -> None:
    """Import the example conversations, aggregate them and write every record.

    The database is DIR/medrecord-demo.db, deleted and created again on each run, unless
    --db names another one ($MEDRECORD_DATABASE_URL is not used, so the demo never writes
    into a configured database by accident). Each event's record is written to DIR in
    Markdown and HTML, in Chinese and English, and a summary table is printed.
    """
    options = resolve_options(ctx, db=db, tz=tz, verbose=verbose)
    _prepare_folder(out)
    database_url = _demo_database_url(options, out)
    registry = load_registry()

    with open_engine(database_url) as engine:
        revision = upgrade_schema(engine)
        session_ids = _import_conversations(engine, registry)
        run = aggregate_every_session(engine, registry=registry, time_zone=options.time_zone)
        print_aggregation_run(run, as_json=False)
        written = _write_records(engine, registry, session_ids, out, time_zone=options.time_zone)

    _print_summary(written)
    file_count = sum(len(item.files) for item in written)
    typer.echo(f"wrote {file_count} record file(s) to {out}")
    typer.echo(f"database {safe_url(database_url)} is at schema revision {revision}")

    if run.failures:
        raise typer.Exit(1)


def record_file_name(event_id: int, department_code: str, locale: str, extension: str) -> str:
    """Return the name of a record file, such as ``event-3-dermatology.zh-CN.md``."""
    return f"event-{event_id}-{department_code}.{locale}.{extension}"


def _prepare_folder(out: Path) -> None:
    """Create the output folder and remove the record files of an earlier run."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        for pattern in RECORD_FILE_PATTERNS:
            for stale in out.glob(pattern):
                stale.unlink()
    except OSError as error:
        fail(f"cannot prepare the output folder {str(out)!r}: {error.strerror or error}")


def _demo_database_url(options: CommonOptions, out: Path) -> str:
    """Return the --db URL, or a new SQLite file in the output folder."""
    if options.database_url_from_command_line:
        return options.database_url

    database_path = out / DEMO_DATABASE_NAME
    for suffix in ("", "-wal", "-shm", "-journal"):
        database_path.with_name(database_path.name + suffix).unlink(missing_ok=True)
    return f"sqlite:///{database_path.resolve()}"


def _import_conversations(engine: Engine, registry: DepartmentRegistry) -> set[str]:
    """Import the bundled conversations and return their session ids."""
    text = (
        importlib.resources.files("medrecord.demo")
        .joinpath(DEMO_CONVERSATIONS)
        .read_text(encoding="utf-8")
    )
    lines = text.splitlines()

    with DatabaseSession(engine) as database:
        report = import_sessions(lines, session=database, registry=registry)
        database.commit()

    print_import_report(report)
    if report.errors:
        fail(
            f"the bundled demo conversations have {report.rejected} invalid line(s); "
            "reinstall medrecord"
        )

    return {ImportedSession.model_validate_json(line).id for line in lines if line.strip()}


def _write_records(
    engine: Engine,
    registry: DepartmentRegistry,
    session_ids: set[str],
    out: Path,
    *,
    time_zone: str,
) -> list[DemoEvent]:
    """Render every event that contains a demo session in each format and locale."""
    written: list[DemoEvent] = []

    with DatabaseSession(engine) as database:
        found = sorted(list_events(session=database), key=lambda event: event.id)
        demo_events = [event for event in found if _session_ids(event) & session_ids]

        for event in demo_events:
            code = _department_code(registry, event)
            files: list[Path] = []
            for locale in SUPPORTED_LOCALES:
                for record_format, extension in RECORD_FORMATS.items():
                    text = render_record(
                        event,
                        registry=registry,
                        format=_record_format(record_format),
                        locale=locale,
                        time_zone=time_zone,
                    )
                    path = out / record_file_name(event.id, code, locale, extension)
                    write_text_file(path, text)
                    files.append(path)
            written.append(DemoEvent(event, code, files))

    return written


def _record_format(name: str) -> RecordFormat:
    if name == "html":
        return "html"
    return "markdown"


def _session_ids(event: MedicalEvent) -> set[str]:
    return {
        str(snapshot.get("session_id"))
        for snapshot in event.sessions or []
        if isinstance(snapshot, dict)
    }


def _department_code(registry: DepartmentRegistry, event: MedicalEvent) -> str:
    for department in registry:
        if department.event_agent_type == event.agent_type:
            return department.code
    return event.agent_type


def _print_summary(written: list[DemoEvent]) -> None:
    table = Table(title="medrecord demo: medical events")
    headings = (
        "Event",
        "Department",
        "User",
        "Date",
        "Sessions",
        "Messages",
        "Attachments",
        "Risk level",
        "Chief complaint",
        "Files",
    )
    for heading in headings:
        table.add_column(heading)

    for item in written:
        event = item.event
        message_count = sum(
            int(snapshot.get("message_count") or 0)
            for snapshot in event.sessions or []
            if isinstance(snapshot, dict)
        )
        table.add_row(
            cell(event.id),
            cell(event.department),
            cell(event.user_id),
            cell(event.event_date.isoformat() if event.event_date else None),
            cell(event.session_count),
            cell(message_count),
            cell(event.attachment_count),
            cell(risk_label(event.risk_level)),
            cell(event.chief_complaint or not_provided_label()),
            cell(f"event-{event.id}-{item.department_code}.* ({len(item.files)})"),
        )
    print_table(table)
