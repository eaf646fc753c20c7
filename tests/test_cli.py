"""Tests for the ``medrecord`` command line, on SQLite and PostgreSQL where it uses a database."""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import importlib.resources
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy
from sqlalchemy import func, inspect, select
from sqlalchemy.engine import URL, Engine
from sqlalchemy.orm import Session as DatabaseSession
from sqlalchemy.pool import NullPool
from typer.testing import CliRunner, Result

from medrecord import ChatSession, DepartmentRegistry, MedicalEvent, Message, create_engine
from medrecord.cli import app
from medrecord.cli.options import DATABASE_URL_ENV, TIME_ZONE_ENV
from medrecord.departments import ENTRY_POINT_GROUP
from medrecord.schema import VERSION_TABLE, current_revision, upgrade_schema

PRD_DEPARTMENTS = {
    "dermatology",
    "cardiology",
    "orthopedics",
    "general",
    "neurology",
    "endocrinology",
    "gastroenterology",
    "respiratory",
}

runner = CliRunner()


@pytest.fixture(autouse=True)
def _clear_option_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the developer's own database and time zone settings out of the tests."""
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    monkeypatch.delenv(TIME_ZONE_ENV, raising=False)


def invoke(*args: str, input: str | None = None) -> Result:
    """Run the command line in this process; re-raise an exception it did not handle itself."""
    result = runner.invoke(app, list(args), input=input)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def demo_records() -> list[dict[str, Any]]:
    """Return the sessions of the conversations bundled for the demo."""
    text = (
        importlib.resources.files("medrecord.demo")
        .joinpath("conversations.jsonl")
        .read_text("utf-8")
    )
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def write_lines(
    path: Path, records: list[dict[str, Any]], extra_lines: dict[int, str] | None = None
) -> Path:
    """Write records as JSON Lines, with raw lines inserted at 0-based positions."""
    lines = [json.dumps(record, ensure_ascii=False) for record in records]
    for position, raw in sorted((extra_lines or {}).items()):
        lines.insert(position, raw)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def without_user_messages(record: dict[str, Any], session_id: str) -> dict[str, Any]:
    """Return a copy of a session that has only the assistant's messages."""
    messages = [message for message in record["messages"] if message["sender"] == "assistant"]
    return {**record, "id": session_id, "messages": messages}


def expected_event_keys(
    records: list[dict[str, Any]], registry: DepartmentRegistry
) -> set[tuple[int, str, dt.date]]:
    """Return the (user, department, day in Asia/Shanghai) of each event the records should make."""
    zone = ZoneInfo("Asia/Shanghai")
    return {
        (
            record["user_id"],
            registry.resolve(record["agent_type"]).event_agent_type,
            dt.datetime.fromisoformat(record["created_at"]).astimezone(zone).date(),
        )
        for record in records
    }


def count(engine: Engine, model: type[ChatSession] | type[Message] | type[MedicalEvent]) -> int:
    with DatabaseSession(engine) as database:
        return int(database.scalar(select(func.count()).select_from(model)) or 0)


def stored_events(engine: Engine) -> list[MedicalEvent]:
    with DatabaseSession(engine) as database:
        return list(database.scalars(select(MedicalEvent).order_by(MedicalEvent.id)))


def session_ids_in_events(events: list[MedicalEvent]) -> list[str]:
    return [snapshot["session_id"] for event in events for snapshot in event.sessions or []]


