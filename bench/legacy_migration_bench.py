"""Benchmark the legacy migration engine against the PRD's migration scripts and a raw insert.

For SQLite and PostgreSQL, the script writes legacy ``derma_sessions`` and
``diagnosis_sessions`` rows (see ``legacy_data.py``) into a template database, copies it
once per implementation, and migrates the copy into empty unified tables with:

- ``engine``: ``medrecord.legacy.migrate_legacy`` with its default batch size;
- ``prd``: the PRD's migration scripts 1, 2 and 3 (``prd_migration.py``), in the order of
  the PRD's execution plan;
- ``raw``: the floor, a bulk insert of the same session and message rows with no checks.
  The rows are mapped by the engine's mappers and serialised before the clock starts, one
  chunk at a time, and written with the driver's bulk path: ``executemany`` on SQLite and
  ``COPY`` on PostgreSQL, one transaction per chunk.

Every measurement runs in a fresh child process, which reports the wall time of the
migration (``time.perf_counter``) and its peak memory: the resident set size high-water
mark of the child (``VmHWM`` in ``/proc/self/status``), before the migration and after it.
Throughput is sessions and messages migrated per second of that wall time, and the ratios
compare the throughputs of one run. ``--memory-sessions`` adds engine-only runs at other
sizes to show whether the engine's peak memory depends on the table size.

Run from the repository root::

    .venv/bin/python bench/legacy_migration_bench.py --postgresql-url postgresql+psycopg://postgres@127.0.0.1:55432/

The PostgreSQL URL names a server and a role allowed to create databases: the script
creates its own databases named ``bench_legacy_<process id>_*`` and drops them when it
finishes. The database in the URL is only used to connect.
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import datetime as dt
import json
import os
import platform
import pstats
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import legacy_data
import prd_migration
import sqlalchemy
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, func, select, text

import medrecord
from medrecord.database import normalize_database_url
from medrecord.legacy import DEFAULT_BATCH_SIZE, MappedSession, legacy_mappers, migrate_legacy

POSTGRESQL_URL_ENV = "MEDRECORD_BENCH_POSTGRESQL_URL"

IMPLEMENTATIONS = ("engine", "prd", "raw")
LABELS = {"engine": "medrecord engine", "prd": "PRD scripts", "raw": "raw insert"}

TARGET_RATIO = 50
"""The engine's throughput must be at least this multiple of the PRD scripts'."""

FLAT_MEMORY_TOLERANCE = 0.10
"""Peak memory counts as flat when a larger run's peak exceeds the smallest by at most this."""

RAW_BATCH_SESSIONS = 5000
"""Sessions per transaction of the raw insert, which writes their messages in the same one."""

PRD_STEPS: tuple[tuple[str, Callable[[], None]], ...] = (
    ("derma sessions", prd_migration.migrate_derma_sessions),
    ("diagnosis sessions", prd_migration.migrate_diagnosis_sessions),
    ("derma messages", prd_migration.migrate_derma_messages),
    ("diagnosis messages", prd_migration.migrate_diagnosis_messages),
)

SESSION_COLUMNS = (
    "id",
    "user_id",
    "doctor_id",
    "agent_type",
    "agent_state",
    "last_message",
    "status",
    "created_at",
    "updated_at",
)
MESSAGE_COLUMNS = (
    "session_id",
    "sender",
    "content",
    "message_type",
    "attachments",
    "metadata",
    "created_at",
)


@dataclass
class Measurement:
    """One migration by one implementation, as the child process reported it."""

    backend: str
    implementation: str
    sessions: int
    messages: int
    seconds: float
    rss_before_kb: int
    peak_rss_kb: int
    steps: dict[str, float] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def sessions_per_second(self) -> float:
        """Legacy sessions migrated per second of wall time."""
        return self.sessions / self.seconds

    @property
    def messages_per_second(self) -> float:
        """Messages migrated per second of wall time."""
        return self.messages / self.seconds


