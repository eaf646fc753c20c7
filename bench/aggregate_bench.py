"""Benchmark ``medrecord.aggregate`` against the PRD's aggregation code on the same data.

For SQLite and PostgreSQL, and for every combination of sessions per event and messages
per session, the script writes the sessions and messages of one user. It then measures,
for each implementation, the aggregation of the last session into an event that already
contains all the others. Each implementation fills its own event beforehand, the timed
rounds alternate between the implementations, and the script restores the filled event
before every round. The table gives the median time per aggregation (time.perf_counter,
over the repetitions), the SQL statements it ran (counted with a ``before_cursor_execute``
listener) and the size of the event's snapshot list afterwards. Both implementations
commit.

Run from the repository root::

    .venv/bin/python bench/aggregate_bench.py --postgresql-url postgresql+psycopg://postgres@127.0.0.1:55432/bench_aggregate

The PostgreSQL database should be one for benchmarks only: the script creates the tables,
adds rows for new user ids and deletes them again when it finishes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import prd_aggregate
import sqlalchemy
from medrecord_departments import dermatology
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, delete, event, func, insert, select
from sqlalchemy.orm import Session as DatabaseSession

import medrecord
from medrecord import Base, ChatSession, DepartmentRegistry, MedicalEvent, Message

POSTGRESQL_URL_ENV = "MEDRECORD_BENCH_POSTGRESQL_URL"

SESSIONS_PER_EVENT = (1, 10, 50)
MESSAGES_PER_SESSION = (10, 100, 1000)
QUICK_MESSAGES_PER_SESSION = (10, 100)
REPETITIONS = 7
QUICK_REPETITIONS = 3

DEPARTMENT_CODE = "dermatology"

AGENT_STATE: dict[str, Any] = {
    "stage": "completed",
    "progress": 100,
    "chief_complaint": "左前臂红疹伴瘙痒三天",
    "symptoms": ["红疹", "瘙痒"],
    "symptom_details": {"发热": {"status": "absent"}},
    "risk_level": "medium",
    "questions_asked": 6,
    "can_conclude": True,
    "skin_location": "左前臂",
    "possible_conditions": [{"name": "接触性皮炎", "probability": 0.6}],
}

Aggregation = Callable[[Engine, DepartmentRegistry, int, str], None]


@dataclass(frozen=True)
class Measurement:
    """The timed aggregations of one implementation in one configuration."""

    seconds: list[float]
    statements: list[int]
    problems: list[str]
    snapshot_bytes: int

    @property
    def median_milliseconds(self) -> float:
        """Median wall time of one aggregation, in milliseconds."""
        return statistics.median(self.seconds) * 1000

    def statement_label(self) -> str:
        """Format the statement count, or its range when the repetitions differ."""
        low, high = min(self.statements), max(self.statements)
        return str(low) if low == high else f"{low}-{high}"


@dataclass(frozen=True)
class Row:
    """One line of the result table."""

    backend: str
    sessions: int
    messages: int
    medrecord: Measurement
    prd: Measurement


class StatementCounter:
    """Counter of the statements an engine sends to the database."""

    def __init__(self, engine: Engine) -> None:
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._on_execute)

    def _on_execute(self, *_arguments: Any) -> None:
        self.count += 1


def parse_arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=(
            "Measure the time and the SQL statements of one aggregation with "
            "medrecord.aggregate and with the PRD's aggregation code, on SQLite and PostgreSQL."
        )
    )
    parser.add_argument(
        "--postgresql-url",
        default=os.environ.get(POSTGRESQL_URL_ENV),
        help=(
            "SQLAlchemy URL of a PostgreSQL database used for benchmarks only "
            f"(default: ${POSTGRESQL_URL_ENV}); PostgreSQL is skipped when neither is set"
        ),
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=(
            f"smaller run: {', '.join(map(str, QUICK_MESSAGES_PER_SESSION))} messages per session "
            f"and {QUICK_REPETITIONS} repetitions"
        ),
    )
    parser.add_argument(
        "--repetitions",
        type=int,
        help=f"timed aggregations per implementation and configuration (default: {REPETITIONS}, "
        f"or {QUICK_REPETITIONS} with --quick)",
    )
    parser.add_argument(
        "--image-message",
        action="store_true",
        help="make the second message of every session an image message (a user photo)",
    )
    parser.add_argument(
        "--no-prepared-statements",
        dest="prepared_statements",
        action="store_false",
        help="turn psycopg's server-side prepared statements off on PostgreSQL (on by default)",
    )
    parser.add_argument("--skip-sqlite", action="store_true", help="measure PostgreSQL only")
    arguments = parser.parse_args(argv)

    if arguments.repetitions is None:
        arguments.repetitions = QUICK_REPETITIONS if arguments.quick else REPETITIONS
    if arguments.repetitions < 1:
        parser.error(f"invalid --repetitions {arguments.repetitions}: use 1 or more")
    return arguments


def describe_machine(engines: dict[str, Engine], arguments: argparse.Namespace) -> list[str]:
    """Return the date, machine and software versions of the run, one per line."""
    lines = [
        f"date: {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}",
        f"platform: {platform.platform()}",
        f"CPU: {_cpu_model()}, {os.cpu_count()} logical CPUs, {_load_average()} at start",
        f"Python: {platform.python_version()}, SQLAlchemy {sqlalchemy.__version__}, "
        f"medrecord {medrecord.__version__}",
        f"SQLite: {sqlite3.sqlite_version}",
    ]
    if "postgresql" in engines:
        with engines["postgresql"].connect() as connection:
            version = connection.exec_driver_sql("SHOW server_version").scalar_one()
        prepared = "on" if arguments.prepared_statements else "off"
        lines.append(
            f"PostgreSQL: {version} (psycopg {_psycopg_version()}, prepared statements {prepared})"
        )
    else:
        lines.append("PostgreSQL: not measured")
    return lines


def _load_average() -> str:
    """Format the 1, 5 and 15 minute load averages: other jobs on the machine skew the times."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"


