"""Run the legacy migration in a child process that can kill itself at a chosen point.

The interruption tests start this script with the test interpreter. It migrates the
database whose URL is in the environment variable named by :data:`DATABASE_URL_ENV` and
prints one JSON line: the run's totals, and how many SQL statements and progress
callbacks it saw. With ``--kill-after-statement N`` it sends itself SIGKILL right after the
Nth statement that starts with ``--statement-prefix``, which can be inside a batch's
transaction before its commit. With ``--kill-after-progress N`` it does so after the Nth
progress callback, after a batch committed. With ``--wait-for-go`` it connects first,
prints ``ready`` and waits for a line on stdin, so that two processes can start together.

Statements the engine sends through the driver's own API (PostgreSQL ``COPY``) do not
pass SQLAlchemy's cursor events and are not counted.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from typing import Any

from sqlalchemy import event

from medrecord import create_engine, load_departments
from medrecord.legacy import MigrationProgress, migrate_legacy

DATABASE_URL_ENV = "MEDRECORD_CHILD_DATABASE_URL"
"""Environment variable with the database URL. The environment keeps the password out of
the process list."""


def parse_arguments(arguments: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--batch-size", type=int, required=True, help="legacy rows per batch")
    parser.add_argument("--legacy-time-zone", default="UTC", help="zone of naive legacy times")
    parser.add_argument(
        "--kill-after-statement",
        type=int,
        metavar="N",
        help="send SIGKILL to this process right after the Nth counted SQL statement",
    )
    parser.add_argument(
        "--statement-prefix",
        default="",
        help="count only SQL statements that start with this text (case-insensitive)",
    )
    parser.add_argument(
        "--kill-after-progress",
        type=int,
        metavar="N",
        help="send SIGKILL to this process after the Nth progress callback",
    )
    parser.add_argument(
        "--kill-after-copied-rows",
        type=int,
        metavar="N",
        help="send SIGKILL to this process while it writes the Nth row of a PostgreSQL COPY",
    )
    parser.add_argument(
        "--wait-for-go",
        action="store_true",
        help="connect, print 'ready', and start migrating after a line arrives on stdin",
    )
    return parser.parse_args(arguments)


def kill_self() -> None:
    """End this process at once, as a crash or an operator's kill -9 would."""
    os.kill(os.getpid(), signal.SIGKILL)


def kill_inside_copy(row_number: int, counts: dict[str, int]) -> None:
    """Make the Nth row written to any COPY of this process end it, mid-statement.

    COPY is not a cursor execution, so SQLAlchemy's statement events never see it.
    """
    import psycopg

    write_row = psycopg.Copy.write_row

    def counting_write_row(copy: psycopg.Copy, row: Any) -> None:
        counts["copied_rows"] += 1
        if counts["copied_rows"] == row_number:
            kill_self()
        write_row(copy, row)

    psycopg.Copy.write_row = counting_write_row  # type: ignore[method-assign, assignment]


def main(arguments: list[str]) -> int:
    options = parse_arguments(arguments)
    engine = create_engine(os.environ[DATABASE_URL_ENV])
    registry = load_departments()
    prefix = options.statement_prefix.strip().upper()
    counts = {"statements": 0, "progress_calls": 0, "copied_rows": 0}

    def count_statement(*event_arguments: Any) -> None:
        statement = str(event_arguments[2])
        if not statement.lstrip().upper().startswith(prefix):
            return
        counts["statements"] += 1
        if counts["statements"] == options.kill_after_statement:
            kill_self()

    def count_progress(_progress: MigrationProgress) -> None:
        counts["progress_calls"] += 1
        if counts["progress_calls"] == options.kill_after_progress:
            kill_self()

    if options.kill_after_copied_rows is not None:
        kill_inside_copy(options.kill_after_copied_rows, counts)

    if options.wait_for_go:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
        print("ready", flush=True)
        sys.stdin.readline()

    event.listen(engine, "after_cursor_execute", count_statement)
    report = migrate_legacy(
        engine,
        registry=registry,
        batch_size=options.batch_size,
        legacy_time_zone=options.legacy_time_zone,
        progress=count_progress,
    )
    engine.dispose()

    # Counts only: the report's quarantine details may quote legacy values.
    print(json.dumps({**counts, "totals": report.to_dict()["totals"]}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