def parse_arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=(
            "Measure the throughput and peak memory of medrecord's legacy migration engine, "
            "the PRD's migration scripts and a raw bulk insert, on SQLite and PostgreSQL."
        )
    )
    parser.add_argument(
        "--sessions",
        type=int,
        default=100_000,
        help="legacy sessions to migrate, 10 messages each, half per legacy table "
        "(default: 100000)",
    )
    parser.add_argument(
        "--prd-sessions",
        type=int,
        help="migrate a smaller legacy sample of this many sessions with the PRD scripts "
        "(default: --sessions); a smaller sample flatters the PRD scripts",
    )
    parser.add_argument(
        "--memory-sessions",
        type=int,
        nargs="*",
        default=[],
        metavar="N",
        help="also migrate N sessions with the engine alone, once per N, to compare its "
        "peak memory across sizes (for example 1000000)",
    )
    parser.add_argument(
        "--implementations",
        nargs="+",
        choices=IMPLEMENTATIONS,
        default=list(IMPLEMENTATIONS),
        help="implementations measured at --sessions (default: all three)",
    )
    parser.add_argument(
        "--prd-autoflush",
        action="store_true",
        help="run the PRD scripts with SQLAlchemy's default autoflush=True instead of the "
        "FastAPI tutorial's autoflush=False; each existence query then flushes the pending "
        "message first, which makes the scripts slower",
    )
    parser.add_argument(
        "--postgresql-url",
        default=os.environ.get(POSTGRESQL_URL_ENV),
        help="SQLAlchemy URL of a PostgreSQL server whose role may create databases "
        f"(default: ${POSTGRESQL_URL_ENV}); PostgreSQL is skipped when neither is set",
    )
    parser.add_argument("--skip-sqlite", action="store_true", help="measure PostgreSQL only")
    parser.add_argument(
        "--batch-size",
        type=int,
        default=DEFAULT_BATCH_SIZE,
        help=f"legacy rows per batch of the engine (default: {DEFAULT_BATCH_SIZE})",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=legacy_data.DEFAULT_SEED,
        help=f"seed of the legacy data generator (default: {legacy_data.DEFAULT_SEED})",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIRECTORY",
        help="profile every engine run with cProfile, write engine-<backend>-<sessions>.prof "
        "files into DIRECTORY and print the top functions to stderr; profiling slows the "
        "engine, so its figures are not comparable",
    )
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args(argv)

    if arguments.prd_sessions is None:
        arguments.prd_sessions = arguments.sessions
    for name in ("sessions", "prd_sessions", "batch_size"):
        if getattr(arguments, name) < 1:
            option = "--" + name.replace("_", "-")
            parser.error(f"invalid {option} {getattr(arguments, name)}: use 1 or more")
    if any(size < 1 for size in arguments.memory_sessions):
        parser.error("invalid --memory-sessions: every size must be 1 or more")
    return arguments


# The parent process: databases, child processes and the report.


class SqliteWorkspace:
    """SQLite database files in a temporary directory."""

    backend = "sqlite"

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def create(self, name: str) -> str:
        return f"sqlite:///{self.directory / f'{name}.db'}"

    def copy(self, source: str, target: str) -> str:
        shutil.copyfile(self.directory / f"{source}.db", self.directory / f"{target}.db")
        return self.create(target)

    def seal(self, name: str) -> None:
        """Move the write-ahead log into the database file, so that copying the file suffices."""
        connection = sqlite3.connect(self.directory / f"{name}.db")
        try:
            connection.execute("PRAGMA journal_mode = DELETE")
        finally:
            connection.close()

    def drop(self, name: str) -> None:
        for suffix in (".db", ".db-wal", ".db-shm"):
            (self.directory / f"{name}{suffix}").unlink(missing_ok=True)

    def close(self) -> None:
        """Nothing to do: the temporary directory goes away with its files."""