def _cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def _psycopg_version() -> str:
    import psycopg

    return psycopg.__version__


def create_postgresql_engine(url: str, *, prepared_statements: bool) -> Engine:
    """Create the PostgreSQL engine, with or without psycopg's server-side prepared statements.

    Turning preparation off applies to both implementations alike.
    """
    if prepared_statements:
        return medrecord.create_engine(url)
    return medrecord.create_engine(url, connect_args={"prepare_threshold": None})


def create_tables(engine: Engine) -> None:
    Base.metadata.create_all(engine)


def next_user_id(engine: Engine) -> int:
    """Return a user id above every user id in the tables, so earlier rows never interfere."""
    with engine.connect() as connection:
        sessions_max = connection.execute(select(func.max(ChatSession.user_id))).scalar()
        events_max = connection.execute(select(func.max(MedicalEvent.user_id))).scalar()
    return max(sessions_max or 0, events_max or 0, 1_000_000) + 1


def session_start(index: int) -> dt.datetime:
    """Return the start of the index-th session: noon UTC today, one second per session.

    Noon UTC is 20:00 in Asia/Shanghai on the same date, so medrecord's local day and the
    PRD code's UTC day file the sessions under one date.
    """
    noon = dt.datetime.combine(dt.datetime.now(dt.UTC).date(), dt.time(12), tzinfo=dt.UTC)
    return noon + dt.timedelta(seconds=index)


def write_sessions(
    engine: Engine, user_id: int, session_total: int, message_total: int, *, image_message: bool
) -> list[str]:
    """Write the sessions and messages of one user and return the session ids in start order."""
    session_ids = [str(uuid.uuid4()) for _ in range(session_total)]

    with DatabaseSession(engine) as database:
        for index, session_id in enumerate(session_ids):
            started = session_start(index)
            database.execute(
                insert(ChatSession),
                [
                    {
                        "id": session_id,
                        "user_id": user_id,
                        "agent_type": DEPARTMENT_CODE,
                        "agent_state": AGENT_STATE,
                        "last_message": "谢谢医生",
                        "status": "completed",
                        "created_at": started,
                        "updated_at": started,
                    }
                ],
            )
            database.execute(
                insert(Message),
                [
                    _message_values(session_id, started, position, image_message=image_message)
                    for position in range(1, message_total + 1)
                ],
            )
        database.commit()

    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.exec_driver_sql("ANALYZE sessions, messages, medical_events")
    return session_ids


def _message_values(
    session_id: str, started: dt.datetime, position: int, *, image_message: bool
) -> dict[str, Any]:
    is_image = image_message and position == 2
    sender = "user" if position % 2 == 1 or is_image else "assistant"
    if is_image:
        content = "[图片]"
    elif sender == "user":
        content = f"第{position}条：手臂上的红疹还是很痒，晚上尤其明显，抹了药膏也没有好转。"
    else:
        content = f"第{position}条：请问红疹出现前是否接触过新的洗涤用品、植物或者首饰？"
    return {
        "session_id": session_id,
        "sender": sender,
        "content": content,
        "message_type": "image" if is_image else "text",
        "attachments": [{"type": "image", "url": "https://example.invalid/arm.jpg"}]
        if is_image
        else None,
        "created_at": started + dt.timedelta(seconds=position),
    }


def aggregate_with_medrecord(
    engine: Engine, registry: DepartmentRegistry, user_id: int, session_id: str
) -> None:
    with DatabaseSession(engine) as database:
        medrecord.aggregate(
            session=database,
            registry=registry,
            user_id=user_id,
            session_id=session_id,
            department_hint=DEPARTMENT_CODE,
        )
        database.commit()


