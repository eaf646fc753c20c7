"""``medrecord migrate``: move the legacy department tables into the unified model.

``migrate legacy`` migrates (or, with ``--dry-run``, reports what it would migrate),
``migrate verify`` compares every legacy row with its session, and ``migrate
retire-legacy`` renames the legacy tables once a verification passed.
"""

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)

from medrecord.cli.errors import ErrorReportingGroup
from medrecord.cli.options import DatabaseOption, VerboseOption, resolve_options
from medrecord.cli.output import print_json
from medrecord.cli.runtime import load_registry, open_engine
from medrecord.clock import resolve_time_zone
from medrecord.departments import DepartmentRegistry
from medrecord.errors import ConfigurationError
from medrecord.legacy import (
    DEFAULT_BATCH_SIZE,
    MigrationProgress,
    MigrationReport,
    VerificationReport,
    legacy_mappers,
    migrate_legacy,
    retire_legacy,
    verify_migration,
)

__all__ = ["LEGACY_TIME_ZONE_ENV", "migrate_app"]

LEGACY_TIME_ZONE_ENV = "MEDRECORD_LEGACY_TIMEZONE"

MAX_LISTED = 50
"""How many quarantined rows or mismatches the text summary lists before "and N more"."""

migrate_app = typer.Typer(
    name="migrate",
    cls=ErrorReportingGroup,
    no_args_is_help=True,
    help="Migrate the legacy derma_sessions and diagnosis_sessions tables.",
)


OnlyOption = Annotated[
    list[str] | None,
    typer.Option(
        "--only",
        metavar="SOURCE",
        help="Only this legacy source: derma (derma_sessions), diagnosis (diagnosis_sessions) "
        "or one a plugin adds. Repeat for several. Default: every installed source.",
    ),
]
BatchSizeOption = Annotated[
    int,
    typer.Option("--batch-size", min=1, metavar="N", help="Legacy rows per transaction."),
]
LegacyTimeZoneOption = Annotated[
    str | None,
    typer.Option(
        "--legacy-tz",
        metavar="ZONE",
        show_default=False,
        help=(
            "IANA zone of legacy times written without an offset. "
            f"Default: ${LEGACY_TIME_ZONE_ENV}, else UTC (the legacy code wrote naive UTC)."
        ),
    ),
]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print the report as JSON instead of a summary.")
]


@migrate_app.command("legacy")
def legacy(
    ctx: typer.Context,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Report what would be migrated and every problem; write nothing."
        ),
    ] = False,
    batch_size: BatchSizeOption = DEFAULT_BATCH_SIZE,
    only: OnlyOption = None,
    legacy_tz: LegacyTimeZoneOption = None,
    as_json: JsonOption = False,
    db: DatabaseOption = None,
    verbose: VerboseOption = False,
) -> None:
    """Migrate legacy rows into sessions and messages, quarantining rows that cannot be mapped.

    Re-running adds nothing already migrated and retries quarantined rows. The legacy
    tables are only read. The exit status is 1 when any row is quarantined.
    """
    options = resolve_options(ctx, db=db, tz=None, verbose=verbose)
    zone = _legacy_zone(legacy_tz)
    registry = load_registry()
    _check_sources(only, registry)

    with (
        open_engine(options.database_url) as engine,
        _progress_bar(enabled=not as_json) as progress,
    ):
        report = migrate_legacy(
            engine,
            registry=registry,
            only=only,
            batch_size=batch_size,
            dry_run=dry_run,
            legacy_time_zone=zone,
            progress=progress,
        )

    if as_json:
        print_json(report.to_dict())
    else:
        _print_migration(report)
    if report.quarantined:
        raise typer.Exit(1)


@migrate_app.command("verify")
def verify(
    ctx: typer.Context,
    batch_size: BatchSizeOption = DEFAULT_BATCH_SIZE,
    only: OnlyOption = None,
    legacy_tz: LegacyTimeZoneOption = None,
    as_json: JsonOption = False,
    db: DatabaseOption = None,
    verbose: VerboseOption = False,
) -> None:
    """Compare every legacy row with its session: fields, state, message count and checksum.

    Pass the --legacy-tz the migration used. The exit status is 1 when anything differs
    or is not migrated; quarantined rows are counted but do not fail the verification.
    """
    options = resolve_options(ctx, db=db, tz=None, verbose=verbose)
    zone = _legacy_zone(legacy_tz)
    registry = load_registry()
    _check_sources(only, registry)

    with (
        open_engine(options.database_url) as engine,
        _progress_bar(enabled=not as_json) as progress,
    ):
        report = verify_migration(
            engine,
            registry=registry,
            only=only,
            batch_size=batch_size,
            legacy_time_zone=zone,
            progress=progress,
        )

    if as_json:
        print_json(report.to_dict())
    else:
        _print_verification(report)
    if not report.passed:
        raise typer.Exit(1)