class PostgresWorkspace:
    """Databases created on a PostgreSQL server for this run, and dropped at the end."""

    backend = "postgresql"

    def __init__(self, url: str) -> None:
        self.url = normalize_database_url(url)
        self.admin = sqlalchemy.create_engine(self.url, isolation_level="AUTOCOMMIT")
        self.prefix = f"bench_legacy_{os.getpid()}"
        self.created: list[str] = []

    def _name(self, name: str) -> str:
        return f"{self.prefix}_{name}"

    def _url(self, database: str) -> str:
        return self.url.set(database=database).render_as_string(hide_password=False)

    def create(self, name: str) -> str:
        database = self._name(name)
        with self.admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{database}"')
        self.created.append(database)
        return self._url(database)

    def copy(self, source: str, target: str) -> str:
        database = self._name(target)
        with self.admin.connect() as connection:
            connection.exec_driver_sql(
                f'CREATE DATABASE "{database}" TEMPLATE "{self._name(source)}"'
            )
        self.created.append(database)
        return self._url(database)

    def seal(self, name: str) -> None:
        """Nothing to do: a database is complete once its writers disconnected."""

    def drop(self, name: str) -> None:
        database = self._name(name)
        with self.admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{database}"')
        if database in self.created:
            self.created.remove(database)

    def close(self) -> None:
        with self.admin.connect() as connection:
            for database in reversed(self.created):
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{database}"')
        self.created.clear()
        self.admin.dispose()

    def server_version(self) -> str:
        with self.admin.connect() as connection:
            return str(connection.exec_driver_sql("SHOW server_version").scalar_one())


Workspace = SqliteWorkspace | PostgresWorkspace


def describe_machine(workspaces: Sequence[Workspace]) -> list[str]:
    """Return the date, machine and software versions of the run, one per line."""
    lines = [
        f"date: {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}",
        f"platform: {platform.platform()}",
        f"CPU: {_cpu_model()}, {os.cpu_count()} logical CPUs, {_load_average()} at start",
        f"memory: {_memory_total()}",
        f"Python: {platform.python_version()}, SQLAlchemy {sqlalchemy.__version__}, "
        f"medrecord {medrecord.__version__}",
        f"SQLite: {sqlite3.sqlite_version}",
    ]
    postgres = [space for space in workspaces if isinstance(space, PostgresWorkspace)]
    if postgres:
        import psycopg

        lines.append(f"PostgreSQL: {postgres[0].server_version()} (psycopg {psycopg.__version__})")
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


def _memory_total() -> str:
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    return "unknown"