def aggregate_with_prd(
    engine: Engine, _registry: DepartmentRegistry, user_id: int, session_id: str
) -> None:
    with DatabaseSession(engine) as database:
        prd_aggregate.aggregate_session(
            db=database, user_id=user_id, session_id=session_id, session_type=DEPARTMENT_CODE
        )


def read_events(engine: Engine, user_id: int) -> list[dict[str, Any]]:
    table = MedicalEvent.__table__
    with engine.connect() as connection:
        rows = connection.execute(select(table).where(table.c.user_id == user_id)).mappings().all()
    return [dict(row) for row in rows]


def restore_events(engine: Engine, user_id: int, events: list[dict[str, Any]]) -> None:
    """Replace the user's events with the given rows, ids included."""
    with engine.begin() as connection:
        connection.execute(delete(MedicalEvent).where(MedicalEvent.user_id == user_id))
        if events:
            connection.execute(insert(MedicalEvent), events)


def check_events(events: list[dict[str, Any]], user_id: int, session_ids: list[str]) -> list[str]:
    """Return how the user's events differ from one event containing exactly the given sessions."""
    if len(events) != 1:
        return [f"expected 1 event for user {user_id}, found {len(events)}"]

    found = events[0]
    event_id, expected = found["id"], len(session_ids)
    stored_ids = [snapshot.get("session_id") for snapshot in found["sessions"] or []]
    problems = []
    if sorted(stored_ids) != sorted(session_ids):
        problems.append(
            f"event {event_id} contains {len(stored_ids)} snapshots, expected {expected}"
        )
    if found["session_count"] != expected:
        problems.append(
            f"event {event_id} has session_count {found['session_count']}, expected {expected}"
        )
    return problems


def snapshot_size(events: list[dict[str, Any]]) -> int:
    """Return the size in bytes of the snapshot lists, serialized as SQLAlchemy does by default.

    The default serializer is ``json.dumps`` with ``ensure_ascii``, so each Chinese
    character takes six bytes (``\\uXXXX``).
    """
    return sum(len(json.dumps(found["sessions"] or [])) for found in events)


IMPLEMENTATIONS: dict[str, Aggregation] = {
    "medrecord": aggregate_with_medrecord,
    "prd": aggregate_with_prd,
}


def fill_event(
    engine: Engine,
    registry: DepartmentRegistry,
    aggregation: Aggregation,
    *,
    user_id: int,
    session_ids: list[str],
) -> list[dict[str, Any]]:
    """Aggregate all sessions but the last with one implementation and return the event rows."""
    restore_events(engine, user_id, [])
    for session_id in session_ids[:-1]:
        aggregation(engine, registry, user_id, session_id)

    filled = read_events(engine, user_id)
    restore_events(engine, user_id, [])
    return filled


def measure(
    engine: Engine,
    registry: DepartmentRegistry,
    counter: StatementCounter,
    *,
    user_id: int,
    session_ids: list[str],
    repetitions: int,
) -> dict[str, Measurement]:
    """Time the aggregation of the last session into an event that contains all the others.

    Each implementation fills its own event first. The timed rounds then alternate between
    the implementations, and which one goes first, so load from other jobs on the machine
    falls on both alike. Before each round the script restores that implementation's
    filled event.
    """
    filled = {
        name: fill_event(engine, registry, aggregation, user_id=user_id, session_ids=session_ids)
        for name, aggregation in IMPLEMENTATIONS.items()
    }
    seconds: dict[str, list[float]] = {name: [] for name in IMPLEMENTATIONS}
    statements: dict[str, list[int]] = {name: [] for name in IMPLEMENTATIONS}
    problems: dict[str, list[str]] = {name: [] for name in IMPLEMENTATIONS}
    snapshot_bytes = dict.fromkeys(IMPLEMENTATIONS, 0)

    # The first round warms caches and is not recorded.
    for round_number in range(repetitions + 1):
        names = list(IMPLEMENTATIONS)
        if round_number % 2:
            names.reverse()

        for name in names:
            restore_events(engine, user_id, filled[name])

            counter.count = 0
            started = time.perf_counter()
            IMPLEMENTATIONS[name](engine, registry, user_id, session_ids[-1])
            elapsed = time.perf_counter() - started
            statement_total = counter.count

            events = read_events(engine, user_id)
            problems[name].extend(check_events(events, user_id, session_ids))
            snapshot_bytes[name] = snapshot_size(events)
            if round_number > 0:
                seconds[name].append(elapsed)
                statements[name].append(statement_total)

    restore_events(engine, user_id, [])
    return {
        name: Measurement(
            seconds=seconds[name],
            statements=statements[name],
            problems=sorted(set(problems[name])),
            snapshot_bytes=snapshot_bytes[name],
        )
        for name in IMPLEMENTATIONS
    }