@pytest.fixture
def empty_database_url(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[str]:
    """URL of a database without any table, on the test's backend."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return

    server_url: URL = request.getfixturevalue("postgresql_server_url")
    name = f"medrecord_cli_{uuid.uuid4().hex[:12]}"
    admin = sqlalchemy.create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield server_url.set(database=name).render_as_string(hide_password=False)
    finally:
        # DROP DATABASE ... WITH (FORCE) exists since PostgreSQL 13.
        force = " WITH (FORCE)" if admin.dialect.server_version_info >= (13,) else ""
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"{force}')
        admin.dispose()


@pytest.fixture
def imported_demo(database_url: str, tmp_path: Path) -> list[dict[str, Any]]:
    """Import the demo conversations into the test database and return them."""
    records = demo_records()
    result = invoke(
        "import", str(write_lines(tmp_path / "demo.jsonl", records)), "--db", database_url
    )
    assert result.exit_code == 0, result.output
    return records


# init


def test_init_twice_reports_revision(empty_database_url: str) -> None:
    first = invoke("init", "--db", empty_database_url)
    second = invoke("init", "--db", empty_database_url)

    engine = create_engine(empty_database_url)
    try:
        revision = current_revision(engine)
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()

    assert revision is not None
    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    assert f"schema revision {revision}" in first.stdout
    assert f"schema revision {revision}" in second.stdout
    assert {"sessions", "messages", "medical_events", VERSION_TABLE} <= tables


def test_init_adopts_existing_tables_only_when_asked(empty_database_url: str) -> None:
    # Production tables without medrecord's version table: the base revision, unstamped.
    engine = create_engine(empty_database_url)
    try:
        upgrade_schema(engine, revision="0001")
        with engine.begin() as connection:
            connection.exec_driver_sql(f"DROP TABLE {VERSION_TABLE}")
    finally:
        engine.dispose()

    rejected = invoke("init", "--db", empty_database_url)
    adopted = invoke("init", "--existing-tables", "--db", empty_database_url)

    assert rejected.exit_code == 1
    assert "--existing-tables" in rejected.stderr
    assert len(rejected.stderr.strip().splitlines()) == 1
    assert "Traceback" not in rejected.output
    assert adopted.exit_code == 0, adopted.output
    assert "schema revision" in adopted.stdout


# departments


def test_departments_json_lists_codes_and_names(installed_registry: DepartmentRegistry) -> None:
    result = invoke("departments", "--json")

    assert result.exit_code == 0, result.output
    listed = {item["code"]: item for item in json.loads(result.stdout)}
    assert set(listed) >= PRD_DEPARTMENTS
    for code in PRD_DEPARTMENTS:
        department = installed_registry.resolve(code)
        item = listed[code]
        assert item["event_agent_type"] == department.event_agent_type
        assert item["display_names"] == {
            "zh-CN": department.display_names["zh-CN"],
            "en": department.display_names["en"],
        }
        assert item["aliases"] == list(department.aliases)
        assert item["plugin"] == installed_registry.plugin_of(code)


def test_departments_table_shows_both_names() -> None:
    result = invoke("departments")

    assert result.exit_code == 0, result.output
    assert "dermatology" in result.stdout
    assert "皮肤科" in result.stdout
    assert "Dermatology" in result.stdout


def test_departments_reports_plugin_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    installed = importlib.metadata.entry_points

    def entry_points_with_broken_plugin(**selection: Any) -> Any:
        found = list(installed(**selection))
        if selection.get("group") == ENTRY_POINT_GROUP:
            found.append(
                importlib.metadata.EntryPoint(
                    name="broken_clinic", value="medrecord_no_such_module", group=ENTRY_POINT_GROUP
                )
            )
        return found

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points_with_broken_plugin)

    result = invoke("departments", "--json")

    assert result.exit_code == 0, result.output
    assert "broken_clinic" in result.stderr
    assert "medrecord_no_such_module" in result.stderr
    assert {item["code"] for item in json.loads(result.stdout)} >= PRD_DEPARTMENTS


# options


def test_invalid_time_zone_is_usage_error() -> None:
    result = invoke("departments", "--tz", "Mars/Olympus_Mons")

    assert result.exit_code == 2
    assert "Mars/Olympus_Mons" in result.stderr


def test_invalid_time_zone_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TIME_ZONE_ENV, "Nowhere/Town")

    result = invoke("departments", "--json")

    assert result.exit_code == 2
    assert "Nowhere/Town" in result.stderr
    assert TIME_ZONE_ENV in result.stderr


def test_options_before_and_after_command(
    imported_demo: list[dict[str, Any]], database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    invoke("aggregate", "--all", "--db", database_url)

    after = invoke("events", "--json", "--db", database_url)
    before = invoke("--db", database_url, "events", "--json")
    monkeypatch.setenv(DATABASE_URL_ENV, database_url)
    from_environment = invoke("events", "--json")

    assert after.exit_code == 0, after.output
    assert len(json.loads(after.stdout)) > 0
    assert json.loads(before.stdout) == json.loads(after.stdout)
    assert json.loads(from_environment.stdout) == json.loads(after.stdout)


def test_missing_tables_is_one_line_error(tmp_path: Path) -> None:
    result = invoke("events", "--db", f"sqlite:///{tmp_path / 'no-tables.db'}")

    assert result.exit_code == 1
    assert "medrecord init" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


# import


def test_import_with_bad_line_imports_the_rest(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    records = demo_records()[:3]
    path = write_lines(tmp_path / "sessions.jsonl", records, extra_lines={1: '{"id": "broken"'})

    result = invoke("import", str(path), "--db", database_url)

    assert result.exit_code == 1
    assert "line 2: rejected: invalid JSON" in result.stderr
    assert "imported 3 session(s)" in result.stdout
    assert "rejected 1 line(s)" in result.stdout
    assert count(engine, ChatSession) == 3
    assert count(engine, Message) == sum(len(record["messages"]) for record in records)


def test_import_twice_skips_existing(database_url: str, engine: Engine, tmp_path: Path) -> None:
    records = demo_records()[:2]
    path = write_lines(tmp_path / "sessions.jsonl", records)

    first = invoke("import", str(path), "--db", database_url)
    second = invoke("import", str(path), "--db", database_url)

    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    assert "skipped 2 existing session(s)" in second.stdout
    assert f"skipped session {records[0]['id']!r}" in second.stdout
    assert count(engine, ChatSession) == 2


def test_import_reads_standard_input(database_url: str, engine: Engine) -> None:
    records = demo_records()[:2]
    text = "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)

    result = invoke("import", "-", "--db", database_url, input=text)

    assert result.exit_code == 0, result.output
    assert "imported 2 session(s)" in result.stdout
    assert count(engine, ChatSession) == 2


def test_console_script_imports_from_pipe(database_url: str, engine: Engine) -> None:
    script = Path(sys.executable).with_name("medrecord")
    assert script.exists(), f"console script {script} is missing; run scripts/setup"
    records = demo_records()[:1]
    text = json.dumps(records[0], ensure_ascii=False) + "\n"
    environment = {key: value for key, value in os.environ.items() if key != DATABASE_URL_ENV}

    completed = subprocess.run(
        [str(script), "import", "-", "--db", database_url],
        input=text.encode("utf-8"),
        capture_output=True,
        env=environment,
        timeout=120,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr.decode()
    assert "imported 1 session(s)" in completed.stdout.decode()
    assert count(engine, ChatSession) == 1


def test_import_missing_file_is_usage_error(tmp_path: Path) -> None:
    result = invoke("import", str(tmp_path / "absent.jsonl"))

    assert result.exit_code == 2
    assert "absent.jsonl" in result.stderr


# aggregate


def test_aggregate_prints_response_fields(
    imported_demo: list[dict[str, Any]], database_url: str
) -> None:
    first, second = (record for record in imported_demo if record["user_id"] == 1001)

    created = invoke("aggregate", "--user", "1001", "--session", first["id"], "--db", database_url)
    merged = invoke(
        "aggregate",
        "--user",
        "1001",
        "--session",
        second["id"],
        "--type",
        "derma",
        "--db",
        database_url,
    )

    assert created.exit_code == 0, created.output
    assert merged.exit_code == 0, merged.output
    response = json.loads(created.stdout)
    assert set(response) == {"event_id", "message", "is_new_event", "session_summary"}
    assert response["is_new_event"] is True
    assert response["message"] == "会话已聚合到病历事件"
    summary = response["session_summary"]
    assert summary["chief_complaint"] == first["agent_state"]["chief_complaint"]
    assert summary["message_count"] == len(first["messages"])
    assert summary["has_images"] is True
    assert summary["risk_level"] == "low"
    assert set(summary["symptoms"]) == set(first["agent_state"]["symptoms"])

    second_response = json.loads(merged.stdout)
    assert second_response["event_id"] == response["event_id"]
    assert second_response["is_new_event"] is False


def test_aggregate_english_message(imported_demo: list[dict[str, Any]], database_url: str) -> None:
    record = imported_demo[0]

    result = invoke(
        "aggregate",
        "--user",
        str(record["user_id"]),
        "--session",
        record["id"],
        "--locale",
        "en",
        "--db",
        database_url,
    )

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["message"] == "The session was added to the medical event"


def _assert_one_line_error(result: Result, fragment: str) -> None:
    assert result.exit_code == 1
    assert fragment in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output
    assert result.stdout == ""


def test_aggregate_not_found(imported_demo: list[dict[str, Any]], database_url: str) -> None:
    record = imported_demo[0]

    missing = invoke(
        "aggregate", "--user", "1001", "--session", "no-such-session", "--db", database_url
    )
    other_user = invoke(
        "aggregate", "--user", "4242", "--session", record["id"], "--db", database_url
    )

    _assert_one_line_error(missing, "session 'no-such-session' not found for user 1001")
    _assert_one_line_error(other_user, f"session {record['id']!r} not found for user 4242")


def test_aggregate_department_conflict(
    imported_demo: list[dict[str, Any]], database_url: str
) -> None:
    record = next(record for record in imported_demo if record["agent_type"] == "dermatology")

    result = invoke(
        "aggregate",
        "--user",
        str(record["user_id"]),
        "--session",
        record["id"],
        "--type",
        "cardio",
        "--db",
        database_url,
    )

    _assert_one_line_error(
        result, "resolves to 'cardiology', but the session belongs to 'dermatology'"
    )


def test_aggregate_no_user_message(database_url: str, engine: Engine, tmp_path: Path) -> None:
    record = without_user_messages(demo_records()[0], "assistant-only")
    invoke("import", str(write_lines(tmp_path / "one.jsonl", [record])), "--db", database_url)

    result = invoke(
        "aggregate",
        "--user",
        str(record["user_id"]),
        "--session",
        "assistant-only",
        "--db",
        database_url,
    )

    _assert_one_line_error(result, "has no user message")
    assert count(engine, MedicalEvent) == 0


def test_aggregate_unknown_department(database_url: str, engine: Engine) -> None:
    started = dt.datetime(2026, 11, 20, 1, 0, tzinfo=dt.UTC)
    with DatabaseSession(engine) as database:
        database.add(
            ChatSession(
                id="dentist-1",
                user_id=7,
                agent_type="dentistry",
                created_at=started,
                updated_at=started,
            )
        )
        database.add(
            Message(session_id="dentist-1", sender="user", content="toothache", created_at=started)
        )
        database.commit()

    result = invoke("aggregate", "--user", "7", "--session", "dentist-1", "--db", database_url)

    _assert_one_line_error(result, "unknown department 'dentistry'")


def test_aggregate_needs_session_or_all() -> None:
    missing_session = invoke("aggregate", "--user", "1001")
    all_with_session = invoke("aggregate", "--all", "--session", "abc")

    assert missing_session.exit_code == 2
    assert "--session" in missing_session.stderr
    assert all_with_session.exit_code == 2


def test_aggregate_all_reports_counts(database_url: str, engine: Engine, tmp_path: Path) -> None:
    records = demo_records()
    broken = without_user_messages(records[0], "assistant-only")
    invoke(
        "import", str(write_lines(tmp_path / "all.jsonl", [*records, broken])), "--db", database_url
    )

    result = invoke("aggregate", "--all", "--db", database_url)

    assert result.exit_code == 1
    assert f"aggregated {len(records)} session(s)" in result.stdout
    assert "rejected 1 session(s)" in result.stdout
    assert "'assistant-only'" in result.stderr
    assert "has no user message" in result.stderr

    events = stored_events(engine)
    assert sorted(session_ids_in_events(events)) == sorted(record["id"] for record in records)


def test_aggregate_all_json(
    database_url: str, engine: Engine, tmp_path: Path, installed_registry: DepartmentRegistry
) -> None:
    records = demo_records()
    broken = without_user_messages(records[0], "assistant-only")
    invoke(
        "import", str(write_lines(tmp_path / "all.jsonl", [*records, broken])), "--db", database_url
    )

    first = invoke("aggregate", "--all", "--json", "--db", database_url)
    again = invoke("aggregate", "--all", "--json", "--db", database_url)

    report = json.loads(first.stdout)
    assert first.exit_code == 1
    assert report["aggregated"] == len(records)
    assert report["rejected"] == 1
    assert report["failures"][0]["session_id"] == "assistant-only"
    assert "has no user message" in report["failures"][0]["error"]
    assert len(report["events"]) == len(expected_event_keys(records, installed_registry))
    assert report["new_events"] == len(report["events"])

    repeated = json.loads(again.stdout)
    assert repeated["events"] == report["events"]
    assert repeated["new_events"] == 0
    assert count(engine, MedicalEvent) == len(report["events"])


def test_aggregate_all_of_one_user(imported_demo: list[dict[str, Any]], database_url: str) -> None:
    result = invoke("aggregate", "--all", "--user", "1001", "--json", "--db", database_url)

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["aggregated"] == sum(1 for record in imported_demo if record["user_id"] == 1001)
    assert len(report["events"]) == 1


# events


def test_events_json(
    imported_demo: list[dict[str, Any]], database_url: str, engine: Engine
) -> None:
    invoke("aggregate", "--all", "--db", database_url)

    everyone = invoke("events", "--json", "--db", database_url)
    one_user = invoke("events", "--user", "1001", "--json", "--db", database_url)

    assert everyone.exit_code == 0, everyone.output
    listed = json.loads(everyone.stdout)
    stored = {event.id: event for event in stored_events(engine)}
    assert sorted(item["id"] for item in listed) == sorted(stored)
    for item in listed:
        event = stored[item["id"]]
        assert item["user_id"] == event.user_id
        assert item["department"] == event.department
        assert event.event_date is not None
        assert item["event_date"] == event.event_date.isoformat()
        assert item["title"] == event.title
        assert item["session_count"] == event.session_count
        assert item["risk_level"] == event.risk_level
        assert item["attachment_count"] == event.attachment_count

    unassessed = [
        record["user_id"] for record in imported_demo if "risk_level" not in record["agent_state"]
    ]
    assert unassessed, "the demo data should have a session without a risk level"
    assert [item["risk_level"] for item in listed if item["user_id"] == unassessed[0]] == [None]

    own = json.loads(one_user.stdout)
    assert own
    assert {item["user_id"] for item in own} == {1001}


def test_events_table_shows_not_assessed(
    imported_demo: list[dict[str, Any]], database_url: str
) -> None:
    invoke("aggregate", "--all", "--db", database_url)

    result = invoke("events", "--db", database_url)

    assert result.exit_code == 0, result.output
    assert "未评估 / not assessed" in result.stdout
    assert "皮肤科" in result.stdout


# render


def test_render_to_file(
    imported_demo: list[dict[str, Any]], database_url: str, tmp_path: Path
) -> None:
    record = imported_demo[0]
    response = json.loads(
        invoke(
            "aggregate",
            "--user",
            str(record["user_id"]),
            "--session",
            record["id"],
            "--db",
            database_url,
        ).stdout
    )
    event_id = str(response["event_id"])
    html_path = tmp_path / "record.html"

    to_file = invoke(
        "render",
        event_id,
        "--format",
        "html",
        "--locale",
        "en",
        "-o",
        str(html_path),
        "--db",
        database_url,
    )
    to_stdout = invoke("render", event_id, "--db", database_url)

    assert to_file.exit_code == 0, to_file.output
    assert str(html_path) in to_file.stdout
    html = html_path.read_text(encoding="utf-8")
    assert "<html" in html.lower()
    assert record["agent_state"]["chief_complaint"] in html
    assert to_stdout.exit_code == 0, to_stdout.output
    assert record["agent_state"]["chief_complaint"] in to_stdout.stdout
    assert "主诉" in to_stdout.stdout


def test_render_checks_owner(imported_demo: list[dict[str, Any]], database_url: str) -> None:
    record = imported_demo[0]
    response = json.loads(
        invoke(
            "aggregate",
            "--user",
            str(record["user_id"]),
            "--session",
            record["id"],
            "--db",
            database_url,
        ).stdout
    )
    event_id = response["event_id"]

    owner = invoke("render", str(event_id), "--user", str(record["user_id"]), "--db", database_url)
    stranger = invoke("render", str(event_id), "--user", "4242", "--db", database_url)
    missing = invoke("render", "99999", "--db", database_url)

    assert owner.exit_code == 0, owner.output
    _assert_one_line_error(stranger, f"medical event {event_id} not found for user 4242")
    _assert_one_line_error(missing, "medical event 99999 not found")


def test_render_unwritable_file(
    imported_demo: list[dict[str, Any]], database_url: str, tmp_path: Path
) -> None:
    record = imported_demo[0]
    response = json.loads(
        invoke(
            "aggregate",
            "--user",
            str(record["user_id"]),
            "--session",
            record["id"],
            "--db",
            database_url,
        ).stdout
    )

    result = invoke(
        "render",
        str(response["event_id"]),
        "-o",
        str(tmp_path / "missing" / "x.md"),
        "--db",
        database_url,
    )

    assert result.exit_code == 1
    assert "cannot write" in result.stderr


# demo


def _check_demo_output(
    result: Result, out: Path, engine: Engine, registry: DepartmentRegistry
) -> list[MedicalEvent]:
    records = demo_records()
    events = stored_events(engine)

    assert result.exit_code == 0, result.output
    assert len(events) == len(expected_event_keys(records, registry))
    assert sorted(session_ids_in_events(events)) == sorted(record["id"] for record in records)
    assert sum(event.session_count for event in events) == len(records)

    record_files = sorted(path.name for path in out.iterdir() if path.suffix in (".md", ".html"))
    assert len(record_files) == 4 * len(events)
    for event in events:
        code = registry.resolve(next(iter(event.sessions or []))["session_type"]).code
        for name in ("zh-CN.md", "zh-CN.html", "en.md", "en.html"):
            assert f"event-{event.id}-{code}.{name}" in record_files
        markdown = (out / f"event-{event.id}-{code}.zh-CN.md").read_text(encoding="utf-8")
        assert event.chief_complaint is not None
        assert event.chief_complaint in markdown

    assert "medrecord demo: medical events" in result.stdout
    for event in events:
        assert event.department in result.stdout
        assert event.chief_complaint in result.stdout
    assert "未评估 / not assessed" in result.stdout
    assert f"wrote {4 * len(events)} record file(s)" in result.stdout
    return events


def test_demo_writes_records_on_sqlite_default(
    tmp_path: Path, installed_registry: DepartmentRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "demo"
    # The demo must not use a configured database unless --db names it.
    configured = tmp_path / "configured.db"
    monkeypatch.setenv(DATABASE_URL_ENV, f"sqlite:///{configured}")

    first = invoke("demo", "--out", str(out))
    second = invoke("demo", "--out", str(out))

    assert not configured.exists()
    engine = create_engine(f"sqlite:///{out / 'medrecord-demo.db'}")
    try:
        first_events = _check_demo_output(first, out, engine, installed_registry)
        second_events = _check_demo_output(second, out, engine, installed_registry)
    finally:
        engine.dispose()
    assert [event.id for event in second_events] == [event.id for event in first_events]


def test_demo_with_database_option(
    empty_database_url: str, tmp_path: Path, installed_registry: DepartmentRegistry
) -> None:
    out = tmp_path / "demo"

    result = invoke("demo", "--out", str(out), "--db", empty_database_url)

    assert not (out / "medrecord-demo.db").exists()
    engine = create_engine(empty_database_url)
    try:
        _check_demo_output(result, out, engine, installed_registry)
    finally:
        engine.dispose()