def _progress(message: str) -> None:
    print(f"[{dt.datetime.now().strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class BackendRun:
    """The measurements of one backend, with the legacy template databases they copy."""

    def __init__(self, workspace: Workspace, arguments: argparse.Namespace) -> None:
        self.workspace = workspace
        self.arguments = arguments
        self.templates: dict[int, str] = {}

    def template(self, sessions: int) -> str:
        """Return the name of a database with ``sessions`` legacy sessions, made once."""
        if sessions not in self.templates:
            name = f"legacy_{sessions}"
            url = self.workspace.create(name)
            engine = medrecord.create_engine(url)
            started = time.perf_counter()
            counts = legacy_data.fill_legacy_tables(
                engine, sessions, seed=self.arguments.seed, progress=self._report_rows
            )
            engine.dispose()
            self.workspace.seal(name)
            _progress(
                f"{self.workspace.backend}: {counts.sessions} legacy sessions with "
                f"{counts.messages} messages written in {time.perf_counter() - started:.1f} s"
            )
            self.templates[sessions] = name
        return self.templates[sessions]

    def _report_rows(self, table: str, written: int, total: int) -> None:
        if written == total or written % 100_000 == 0:
            _progress(
                f"{self.workspace.backend}: {table}: {written} of {total} legacy rows written"
            )

    def measure(self, implementation: str, sessions: int) -> Measurement:
        """Migrate a fresh copy of the template in a child process and drop the copy."""
        target = f"{implementation}_{sessions}"
        url = self.workspace.copy(self.template(sessions), target)
        create_unified_tables(url, implementation)
        _progress(f"{self.workspace.backend}: {LABELS[implementation]}, {sessions} sessions")
        profile = None
        if self.arguments.profile is not None and implementation == "engine":
            self.arguments.profile.mkdir(parents=True, exist_ok=True)
            profile = str(
                self.arguments.profile / f"engine-{self.workspace.backend}-{sessions}.prof"
            )
        job = {
            "backend": self.workspace.backend,
            "implementation": implementation,
            "url": url,
            "sessions": sessions,
            "batch_size": self.arguments.batch_size,
            "profile": profile,
            "prd_autoflush": self.arguments.prd_autoflush,
        }
        try:
            measurement = run_child(job)
        finally:
            self.workspace.drop(target)
        _progress(
            f"{self.workspace.backend}: {LABELS[implementation]}: {measurement.seconds:.1f} s, "
            f"{measurement.sessions_per_second:.0f} sessions/s, "
            f"peak RSS {measurement.peak_rss_kb / 1024:.0f} MB"
        )
        return measurement

    def run(self) -> list[Measurement]:
        arguments = self.arguments
        measurements: list[Measurement] = []
        for implementation in arguments.implementations:
            sessions = arguments.prd_sessions if implementation == "prd" else arguments.sessions
            measurements.append(self.measure(implementation, sessions))
            # The PRD sample is used only once, so drop it to free the space.
            if implementation == "prd" and sessions != arguments.sessions:
                self.workspace.drop(self.templates.pop(sessions))

        done = {
            measurement.sessions
            for measurement in measurements
            if measurement.implementation == "engine"
        }
        for sessions in arguments.memory_sessions:
            if sessions in done:
                continue
            measurements.append(self.measure("engine", sessions))
            done.add(sessions)
            self.workspace.drop(self.templates.pop(sessions))
        return measurements


def create_unified_tables(url: str, implementation: str) -> None:
    """Create the empty tables an implementation writes, before its child process starts.

    Doing this in the parent keeps Alembic's memory out of the child's peak.
    """
    engine = medrecord.create_engine(url)
    try:
        if implementation == "prd":
            prd_migration.PrdBase.metadata.create_all(engine)
        else:
            medrecord.upgrade_schema(engine)
    finally:
        engine.dispose()


def run_child(job: dict[str, Any]) -> Measurement:
    """Run one measurement in a fresh Python process and return what it reported.

    The job goes to the child on stdin, so that a password in the database URL does not
    appear in the process list.
    """
    completed = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--measure"],
        input=json.dumps(job),
        stdout=subprocess.PIPE,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(
            f"the {job['implementation']} measurement on {job['backend']} failed with exit "
            f"status {completed.returncode}; its error is printed above"
        )
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    return Measurement(**result)


def render_throughput(measurements: list[Measurement]) -> Table:
    table = Table(title="Legacy migration, 10 messages per session")
    for name in ("backend", "implementation"):
        table.add_column(name)
    for name in (
        "sessions",
        "seconds",
        "sessions/s",
        "messages/s",
        "RSS before MB",
        "peak RSS MB",
    ):
        table.add_column(name, justify="right")
    for item in measurements:
        table.add_row(
            item.backend,
            LABELS[item.implementation],
            str(item.sessions),
            f"{item.seconds:.1f}",
            f"{item.sessions_per_second:,.0f}",
            f"{item.messages_per_second:,.0f}",
            f"{item.rss_before_kb / 1024:.0f}",
            f"{item.peak_rss_kb / 1024:.0f}",
        )
    return table


def render_ratios(measurements: list[Measurement], arguments: argparse.Namespace) -> Table | None:
    """Tabulate engine/PRD and engine/raw throughput per backend, from the same run."""
    table = Table(title="Throughput ratios (sessions/s divided by sessions/s)")
    table.add_column("backend")
    table.add_column("engine/PRD", justify="right")
    table.add_column(f"target >= {TARGET_RATIO}")
    table.add_column("engine/raw", justify="right")
    table.add_column("raw/PRD", justify="right")
    rows = 0
    for backend in dict.fromkeys(item.backend for item in measurements):
        found = {
            item.implementation: item
            for item in measurements
            if item.backend == backend
            and item.sessions
            == (arguments.prd_sessions if item.implementation == "prd" else arguments.sessions)
        }
        engine, prd, raw = (found.get(name) for name in IMPLEMENTATIONS)
        if engine is None or (prd is None and raw is None):
            continue

        def ratio(first: Measurement | None, second: Measurement | None) -> str:
            if first is None or second is None:
                return "-"
            return f"{first.sessions_per_second / second.sessions_per_second:.2f}"

        verdict = "-"
        if prd is not None:
            met = engine.sessions_per_second >= TARGET_RATIO * prd.sessions_per_second
            verdict = "met" if met else "missed"
        table.add_row(backend, ratio(engine, prd), verdict, ratio(engine, raw), ratio(raw, prd))
        rows += 1
    return table if rows else None


def render_memory(measurements: list[Measurement]) -> Table | None:
    """Tabulate the engine's peak memory by size, against its smallest run per backend."""
    engine_runs = sorted(
        (item for item in measurements if item.implementation == "engine"),
        key=lambda item: (item.backend, item.sessions),
    )
    if not engine_runs:
        return None

    table = Table(title="Engine peak memory (RSS high-water mark of a fresh child process)")
    table.add_column("backend")
    for name in ("sessions", "RSS before MB", "peak RSS MB", "growth MB", "growth"):
        table.add_column(name, justify="right")
    table.add_column(f"flat (<= {FLAT_MEMORY_TOLERANCE:.0%})")
    smallest: dict[str, Measurement] = {}
    for item in engine_runs:
        base = smallest.setdefault(item.backend, item)
        growth = item.peak_rss_kb - base.peak_rss_kb
        share = growth / base.peak_rss_kb
        if item is base:
            flat = "-"
        elif share <= FLAT_MEMORY_TOLERANCE:
            flat = "yes"
        else:
            flat = "no"
        table.add_row(
            item.backend,
            str(item.sessions),
            f"{item.rss_before_kb / 1024:.0f}",
            f"{item.peak_rss_kb / 1024:.0f}",
            f"{growth / 1024:+.0f}",
            f"{share:+.1%}",
            flat,
        )
    return table


def report(
    console: Console, measurements: list[Measurement], arguments: argparse.Namespace
) -> None:
    console.print(render_throughput(measurements))
    ratios = render_ratios(measurements, arguments)
    if ratios is not None:
        console.print(ratios)
    memory = render_memory(measurements)
    if memory is not None:
        console.print(memory)

    for item in measurements:
        if item.steps:
            steps = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in item.steps.items())
            console.print(
                f"{item.backend}, {LABELS[item.implementation]}: {steps}", highlight=False
            )
    if "prd" in arguments.implementations and arguments.prd_sessions != arguments.sessions:
        console.print(
            f"The PRD scripts migrated a sample of {arguments.prd_sessions} sessions, the "
            f"others {arguments.sessions}. The sample flatters the PRD scripts, whose "
            "throughput falls as the tables grow: they load every legacy row at once and "
            "query tables that grow as they run.",
            highlight=False,
        )
    for item in measurements:
        for problem in item.problems:
            console.print(
                f"{item.backend}, {LABELS[item.implementation]}, {item.sessions} sessions: "
                f"{problem}",
                highlight=False,
            )


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    if arguments.measure:
        return measure_in_child()

    console = Console(width=None if sys.stdout.isatty() else 150)
    with tempfile.TemporaryDirectory(prefix="medrecord-legacy-bench-") as directory:
        workspaces: list[Workspace] = []
        if not arguments.skip_sqlite:
            workspaces.append(SqliteWorkspace(Path(directory)))
        if arguments.postgresql_url:
            workspaces.append(PostgresWorkspace(arguments.postgresql_url))
        if not workspaces:
            print(
                "nothing to measure: --skip-sqlite was given without --postgresql-url "
                f"or ${POSTGRESQL_URL_ENV}",
                file=sys.stderr,
            )
            return 2

        measurements: list[Measurement] = []
        try:
            for line in describe_machine(workspaces):
                console.print(line, highlight=False)
            console.print(
                f"command: {' '.join([Path(sys.argv[0]).name, *sys.argv[1:]])}", highlight=False
            )
            console.print(f"engine batch size: {arguments.batch_size} legacy rows", highlight=False)
            if not arguments.postgresql_url:
                console.print(
                    f"PostgreSQL skipped: pass --postgresql-url or set {POSTGRESQL_URL_ENV}",
                    highlight=False,
                )
            for workspace in workspaces:
                measurements.extend(BackendRun(workspace, arguments).run())
        finally:
            for workspace in workspaces:
                workspace.close()

    report(console, measurements, arguments)
    console.print(f"{_load_average()} at end", highlight=False)
    return 0


