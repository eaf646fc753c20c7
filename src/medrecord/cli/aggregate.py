"""``medrecord aggregate``: build medical events from one session or from every session."""

import logging
from dataclasses import dataclass, field
from typing import Annotated, Any

import typer
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session as DatabaseSession

from medrecord.aggregation import AggregationResult, aggregate
from medrecord.cli.options import (
    CommonOptions,
    DatabaseOption,
    Locale,
    TimeZoneOption,
    VerboseOption,
    resolve_options,
)
from medrecord.cli.output import print_json
from medrecord.cli.runtime import load_registry, open_engine
from medrecord.departments import DepartmentRegistry
from medrecord.errors import MedrecordError
from medrecord.models import ChatSession

__all__ = ["AggregationFailure", "AggregationRun", "aggregate_command", "aggregate_every_session"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AggregationFailure:
    """A session that could not be aggregated, with the error."""

    session_id: str
    user_id: int
    error: MedrecordError


@dataclass
class AggregationRun:
    """The outcome of aggregating many sessions, each in its own transaction."""

    results: list[AggregationResult] = field(default_factory=list)
    failures: list[AggregationFailure] = field(default_factory=list)

    @property
    def event_ids(self) -> list[int]:
        """The ids of the events that received a session, sorted."""
        return sorted({result.event_id for result in self.results})

    @property
    def new_event_count(self) -> int:
        """How many events this run created."""
        return sum(1 for result in self.results if result.is_new_event)

    def as_json(self) -> dict[str, Any]:
        """Return the counts, the event ids and each failure with its session and error."""
        return {
            "aggregated": len(self.results),
            "rejected": len(self.failures),
            "events": self.event_ids,
            "new_events": self.new_event_count,
            "failures": [
                {
                    "session_id": failure.session_id,
                    "user_id": failure.user_id,
                    "error": str(failure.error),
                }
                for failure in self.failures
            ],
        }


def aggregate_every_session(
    engine: Engine,
    *,
    registry: DepartmentRegistry,
    time_zone: str,
    user_id: int | None = None,
) -> AggregationRun:
    """Aggregate every session, or every session of one user, oldest first.

    Each session runs in its own transaction: it is committed when the aggregation
    succeeds and rolled back when it raises a :class:`MedrecordError`, which is recorded
    and does not stop the run. Database errors stop the run.
    """
    run = AggregationRun()

    with DatabaseSession(engine) as database:
        statement = select(ChatSession.user_id, ChatSession.id).order_by(
            ChatSession.created_at, ChatSession.id
        )
        if user_id is not None:
            statement = statement.where(ChatSession.user_id == user_id)
        targets = database.execute(statement).all()
        # End the reading transaction, which holds SQLite's write lock (BEGIN IMMEDIATE).
        database.rollback()

        for owner, session_id in targets:
            try:
                result = aggregate(
                    session=database,
                    registry=registry,
                    user_id=owner,
                    session_id=session_id,
                    time_zone=time_zone,
                )
                database.commit()
            except MedrecordError as error:
                database.rollback()
                logger.info(
                    "session %s of user %s was not aggregated: %s",
                    session_id,
                    owner,
                    type(error).__name__,
                )
                run.failures.append(AggregationFailure(session_id, owner, error))
                continue
            run.results.append(result)

    logger.info(
        "aggregated %d session(s) into %d event(s), %d failure(s)",
        len(run.results),
        len(run.event_ids),
        len(run.failures),
    )
    return run


def aggregate_command(
    ctx: typer.Context,
    user: Annotated[
        int | None,
        typer.Option(
            "--user",
            metavar="ID",
            help="Owner of the session; with --all, only this user's sessions.",
        ),
    ] = None,
    session_id: Annotated[
        str | None, typer.Option("--session", metavar="ID", help="Id of the session to aggregate.")
    ] = None,
    department_hint: Annotated[
        str | None,
        typer.Option(
            "--type",
            metavar="HINT",
            help="Department code or alias the caller expects; a different department is an error.",
        ),
    ] = None,
    every_session: Annotated[
        bool, typer.Option("--all", help="Aggregate every session, each in its own transaction.")
    ] = False,
    locale: Annotated[
        Locale, typer.Option("--locale", help="Language of the response message.")
    ] = Locale.ZH_CN,
    as_json: Annotated[
        bool, typer.Option("--json", help="With --all, print the report as JSON.")
    ] = False,
    db: DatabaseOption = None,
    tz: TimeZoneOption = None,
    verbose: VerboseOption = False,
) -> None:
    """Aggregate a session into its medical event and print the response as JSON.

    With --all, aggregate every session and report how many were aggregated and why
    the others were rejected. The exit status is 1 when any session was rejected.
    """
    if every_session and (session_id is not None or department_hint is not None):
        ctx.fail("--all aggregates every session; drop --session and --type")

    options = resolve_options(ctx, db=db, tz=tz, verbose=verbose)

    if every_session:
        _aggregate_all(options, user_id=user, as_json=as_json)
    elif user is not None and session_id is not None:
        _aggregate_one(
            options, user_id=user, session_id=session_id, hint=department_hint, locale=locale
        )
    else:
        ctx.fail("pass --user and --session to aggregate one session, or --all for every session")


def _aggregate_one(
    options: CommonOptions, *, user_id: int, session_id: str, hint: str | None, locale: Locale
) -> None:
    registry = load_registry()

    with open_engine(options.database_url) as engine, DatabaseSession(engine) as database:
        result = aggregate(
            session=database,
            registry=registry,
            user_id=user_id,
            session_id=session_id,
            department_hint=hint,
            time_zone=options.time_zone,
        )
        database.commit()

    print_json(result.as_response(locale.value))


def _aggregate_all(options: CommonOptions, *, user_id: int | None, as_json: bool) -> None:
    registry = load_registry()

    with open_engine(options.database_url) as engine:
        run = aggregate_every_session(
            engine, registry=registry, time_zone=options.time_zone, user_id=user_id
        )

    print_aggregation_run(run, as_json=as_json)
    if run.failures:
        raise typer.Exit(1)


def print_aggregation_run(run: AggregationRun, *, as_json: bool) -> None:
    """Print the counts of a run on standard output and each rejected session on standard error."""
    if as_json:
        print_json(run.as_json())
        return

    for failure in run.failures:
        typer.echo(
            f"session {failure.session_id!r} of user {failure.user_id}: rejected: {failure.error}",
            err=True,
        )

    typer.echo(
        f"aggregated {len(run.results)} session(s) into {len(run.event_ids)} event(s) "
        f"({run.new_event_count} new), rejected {len(run.failures)} session(s)"
    )
