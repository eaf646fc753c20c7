"""Tests for the JSON Lines import of sessions and messages, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
from typing import Any

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session as DatabaseSession

from medrecord import ChatSession, DepartmentRegistry, Message
from medrecord.importing import ImportReport, import_sessions

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def session_record(session_id: str = "session-1", **overrides: Any) -> dict[str, Any]:
    """Return a valid import line as a dict: a dermatology session with three messages."""
    record: dict[str, Any] = {
        "id": session_id,
        "user_id": 1001,
        "doctor_id": None,
        "agent_type": "dermatology",
        "agent_state": {"chief_complaint": f"rash of {session_id}", "risk_level": "low"},
        "last_message": "please keep the area dry",
        "status": "completed",
        "created_at": "2026-11-20T07:40:00+08:00",
        "updated_at": "2026-11-20T07:45:00+08:00",
        "messages": [
            {
                "sender": "user",
                "content": f"itchy rash, {session_id}",
                "message_type": "text",
                "attachments": None,
                "metadata": None,
                "created_at": "2026-11-20T07:40:10+08:00",
            },
            {
                "sender": "user",
                "content": "photo",
                "message_type": "image",
                "attachments": [{"type": "image", "url": "https://example.invalid/rash.jpg"}],
                "metadata": {"client": "ios"},
                "created_at": "2026-11-20T07:41:00+08:00",
            },
            {
                "sender": "assistant",
                "content": "please keep the area dry",
                "message_type": "text",
                "attachments": None,
                "metadata": None,
                "created_at": "2026-11-20T07:41:00+08:00",
            },
        ],
    }
    record.update(overrides)
    return record


def line(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False)


def count(database: DatabaseSession, model: type[ChatSession] | type[Message]) -> int:
    return int(database.scalar(select(func.count()).select_from(model)) or 0)


def run_import(
    engine: Engine, registry: DepartmentRegistry, lines: list[str], **options: Any
) -> ImportReport:
    """Import lines in a new database session and commit, as the command line does."""
    with DatabaseSession(engine) as database:
        report = import_sessions(lines, session=database, registry=registry, **options)
        database.commit()
    return report


def test_import_writes_sessions_and_messages(engine: Engine, registry: DepartmentRegistry) -> None:
    report = run_import(
        engine, registry, [line(session_record("s-1")), line(session_record("s-2"))]
    )

    assert report.imported == 2
    assert report.imported_messages == 6
    assert report.skipped == 0
    assert report.rejected == 0

    with DatabaseSession(engine) as database:
        assert count(database, ChatSession) == 2
        assert count(database, Message) == 6

        stored = database.get(ChatSession, "s-1")
        assert stored is not None
        assert stored.user_id == 1001
        assert stored.doctor_id is None
        assert stored.status == "completed"
        assert stored.last_message == "please keep the area dry"
        assert stored.agent_state == {"chief_complaint": "rash of s-1", "risk_level": "low"}

        messages = database.scalars(
            select(Message)
            .where(Message.session_id == "s-1")
            .order_by(Message.created_at, Message.id)
        ).all()
        assert [message.sender for message in messages] == ["user", "user", "assistant"]
        assert [message.message_type for message in messages] == ["text", "image", "text"]
        assert messages[0].content == "itchy rash, s-1"
        assert messages[1].attachments == [
            {"type": "image", "url": "https://example.invalid/rash.jpg"}
        ]
        assert messages[1].message_metadata == {"client": "ios"}


def test_import_keeps_line_order_of_simultaneous_messages(
    engine: Engine, registry: DepartmentRegistry
) -> None:
    # The photo and the assistant's reply share one timestamp; the line order must decide.
    run_import(engine, registry, [line(session_record("s-1"))])

    with DatabaseSession(engine) as database:
        contents = database.scalars(
            select(Message.content).order_by(Message.created_at, Message.id)
        ).all()
    assert contents == ["itchy rash, s-1", "photo", "please keep the area dry"]


def test_import_stores_absent_json_as_null(engine: Engine, registry: DepartmentRegistry) -> None:
    record = session_record("s-1", agent_state=None)
    run_import(engine, registry, [line(record)])

    with DatabaseSession(engine) as database:
        null_states = database.scalar(
            text("SELECT count(*) FROM sessions WHERE agent_state IS NULL")
        )
        null_attachments = database.scalar(
            text("SELECT count(*) FROM messages WHERE attachments IS NULL")
        )
        null_metadata = database.scalar(
            text("SELECT count(*) FROM messages WHERE metadata IS NULL")
        )
    assert null_states == 1
    assert null_attachments == 2
    assert null_metadata == 2


def test_import_stores_aware_utc_times(engine: Engine, registry: DepartmentRegistry) -> None:
    record = session_record("s-1", created_at="2026-11-20T00:30:00+08:00")
    record["messages"][0]["created_at"] = "2026-11-19T16:30:05Z"
    run_import(engine, registry, [line(record)])

    with DatabaseSession(engine) as database:
        stored = database.get(ChatSession, "s-1")
        first_message = database.scalars(
            select(Message).order_by(Message.created_at, Message.id).limit(1)
        ).one()

    assert stored is not None
    assert stored.created_at == dt.datetime(2026, 11, 19, 16, 30, tzinfo=dt.UTC)
    assert stored.created_at.utcoffset() == dt.timedelta(0)
    assert stored.updated_at == dt.datetime(2026, 11, 20, 7, 45, tzinfo=SHANGHAI)
    assert stored.updated_at.utcoffset() == dt.timedelta(0)
    assert first_message.created_at == dt.datetime(2026, 11, 19, 16, 30, 5, tzinfo=dt.UTC)
    assert first_message.created_at.utcoffset() == dt.timedelta(0)


def test_import_stores_canonical_department_code(
    engine: Engine, registry: DepartmentRegistry
) -> None:
    run_import(
        engine,
        registry,
        [
            line(session_record("s-1", agent_type="derma")),
            line(session_record("s-2", agent_type="睡眠门诊")),
        ],
    )

    with DatabaseSession(engine) as database:
        codes = dict(database.execute(select(ChatSession.id, ChatSession.agent_type)).all())
    assert codes == {"s-1": "dermatology", "s-2": "sleep"}


def _without(record: dict[str, Any], key: str) -> dict[str, Any]:
    return {name: value for name, value in record.items() if name != key}


def _with_message(record: dict[str, Any], **changes: Any) -> dict[str, Any]:
    messages = [dict(message) for message in record["messages"]]
    messages[1].update(changes)
    return {**record, "messages": messages}


BAD_LINES = [
    pytest.param('{"id": "s-bad", "user_id": ', "invalid JSON", id="invalid-json"),
    pytest.param('["s-bad", 1001]', "expected a JSON object, got a JSON array", id="not-an-object"),
    pytest.param(
        line(_without(session_record("s-bad"), "user_id")),
        "missing field(s) 'user_id'",
        id="missing-user",
    ),
    pytest.param(
        line(_without(session_record("s-bad"), "messages")),
        "missing field(s) 'messages'",
        id="missing-messages",
    ),
    pytest.param(
        line(session_record("s-bad", user_id="1001")),
        "invalid field 'user_id'",
        id="user-id-string",
    ),
    pytest.param(
        line(session_record("s-bad", user_id=2**31)),
        "invalid field 'user_id'",
        id="user-id-too-large",
    ),
    pytest.param(
        line(session_record("s-bad", id="x" * 37)), "invalid field 'id'", id="id-too-long"
    ),
    pytest.param(
        line(session_record("s-bad", agent_state=["not", "an", "object"])),
        "invalid field 'agent_state'",
        id="state-not-object",
    ),
    pytest.param(
        line(session_record("s-bad", extra_column=1)),
        "unknown field(s) 'extra_column'",
        id="unknown-field",
    ),
    pytest.param(
        line(_with_message(session_record("s-bad"), sender="doctor")),
        "unknown sender 'doctor' in 'messages[1].sender'",
        id="unknown-sender",
    ),
    pytest.param(
        line(_with_message(session_record("s-bad"), message_type="video")),
        "unknown message type 'video' in 'messages[1].message_type'",
        id="unknown-message-type",
    ),
    pytest.param(
        line(_with_message(session_record("s-bad"), content=None)),
        "invalid field 'messages[1].content'",
        id="message-without-content",
    ),
    pytest.param(
        line(session_record("s-bad", agent_type="dentistry")),
        "unknown department 'dentistry'; registered departments: dermatology, sleep",
        id="unknown-department",
    ),
    pytest.param(
        line(session_record("s-bad", created_at="2026-11-20T07:40:00")),
        "'created_at': time '2026-11-20T07:40:00' has no UTC offset",
        id="time-without-offset",
    ),
    pytest.param(
        line(_with_message(session_record("s-bad"), created_at="2026-11-20")),
        "'messages[1].created_at': time '2026-11-20' has no UTC offset",
        id="message-date-without-time",
    ),
    pytest.param(
        line(session_record("s-bad", updated_at="yesterday")),
        "invalid ISO 8601 time 'yesterday'",
        id="time-not-iso",
    ),
    pytest.param(
        line(session_record("s-bad", created_at=1763595600)),
        "expected an ISO 8601 time as a string, got int",
        id="time-as-number",
    ),
    pytest.param(
        line(_with_message(session_record("s-bad"), content="a\x00b")),
        "NUL character",
        id="nul-character",
    ),
]


@pytest.mark.parametrize(("bad_line", "reason"), BAD_LINES)
def test_import_rejects_bad_line_with_number_and_reason(
    engine: Engine, registry: DepartmentRegistry, bad_line: str, reason: str
) -> None:
    lines = [line(session_record("s-1")), bad_line, line(session_record("s-3"))]

    report = run_import(engine, registry, lines)

    assert report.rejected == 1
    assert report.errors[0].line_number == 2
    assert reason in report.errors[0].reason
    assert str(report.errors[0]).startswith("line 2: ")
    assert report.imported == 2
    with DatabaseSession(engine) as database:
        ids = set(database.scalars(select(ChatSession.id)))
        assert ids == {"s-1", "s-3"}
        assert count(database, Message) == 6


def test_import_reason_limits_listed_errors(engine: Engine, registry: DepartmentRegistry) -> None:
    record = session_record("s-bad")
    record["messages"] = [
        {**message, "sender": "nurse", "message_type": "video"} for message in record["messages"]
    ]

    report = run_import(engine, registry, [line(record)])

    reason = report.errors[0].reason
    assert reason.count("unknown sender") + reason.count("unknown message type") == 3
    assert reason.endswith("and 3 more error(s)")


def test_import_reason_omits_message_text(engine: Engine, registry: DepartmentRegistry) -> None:
    record = _with_message(
        session_record("s-bad"), content=["private symptom text"], sender="nurse"
    )

    report = run_import(engine, registry, [line(record)])

    assert report.rejected == 1
    assert "private symptom text" not in report.errors[0].reason


def test_reimport_skips_existing_sessions(engine: Engine, registry: DepartmentRegistry) -> None:
    lines = [line(session_record("s-1")), line(session_record("s-2"))]
    run_import(engine, registry, lines)

    changed = session_record("s-2", status="active", last_message="changed")
    report = run_import(engine, registry, [lines[0], line(changed), line(session_record("s-3"))])

    assert report.imported == 1
    assert report.skipped == 2
    assert [(skipped.line_number, skipped.session_id) for skipped in report.skipped_sessions] == [
        (1, "s-1"),
        (2, "s-2"),
    ]
    with DatabaseSession(engine) as database:
        assert count(database, ChatSession) == 3
        assert count(database, Message) == 9
        unchanged = database.get(ChatSession, "s-2")
        assert unchanged is not None
        assert unchanged.status == "completed"
        assert unchanged.last_message == "please keep the area dry"


def test_import_skips_repeated_id_in_input(engine: Engine, registry: DepartmentRegistry) -> None:
    lines = [line(session_record("s-1")), line(session_record("s-2")), line(session_record("s-1"))]

    report = run_import(engine, registry, lines, batch_size=2)

    assert report.imported == 2
    assert [(skipped.line_number, skipped.session_id) for skipped in report.skipped_sessions] == [
        (3, "s-1")
    ]
    with DatabaseSession(engine) as database:
        assert count(database, Message) == 6


def test_import_repeated_id_in_one_batch(engine: Engine, registry: DepartmentRegistry) -> None:
    lines = [line(session_record("s-1")), line(session_record("s-1"))]

    report = run_import(engine, registry, lines)

    assert report.imported == 1
    assert report.skipped == 1
    with DatabaseSession(engine) as database:
        assert count(database, Message) == 3


def test_import_reads_text_stream_like_standard_input(
    engine: Engine, registry: DepartmentRegistry
) -> None:
    stream = io.StringIO(
        "\ufeff"
        + line(session_record("s-1"))
        + "\n\n   \n"
        + line(session_record("s-2"))
        + "\n{broken\n"
    )

    report = run_import(engine, registry, stream)  # type: ignore[arg-type]

    assert report.imported == 2
    assert report.rejected == 1
    assert report.errors[0].line_number == 5


def test_import_batches_statements(engine: Engine, registry: DepartmentRegistry) -> None:
    inserts: list[str] = []

    def record_insert(_connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT"):
            inserts.append(statement.split("(", 1)[0].strip())

    lines = [line(session_record(f"s-{number}")) for number in range(5)]
    batch_reports: list[int] = []
    event.listen(engine, "before_cursor_execute", record_insert)
    try:
        report = run_import(
            engine,
            registry,
            lines,
            batch_size=2,
            after_batch=lambda so_far: batch_reports.append(so_far.imported),
        )
    finally:
        event.remove(engine, "before_cursor_execute", record_insert)

    assert report.imported == 5
    assert report.imported_messages == 15
    assert batch_reports == [2, 4, 5]
    assert inserts == ["INSERT INTO sessions", "INSERT INTO messages"] * 3


def test_import_commits_finished_batches_before_failure(
    engine: Engine, registry: DepartmentRegistry
) -> None:
    lines = [line(session_record(f"s-{number}")) for number in range(4)]

    def fail_after_first_batch(report: ImportReport) -> None:
        database.commit()
        if report.imported >= 2:
            raise RuntimeError("stop after the first batch")

    with DatabaseSession(engine) as database, pytest.raises(RuntimeError):
        import_sessions(
            lines,
            session=database,
            registry=registry,
            batch_size=2,
            after_batch=fail_after_first_batch,
        )

    with DatabaseSession(engine) as fresh:
        assert count(fresh, ChatSession) == 2


def test_import_does_not_commit(engine: Engine, registry: DepartmentRegistry) -> None:
    with DatabaseSession(engine) as database:
        report = import_sessions([line(session_record("s-1"))], session=database, registry=registry)
        database.rollback()

    assert report.imported == 1
    with DatabaseSession(engine) as fresh:
        assert count(fresh, ChatSession) == 0


def test_import_rejects_invalid_batch_size(engine: Engine, registry: DepartmentRegistry) -> None:
    with DatabaseSession(engine) as database, pytest.raises(ValueError, match="batch size 0"):
        import_sessions([], session=database, registry=registry, batch_size=0)


def test_import_logs_counts_not_message_text(
    engine: Engine, registry: DepartmentRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    bad = line(_with_message(session_record("s-bad"), sender="nurse"))

    with caplog.at_level(logging.DEBUG, logger="medrecord"):
        run_import(engine, registry, [line(session_record("s-1")), bad])

    assert (
        "import wrote 1 session(s) with 3 message(s), skipped 0, rejected 1 line(s)" in caplog.text
    )
    assert "itchy rash" not in caplog.text
    assert "rash of s-1" not in caplog.text
    assert "keep the area dry" not in caplog.text


def test_truncated_line_reports_true_column(
    db: DatabaseSession, registry: DepartmentRegistry
) -> None:
    report = import_sessions(['{"id": "x"\n'], session=db, registry=registry)

    assert [error.line_number for error in report.errors] == [1]
    assert "column 11" in report.errors[0].reason