# The child process: one measurement.


def measure_in_child() -> int:
    """Run the job read from stdin and print its measurement as one JSON line."""
    job = json.loads(sys.stdin.read())
    implementation = job["implementation"]
    sessions = job["sessions"]
    engine = medrecord.create_engine(job["url"])
    registry = medrecord.load_departments()

    if implementation == "prd":
        prd_migration.bind(engine)
        prd_migration.SessionLocal.configure(autoflush=job["prd_autoflush"])

    rss_before = peak_rss_kb()
    profiler = cProfile.Profile() if job["profile"] else None
    problems: list[str] = []
    steps: dict[str, float] = {}

    if profiler is not None:
        profiler.enable()
    if implementation == "engine":
        started = time.perf_counter()
        result = migrate_legacy(engine, registry=registry, batch_size=job["batch_size"])
        seconds = time.perf_counter() - started
        if result.quarantined:
            problems.append(f"the engine quarantined {result.quarantined} row(s)")
    elif implementation == "prd":
        seconds = 0.0
        for name, step in PRD_STEPS:
            started = time.perf_counter()
            step()
            steps[name] = time.perf_counter() - started
            seconds += steps[name]
    else:
        seconds = insert_raw(engine, registry)
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(job["profile"])
        statistics = pstats.Stats(profiler, stream=sys.stderr)
        statistics.sort_stats("tottime").print_stats(25)

    peak = peak_rss_kb()
    problems.extend(check_counts(engine, sessions))
    engine.dispose()

    measurement = Measurement(
        backend=job["backend"],
        implementation=implementation,
        sessions=sessions,
        messages=sessions * legacy_data.MESSAGES_PER_SESSION,
        seconds=seconds,
        rss_before_kb=rss_before,
        peak_rss_kb=peak,
        steps=steps,
        problems=problems,
    )
    print(json.dumps(dataclasses.asdict(measurement)))
    return 0