def delete_user_rows(engine: Engine, user_ids: list[int]) -> None:
    with engine.begin() as connection:
        session_ids = select(ChatSession.id).where(ChatSession.user_id.in_(user_ids))
        connection.execute(delete(Message).where(Message.session_id.in_(session_ids)))
        connection.execute(delete(ChatSession).where(ChatSession.user_id.in_(user_ids)))
        connection.execute(delete(MedicalEvent).where(MedicalEvent.user_id.in_(user_ids)))


def run_backend(
    backend: str,
    engine: Engine,
    registry: DepartmentRegistry,
    arguments: argparse.Namespace,
    message_totals: Sequence[int],
) -> list[Row]:
    create_tables(engine)
    counter = StatementCounter(engine)
    user_ids: list[int] = []
    rows: list[Row] = []

    try:
        for session_total in SESSIONS_PER_EVENT:
            for message_total in message_totals:
                print(
                    f"{backend}: {session_total} sessions per event, "
                    f"{message_total} messages per session",
                    file=sys.stderr,
                )
                user_id = next_user_id(engine)
                user_ids.append(user_id)
                session_ids = write_sessions(
                    engine,
                    user_id,
                    session_total,
                    message_total,
                    image_message=arguments.image_message,
                )

                results = measure(
                    engine,
                    registry,
                    counter,
                    user_id=user_id,
                    session_ids=session_ids,
                    repetitions=arguments.repetitions,
                )
                rows.append(
                    Row(backend, session_total, message_total, results["medrecord"], results["prd"])
                )
    finally:
        delete_user_rows(engine, user_ids)
    return rows


def render_table(rows: list[Row], repetitions: int) -> Table:
    table = Table(title=f"One aggregation, median of {repetitions} repetitions")
    table.add_column("backend")
    table.add_column("sessions/event", justify="right")
    table.add_column("messages/session", justify="right")
    table.add_column("medrecord ms", justify="right")
    table.add_column("PRD ms", justify="right")
    table.add_column("PRD/medrecord", justify="right")
    table.add_column("medrecord stmts", justify="right")
    table.add_column("PRD stmts", justify="right")
    table.add_column("medrecord KB", justify="right")
    table.add_column("PRD KB", justify="right")

    for row in rows:
        medrecord_ms = row.medrecord.median_milliseconds
        prd_ms = row.prd.median_milliseconds
        table.add_row(
            row.backend,
            str(row.sessions),
            str(row.messages),
            f"{medrecord_ms:.2f}",
            f"{prd_ms:.2f}",
            f"{prd_ms / medrecord_ms:.2f}",
            row.medrecord.statement_label(),
            row.prd.statement_label(),
            f"{row.medrecord.snapshot_bytes / 1024:.0f}",
            f"{row.prd.snapshot_bytes / 1024:.0f}",
        )
    return table


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    message_totals = QUICK_MESSAGES_PER_SESSION if arguments.quick else MESSAGES_PER_SESSION
    registry = medrecord.load_departments(
        plugins=[(DEPARTMENT_CODE, dermatology)], entry_points=False
    )
    console = Console(width=None if sys.stdout.isatty() else 150)

    with tempfile.TemporaryDirectory(prefix="medrecord-bench-") as directory:
        engines = {"sqlite": medrecord.create_engine(f"sqlite:///{Path(directory) / 'bench.db'}")}
        if arguments.skip_sqlite:
            engines.pop("sqlite").dispose()
        if arguments.postgresql_url:
            engines["postgresql"] = create_postgresql_engine(
                arguments.postgresql_url, prepared_statements=arguments.prepared_statements
            )

        if not engines:
            print(
                "nothing to measure: --skip-sqlite was given without --postgresql-url "
                f"or ${POSTGRESQL_URL_ENV}",
                file=sys.stderr,
            )
            return 2

        rows: list[Row] = []
        try:
            for line in describe_machine(engines, arguments):
                console.print(line, highlight=False)
            if "postgresql" not in engines:
                console.print(
                    f"PostgreSQL skipped: pass --postgresql-url or set {POSTGRESQL_URL_ENV}",
                    highlight=False,
                )

            for backend, engine in engines.items():
                rows.extend(run_backend(backend, engine, registry, arguments, message_totals))
        finally:
            for engine in engines.values():
                engine.dispose()

    console.print(render_table(rows, arguments.repetitions))
    console.print(f"{_load_average()} at end", highlight=False)

    for row in rows:
        for name, measurement in (("medrecord", row.medrecord), ("PRD", row.prd)):
            for problem in measurement.problems:
                configuration = f"{row.backend}, {row.sessions} sessions, {row.messages} messages"
                console.print(f"{configuration}, {name}: {problem}", highlight=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