@migrate_app.command("retire-legacy")
def retire(
    ctx: typer.Context,
    accept_quarantined: Annotated[
        bool,
        typer.Option(
            "--accept-quarantined",
            help="Retire the tables even though some rows are quarantined and not migrated.",
        ),
    ] = False,
    as_json: JsonOption = False,
    db: DatabaseOption = None,
    verbose: VerboseOption = False,
) -> None:
    """Rename the legacy tables to <name>_deprecated, only after a verification passed.

    Refused when the newest verification failed, a migration ran after it, or a legacy
    table changed since. Nothing is dropped; renaming a table back undoes this.
    """
    options = resolve_options(ctx, db=db, tz=None, verbose=verbose)
    registry = load_registry()

    with open_engine(options.database_url) as engine:
        report = retire_legacy(engine, registry=registry, accept_quarantined=accept_quarantined)

    if as_json:
        print_json(report.to_dict())
        return
    for old, new in report.renamed.items():
        typer.echo(f"renamed {old} to {new}")
    typer.echo(f"retired {len(report.renamed)} legacy table(s) (run {report.run_id})")


def _check_sources(only: list[str] | None, registry: DepartmentRegistry) -> None:
    """Make an unknown ``--only`` source a usage error that lists the installed ones."""
    installed = legacy_mappers(registry)
    for name in only or ():
        if name not in installed:
            raise typer.BadParameter(
                f"unknown legacy source {name!r}; installed sources: "
                f"{', '.join(installed) or 'none'}",
                param_hint="'--only'",
            )


def _legacy_zone(value: str | None) -> str:
    from_environment = os.environ.get(LEGACY_TIME_ZONE_ENV, "").strip() or None
    zone = value or from_environment or "UTC"
    try:
        resolve_time_zone(zone)
    except ConfigurationError as error:
        hint = "'--legacy-tz'" if value else f"${LEGACY_TIME_ZONE_ENV}"
        raise typer.BadParameter(str(error), param_hint=hint) from None
    return zone


@contextmanager
def _progress_bar(*, enabled: bool) -> Iterator[Callable[[MigrationProgress], None] | None]:
    """Yield a progress callback that draws a bar per table on a terminal, else None."""
    console = Console(stderr=True)
    if not enabled or not console.is_terminal:
        yield None
        return

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        tasks: dict[str, TaskID] = {}

        def update(step: MigrationProgress) -> None:
            if step.legacy_table not in tasks:
                tasks[step.legacy_table] = bar.add_task(step.legacy_table, total=step.total)
            bar.update(tasks[step.legacy_table], completed=step.processed, total=step.total)

        yield update


def _print_migration(report: MigrationReport) -> None:
    verb = "would migrate" if report.dry_run else "migrated"
    for table in report.tables:
        if not table.present:
            typer.echo(f"{table.legacy_table}: not found, skipped")
            continue
        typer.echo(
            f"{table.legacy_table} -> {table.department}: {table.rows} row(s), {verb} "
            f"{table.migrated} with {table.migrated_messages} message(s), "
            f"{table.already_migrated} already migrated, {table.quarantined} quarantined"
        )
        if table.missing_columns:
            typer.echo(f"  columns missing, read as empty: {', '.join(table.missing_columns)}")
        if table.unmapped_columns:
            typer.echo(f"  columns not migrated: {', '.join(table.unmapped_columns)}")

    for row in report.quarantine[:MAX_LISTED]:
        typer.echo(f"quarantined: {row.legacy_table} {row.legacy_id!r}: {row.reason}: {row.detail}")
    if len(report.quarantine) > MAX_LISTED:
        typer.echo(
            f"... and {len(report.quarantine) - MAX_LISTED} more; see --json or the table "
            "legacy_migration_quarantine"
        )

    prefix = "dry run: " if report.dry_run else ""
    run = "" if report.run_id is None else f" (run {report.run_id})"
    typer.echo(
        f"{prefix}{verb} {report.migrated} session(s) with {report.migrated_messages} "
        f"message(s), {report.already_migrated} already migrated, {report.quarantined} "
        f"quarantined{run}"
    )


def _print_verification(report: VerificationReport) -> None:
    for table in report.tables:
        if not table.present:
            typer.echo(f"{table.legacy_table}: not found, skipped")
            continue
        typer.echo(
            f"{table.legacy_table}: {table.rows} row(s), {table.verified} verified with "
            f"{table.verified_messages} message(s) ({table.continued} continued since), "
            f"{table.quarantined} quarantined, "
            f"{table.mismatched} mismatched, {table.orphaned} orphaned ledger entr(ies)"
        )

    for mismatch in report.mismatches[:MAX_LISTED]:
        typer.echo(
            f"mismatch: {mismatch.legacy_table} {mismatch.legacy_id!r}: {mismatch.kind}: "
            f"{mismatch.detail}"
        )
    if len(report.mismatches) > MAX_LISTED:
        typer.echo(f"... and {len(report.mismatches) - MAX_LISTED} more; see --json")

    outcome = "passed" if report.passed else "FAILED"
    typer.echo(f"verification {outcome} (run {report.run_id})")