def peak_rss_kb() -> int:
    """Return the resident set size high-water mark of this process, in KiB.

    Linux's ``VmHWM`` belongs to the program the process runs. ``ru_maxrss`` is not used:
    Linux carries it over from the parent through ``fork`` and ``exec``, so a child would
    report the parent's peak whenever that is higher.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    # NOTE: without /proc, ru_maxrss may include the parent's peak (see above), and macOS
    # counts it in bytes.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def check_counts(engine: Engine, sessions: int) -> list[str]:
    """Return how the unified tables differ from ``sessions`` sessions of 10 messages each."""
    expected = {"sessions": sessions, "messages": sessions * legacy_data.MESSAGES_PER_SESSION}
    problems = []
    with engine.connect() as connection:
        for table, count in expected.items():
            found = connection.scalar(select(func.count()).select_from(text(table)))
            if found != count:
                problems.append(f"{table} has {found} rows, expected {count}")
    return problems


def insert_raw(engine: Engine, registry: medrecord.DepartmentRegistry) -> float:
    """Write the mapped sessions and messages with the driver's bulk path; return the seconds.

    Only the writes and their commits are timed. Reading the legacy rows, mapping and
    serialising them happen chunk by chunk before the clock runs, so memory stays bounded.
    """
    dialect = engine.dialect.name
    seconds = 0.0
    for mapper in legacy_mappers(registry).values():
        department = registry.departments[mapper.department]
        table = mapper.table
        after_id: str | None = None
        while True:
            statement = select(table).order_by(table.c.id).limit(RAW_BATCH_SESSIONS)
            if after_id is not None:
                statement = statement.where(table.c.id > after_id)
            with engine.connect() as connection:
                rows = connection.execute(statement).mappings().all()
            if not rows:
                break
            after_id = rows[-1]["id"]

            mapped = [
                mapper.map_row(dict(row), department=department, legacy_time_zone=dt.UTC)
                for row in rows
            ]
            session_rows, message_rows = driver_rows(mapped, dialect)

            started = time.perf_counter()
            write_bulk(engine, session_rows, message_rows)
            seconds += time.perf_counter() - started
    return seconds


def _json_text(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _driver_time(value: dt.datetime, dialect: str) -> Any:
    """Return a time as medrecord stores it: naive UTC text on SQLite, aware on PostgreSQL."""
    utc = value.astimezone(dt.UTC)
    if dialect == "sqlite":
        return utc.replace(tzinfo=None).isoformat(" ", "microseconds")
    return utc


def driver_rows(
    sessions: list[MappedSession], dialect: str
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Serialise mapped sessions into the rows the driver writes, in column order."""
    session_rows = [
        (
            session.id,
            session.user_id,
            session.doctor_id,
            session.agent_type,
            _json_text(session.agent_state),
            session.last_message,
            session.status,
            _driver_time(session.created_at, dialect),
            _driver_time(session.updated_at, dialect),
        )
        for session in sessions
    ]
    message_rows = [
        (
            session.id,
            message.sender,
            message.content,
            message.message_type,
            _json_text(message.attachments),
            _json_text(message.metadata),
            _driver_time(message.created_at, dialect),
        )
        for session in sessions
        for message in session.messages
    ]
    return session_rows, message_rows


def write_bulk(
    engine: Engine, session_rows: list[tuple[Any, ...]], message_rows: list[tuple[Any, ...]]
) -> None:
    """Write sessions, then messages, in one transaction, without any check."""
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        if engine.dialect.name == "postgresql":
            for name, columns, rows in (
                ("sessions", SESSION_COLUMNS, session_rows),
                ("messages", MESSAGE_COLUMNS, message_rows),
            ):
                with cursor.copy(f"COPY {name} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
        else:
            # medrecord's SQLite engine leaves the driver in autocommit mode (SQLAlchemy
            # begins its transactions), so the transaction is begun here.
            cursor.execute("BEGIN")
            for name, columns, rows in (
                ("sessions", SESSION_COLUMNS, session_rows),
                ("messages", MESSAGE_COLUMNS, message_rows),
            ):
                placeholders = ", ".join("?" for _ in columns)
                cursor.executemany(
                    f"INSERT INTO {name} ({', '.join(columns)}) VALUES ({placeholders})", rows
                )
        cursor.close()
        connection.commit()
    finally:
        connection.close()


if __name__ == "__main__":
    sys.exit(main())
