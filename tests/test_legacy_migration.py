"""Tests for the legacy migration engine, on SQLite and PostgreSQL.

Each test creates the legacy tables on the test database, fills them with rows from
tests/legacy_factories.py, runs :func:`medrecord.legacy.migrate_legacy` and reads back what
it wrote. Expected values are computed here from the legacy rows, not by the mapper.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Column, String, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session as DatabaseSession

from medrecord import ChatSession, DepartmentRegistry, Message
from medrecord.errors import ConfigurationError
from medrecord.legacy import (
    MigrationProgress,
    MigrationReport,
    ProblemReason,
    migrate_legacy,
    verify_migration,
)
from medrecord.legacy.runs import LEDGER, QUARANTINE
from tests.legacy_factories import (
    DERMA_COLLECTING_ID,
    DERMA_EMPTY_CHAT_ID,
    DERMA_LONG_CHAT_ID,
    DERMA_NO_MESSAGES_ID,
    DERMA_PHOTO_ID,
    DERMA_TABLE,
    DIAGNOSIS_COMPLETED_ID,
    DIAGNOSIS_CONCLUDING_ID,
    DIAGNOSIS_LONG_CHAT_ID,
    DIAGNOSIS_TABLE,
    IMAGE_HOST,
    LEGACY_START,
    create_legacy_table_variant,
    create_legacy_tables,
    derma_row,
    diagnosis_row,
    drop_legacy_tables,
    insert_legacy_rows,
    legacy_id,
    legacy_message,
    make_json_column_text,
    realistic_derma_rows,
    realistic_diagnosis_rows,
    snapshot_legacy_table,
    unified_contents,
)

UTC = dt.UTC

# The message type each legacy task type becomes, per legacy table, as the plugins define it.
TASK_TYPES = {
    "derma_sessions": {
        None: "text",
        "text": "text",
        "chat": "text",
        "conversation": "text",
        "image": "image",
        "structured": "structured",
        "skin_analysis": "text",
        "report_interpretation": "text",
    },
    "diagnosis_sessions": {
        None: "text",
        "text": "text",
        "chat": "text",
        "conversation": "text",
        "image": "image",
        "structured": "structured",
    },
}


@pytest.fixture
def bare_engine(engine: Engine) -> Iterator[Engine]:
    """The test database without legacy tables; whatever legacy table a test creates is dropped."""
    drop_legacy_tables(engine)
    try:
        yield engine
    finally:
        drop_legacy_tables(engine)


@pytest.fixture
def legacy_engine(bare_engine: Engine) -> Engine:
    """The test database with empty ``derma_sessions`` and ``diagnosis_sessions`` tables."""
    create_legacy_tables(bare_engine)
    return bare_engine


@pytest.fixture
def realistic_engine(legacy_engine: Engine) -> Engine:
    """The test database with the realistic legacy rows of both tables."""
    insert_legacy_rows(legacy_engine, DERMA_TABLE, realistic_derma_rows())
    insert_legacy_rows(legacy_engine, DIAGNOSIS_TABLE, realistic_diagnosis_rows())
    return legacy_engine


# Expectations computed from legacy rows


def expected_time(value: dt.datetime | str, zone: dt.tzinfo) -> dt.datetime:
    """Return a legacy time as aware UTC, reading a time without an offset in ``zone``."""
    moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


def expected_messages(
    table: str, legacy_messages: list[dict[str, Any]] | None, zone: dt.tzinfo
) -> list[tuple[Any, ...]]:
    """Return (sender, content, message type, attachments, created_at) of each legacy message."""
    expected = []
    for message in legacy_messages or []:
        attachments = list(message.get("attachments") or [])
        attachments += [{"type": "image", "url": url} for url in message.get("images") or []]
        if message.get("image_url") is not None:
            attachments.append({"type": "image", "url": message["image_url"]})

        message_type = TASK_TYPES[table][message.get("task_type")]
        if attachments and message_type == "text":
            message_type = "image"

        expected.append(
            (
                message["role"].strip().lower(),
                message["content"] if message["content"] is not None else "",
                message_type,
                attachments or None,
                expected_time(message["timestamp"], zone),
            )
        )
    return expected


def stored_messages(engine: Engine, session_id: str) -> list[Message]:
    """Return a session's messages in conversation order."""
    with DatabaseSession(engine) as database:
        return list(
            database.scalars(
                select(Message)
                .where(Message.session_id == session_id)
                .order_by(Message.created_at, Message.id)
            )
        )


def stored_session(engine: Engine, session_id: str) -> ChatSession | None:
    with DatabaseSession(engine) as database:
        return database.get(ChatSession, session_id)


def message_fields(messages: list[Message]) -> list[tuple[Any, ...]]:
    return [
        (
            message.sender,
            message.content,
            message.message_type,
            message.attachments,
            message.created_at,
        )
        for message in messages
    ]


def comparable(report: MigrationReport) -> dict[str, Any]:
    """Return a report's counts and problems without what differs between runs."""
    data = report.to_dict()
    data.pop("dry_run")
    data.pop("run_id")
    return data


def migrate(engine: Engine, registry: DepartmentRegistry, **options: Any) -> MigrationReport:
    return migrate_legacy(engine, registry=registry, **options)


def quarantine_reasons(report: MigrationReport) -> dict[tuple[str, str], str]:
    return {(row.legacy_table, row.legacy_id): row.reason for row in report.quarantine}


def quarantine_table(engine: Engine) -> dict[tuple[str, str], str]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(QUARANTINE.c.legacy_table, QUARANTINE.c.legacy_id, QUARANTINE.c.reason)
        )
        return {(table, row_id): reason for table, row_id, reason in rows}


def ledger_ids(engine: Engine) -> set[tuple[str, str]]:
    with engine.connect() as connection:
        rows = connection.execute(select(LEDGER.c.legacy_table, LEDGER.c.legacy_id))
        return {(table, row_id) for table, row_id in rows}


# Realistic rows


def test_realistic_rows_migrate_and_verify(
    realistic_engine: Engine, installed_registry: DepartmentRegistry
) -> None:
    report = migrate(realistic_engine, installed_registry)
    verification = verify_migration(realistic_engine, registry=installed_registry)

    derma_rows = realistic_derma_rows()
    diagnosis_rows = realistic_diagnosis_rows()
    message_total = sum(len(row["messages"] or []) for row in derma_rows + diagnosis_rows)
    assert report.rows == len(derma_rows) + len(diagnosis_rows)
    assert report.migrated == report.rows
    assert report.migrated_messages == message_total
    assert report.quarantined == 0
    assert report.quarantine == []
    assert verification.passed, verification.mismatches
    assert verification.to_dict()["totals"]["verified"] == report.rows
    assert verification.to_dict()["totals"]["verified_messages"] == message_total

    contents = unified_contents(realistic_engine)
    assert len(contents["sessions"]) == report.rows
    assert len(contents["messages"]) == message_total
    assert len(contents["ledger"]) == report.rows
    assert contents["quarantine"] == []


@pytest.mark.parametrize("zone_name", ["UTC", "Asia/Shanghai"])
def test_sessions_equal_legacy_rows(
    realistic_engine: Engine, installed_registry: DepartmentRegistry, zone_name: str
) -> None:
    zone = ZoneInfo(zone_name)
    migrate(realistic_engine, installed_registry, legacy_time_zone=zone_name)

    sources = [
        ("derma_sessions", "dermatology", "current_response", realistic_derma_rows()),
        ("diagnosis_sessions", "general", "current_question", realistic_diagnosis_rows()),
    ]
    for table, department, last_message_column, rows in sources:
        for row in rows:
            session = stored_session(realistic_engine, row["id"])
            assert session is not None, row["id"]
            messages = expected_messages(table, row["messages"], zone)

            assert session.user_id == row["user_id"]
            assert session.agent_type == department
            assert session.doctor_id is None
            assert session.status == ("completed" if row["stage"] == "completed" else "active")
            assert session.last_message == row[last_message_column]
            assert session.created_at == expected_time(row["created_at"], zone)
            if row["updated_at"] is not None:
                assert session.updated_at == expected_time(row["updated_at"], zone)
            else:
                latest = max([session.created_at, *(message[-1] for message in messages)])
                assert session.updated_at == latest

            state = session.agent_state or {}
            assert state.get("stage") == row["stage"]
            assert state.get("chief_complaint") == row["chief_complaint"]
            assert state.get("progress") == row["progress"]


@pytest.mark.parametrize("zone_name", ["UTC", "Asia/Shanghai"])
def test_messages_equal_legacy_messages_in_order(
    realistic_engine: Engine, installed_registry: DepartmentRegistry, zone_name: str
) -> None:
    zone = ZoneInfo(zone_name)
    migrate(realistic_engine, installed_registry, legacy_time_zone=zone_name)

    sources = [
        ("derma_sessions", realistic_derma_rows()),
        ("diagnosis_sessions", realistic_diagnosis_rows()),
    ]
    for table, rows in sources:
        for row in rows:
            messages = stored_messages(realistic_engine, row["id"])
            assert message_fields(messages) == expected_messages(table, row["messages"], zone)
            task_types = [
                (message.message_metadata or {}).get("legacy", {}).get("task_type")
                for message in messages
            ]
            assert task_types == [message.get("task_type") for message in row["messages"] or []]


def test_long_chats_keep_every_message(
    realistic_engine: Engine, installed_registry: DepartmentRegistry
) -> None:
    migrate(realistic_engine, installed_registry)

    derma = stored_messages(realistic_engine, DERMA_LONG_CHAT_ID)
    diagnosis = stored_messages(realistic_engine, DIAGNOSIS_LONG_CHAT_ID)

    assert len(derma) == 360
    assert [message.content.split("：")[0] for message in derma] == [
        f"第{position}条" for position in range(360)
    ]
    assert [message.message_type for message in derma].count("image") == 12
    # Every message of this chat has the same time: the order comes from the legacy list.
    assert len(diagnosis) == 301
    assert [message.content.split("：")[0] for message in diagnosis] == [
        f"第{position}条" for position in range(301)
    ]


def test_photo_session_state_and_images(
    realistic_engine: Engine, installed_registry: DepartmentRegistry
) -> None:
    migrate(realistic_engine, installed_registry)

    session = stored_session(realistic_engine, DERMA_PHOTO_ID)
    assert session is not None
    state = session.agent_state or {}
    assert state["risk_level"] == "medium"
    assert state["symptoms"] == ["红疹", "瘙痒"]
    assert state["symptom_details"]["发热"] == {"status": "absent"}
    assert state["symptom_details"]["红疹"]["location"] == "左前臂"
    assert state["possible_conditions"] == [
        {"name": "接触性皮炎", "probability": 0.7},
        {"name": "湿疹", "probability": 0.2},
    ]
    assert state["skin_analyses"][0]["conditions"] == ["接触性皮炎", "湿疹"]
    assert state["latest_analysis"]["confidence"] == 0.82
    assert state["need_offline_visit"] is False
    assert state["care_advice"] == "停用新洗衣液，外用炉甘石洗剂，避免搔抓。"
    assert "latest_interpretation" not in state

    messages = stored_messages(realistic_engine, DERMA_PHOTO_ID)
    assert [message.message_type for message in messages] == [
        "text",
        "text",
        "text",
        "text",
        "image",
        "image",
        "text",
        "image",
        "text",
    ]
    assert messages[4].content == ""
    assert messages[4].attachments == [{"type": "image", "url": f"{IMAGE_HOST}/derma/arm-1.jpg"}]
    assert messages[5].attachments == [
        {"type": "image", "url": f"{IMAGE_HOST}/derma/arm-2.jpg"},
        {"type": "image", "url": f"{IMAGE_HOST}/derma/arm-3.jpg"},
    ]
    assert messages[7].content == ""
    assert messages[7].attachments == [
        {"type": "image", "url": f"{IMAGE_HOST}/derma/arm-4.jpg", "width": 1024}
    ]
    legacy = (messages[6].message_metadata or {}).get("legacy", {})
    assert legacy.get("task_type") == "skin_analysis"
    assert legacy.get("fields") == {"analysis_id": "analysis-0501-1"}


def test_diagnosis_state_normalized(
    realistic_engine: Engine, installed_registry: DepartmentRegistry
) -> None:
    migrate(realistic_engine, installed_registry)

    completed = stored_session(realistic_engine, DIAGNOSIS_COMPLETED_ID)
    concluding = stored_session(realistic_engine, DIAGNOSIS_CONCLUDING_ID)
    assert completed is not None
    assert concluding is not None

    assert completed.agent_state is not None
    assert completed.agent_state["risk_level"] == "medium"
    assert completed.agent_state["possible_diseases"] == [
        {"name": "上呼吸道感染", "probability": 0.7},
        {"name": "流行性感冒", "probability": 0.25},
    ]
    assert completed.agent_state["recommendations"]["tests"] == ["血常规"]
    assert completed.agent_state["can_conclude"] is True
    assert concluding.agent_state is not None
    assert concluding.agent_state["possible_diseases"] == [
        {"name": "急性胃肠炎"},
        {"name": "食物中毒"},
    ]
    assert concluding.agent_state["recommendations"] == {"advice": "清淡饮食，注意补液。"}
    assert concluding.agent_state["risk_level"] == "low"
    # A blank legacy value is "not stated", so it is absent rather than stored empty.
    assert "reasoning" not in concluding.agent_state


def test_sessions_without_messages_migrate(
    realistic_engine: Engine, installed_registry: DepartmentRegistry
) -> None:
    migrate(realistic_engine, installed_registry)

    for session_id in (DERMA_EMPTY_CHAT_ID, DERMA_NO_MESSAGES_ID):
        assert stored_session(realistic_engine, session_id) is not None
        assert stored_messages(realistic_engine, session_id) == []


def test_naive_times_read_in_legacy_zone(
    realistic_engine: Engine, installed_registry: DepartmentRegistry
) -> None:
    migrate(realistic_engine, installed_registry, legacy_time_zone="Asia/Shanghai")

    photo = stored_session(realistic_engine, DERMA_PHOTO_ID)
    assert photo is not None
    # 02:00 written without an offset, read as 02:00 in Shanghai: 18:00 UTC the day before.
    assert photo.created_at == dt.datetime(2024, 4, 30, 18, 0, tzinfo=UTC)
    assert stored_messages(realistic_engine, DERMA_PHOTO_ID)[0].created_at == dt.datetime(
        2024, 4, 30, 18, 0, tzinfo=UTC
    )
    # A time written with an offset keeps its instant whatever the legacy zone.
    collecting = stored_messages(realistic_engine, DERMA_COLLECTING_ID)
    assert collecting[0].created_at == dt.datetime(2024, 5, 3, 13, 30, tzinfo=UTC)
    assert collecting[2].created_at == dt.datetime(2024, 5, 3, 13, 31, tzinfo=UTC)


# Idempotence and dry runs


def test_second_run_adds_nothing(
    realistic_engine: Engine, installed_registry: DepartmentRegistry
) -> None:
    insert_legacy_rows(
        realistic_engine,
        DERMA_TABLE,
        [derma_row(legacy_id("bad-role"), messages=[legacy_message("doctor", "x", LEGACY_START)])],
    )
    first = migrate(realistic_engine, installed_registry)
    after_first = unified_contents(realistic_engine)

    second = migrate(realistic_engine, installed_registry, batch_size=3)
    after_second = unified_contents(realistic_engine)

    assert after_second == after_first
    assert second.migrated == 0
    assert second.migrated_messages == 0
    assert second.already_migrated == first.migrated
    assert second.quarantined == first.quarantined == 1
    assert quarantine_reasons(second) == quarantine_reasons(first)


def test_dry_run_writes_nothing(
    realistic_engine: Engine, installed_registry: DepartmentRegistry
) -> None:
    report = migrate(realistic_engine, installed_registry, dry_run=True)

    assert report.dry_run is True
    assert report.run_id is None
    assert report.migrated == len(realistic_derma_rows()) + len(realistic_diagnosis_rows())
    assert unified_contents(realistic_engine) == {
        "sessions": [],
        "messages": [],
        "ledger": [],
        "quarantine": [],
    }
    with realistic_engine.connect() as connection:
        runs = connection.scalar(text("SELECT COUNT(*) FROM legacy_migration_runs"))
    assert runs == 0


@pytest.mark.parametrize("batch_size", [1, 3, 500])
def test_dry_run_reports_as_real_run(
    realistic_engine: Engine, installed_registry: DepartmentRegistry, batch_size: int
) -> None:
    insert_legacy_rows(
        realistic_engine,
        DERMA_TABLE,
        [
            derma_row(legacy_id("not-a-list"), messages={"role": "user"}),
            derma_row(legacy_id("shared-id"), user_id=4001),
        ],
    )
    insert_legacy_rows(
        realistic_engine,
        DIAGNOSIS_TABLE,
        [
            diagnosis_row(legacy_id("shared-id"), user_id=4002),
            diagnosis_row(legacy_id("bad-progress"), progress=250),
        ],
    )

    dry = migrate(realistic_engine, installed_registry, dry_run=True, batch_size=batch_size)
    real = migrate(realistic_engine, installed_registry, batch_size=batch_size)

    assert comparable(dry) == comparable(real)
    assert real.quarantined == 3


def test_dry_run_id_of_quarantined_row(
    legacy_engine: Engine, installed_registry: DepartmentRegistry
) -> None:
    shared = legacy_id("shared-with-broken-row")
    insert_legacy_rows(legacy_engine, DERMA_TABLE, [derma_row(shared, messages={"a": 1})])
    insert_legacy_rows(legacy_engine, DIAGNOSIS_TABLE, [diagnosis_row(shared)])

    dry = migrate(legacy_engine, installed_registry, dry_run=True)
    real = migrate(legacy_engine, installed_registry)

    assert quarantine_reasons(real) == {("derma_sessions", shared): "messages_not_list"}
    assert comparable(dry) == comparable(real)


# Quarantine


def bad_messages(*messages: Any) -> dict[str, Any]:
    return {"messages": list(messages)}


def user_message(**changes: Any) -> dict[str, Any]:
    return {**legacy_message("user", "手背起了水疱", LEGACY_START), **changes}


QUARANTINE_CASES = [
    pytest.param("derma", {"created_at": None}, ProblemReason.INVALID_SESSION, id="no-created-at"),
    pytest.param("derma", {"progress": 150}, ProblemReason.INVALID_STATE, id="progress-150"),
    pytest.param(
        "diagnosis", {"risk_level": "说不清"}, ProblemReason.INVALID_STATE, id="unknown-risk"
    ),
    pytest.param(
        "derma",
        {"symptoms": ["红疹\x00"]},
        ProblemReason.INVALID_STATE,
        id="nul-in-state",
    ),
    pytest.param(
        "derma", {"messages": {"role": "user"}}, ProblemReason.MESSAGES_NOT_LIST, id="object"
    ),
    pytest.param("diagnosis", {"messages": "头痛"}, ProblemReason.MESSAGES_NOT_LIST, id="string"),
    pytest.param(
        "derma", bad_messages("只有文字"), ProblemReason.INVALID_MESSAGE, id="message-not-object"
    ),
    pytest.param(
        "derma",
        bad_messages(user_message(content=12345)),
        ProblemReason.INVALID_MESSAGE,
        id="content-number",
    ),
    pytest.param(
        "diagnosis",
        bad_messages(user_message(content="头\x00痛")),
        ProblemReason.INVALID_MESSAGE,
        id="nul-in-content",
    ),
    pytest.param(
        "derma",
        bad_messages(user_message(images="https://img.example.invalid/1.jpg")),
        ProblemReason.INVALID_MESSAGE,
        id="images-not-list",
    ),
    pytest.param(
        "derma", bad_messages(user_message(role="doctor")), ProblemReason.UNKNOWN_ROLE, id="doctor"
    ),
    pytest.param(
        "diagnosis",
        bad_messages(user_message(role=None)),
        ProblemReason.UNKNOWN_ROLE,
        id="role-missing",
    ),
    pytest.param(
        "derma",
        bad_messages(user_message(task_type="ecg_reading")),
        ProblemReason.UNKNOWN_TASK_TYPE,
        id="unknown-task-type",
    ),
    pytest.param(
        "diagnosis",
        bad_messages(user_message(task_type="skin_analysis")),
        ProblemReason.UNKNOWN_TASK_TYPE,
        id="other-table-task-type",
    ),
    pytest.param(
        "derma",
        bad_messages(user_message(timestamp="昨天下午三点")),
        ProblemReason.INVALID_TIMESTAMP,
        id="unparsable-time",
    ),
    pytest.param(
        "diagnosis",
        bad_messages(user_message(timestamp=1714528800)),
        ProblemReason.INVALID_TIMESTAMP,
        id="epoch-number",
    ),
    pytest.param(
        "derma",
        bad_messages(user_message(timestamp=None)),
        ProblemReason.INVALID_TIMESTAMP,
        id="time-missing",
    ),
    pytest.param(
        "derma",
        bad_messages(
            legacy_message("user", "第一句", "2024-05-01T10:00:00"),
            legacy_message("assistant", "第二句", "2024-05-01T09:59:59"),
        ),
        ProblemReason.MESSAGES_OUT_OF_ORDER,
        id="out-of-order",
    ),
]


@pytest.mark.parametrize(("source", "changes", "reason"), QUARANTINE_CASES)
def test_malformed_row_quarantined(
    legacy_engine: Engine,
    installed_registry: DepartmentRegistry,
    source: str,
    changes: dict[str, Any],
    reason: ProblemReason,
) -> None:
    table, build = (
        (DERMA_TABLE, derma_row) if source == "derma" else (DIAGNOSIS_TABLE, diagnosis_row)
    )
    bad_id = legacy_id("malformed")
    neighbours = [legacy_id("before"), legacy_id("after"), legacy_id("last")]
    insert_legacy_rows(
        legacy_engine,
        table,
        [build(row_id) for row_id in neighbours] + [build(bad_id, **changes)],
    )
    before = snapshot_legacy_table(legacy_engine, table.name)

    report = migrate(legacy_engine, installed_registry, batch_size=2)

    assert quarantine_reasons(report) == {(table.name, bad_id): reason.value}
    assert quarantine_table(legacy_engine) == {(table.name, bad_id): reason.value}
    assert report.quarantine[0].detail
    assert report.migrated == len(neighbours)
    assert ledger_ids(legacy_engine) == {(table.name, row_id) for row_id in neighbours}
    assert stored_session(legacy_engine, bad_id) is None
    assert snapshot_legacy_table(legacy_engine, table.name) == before


def test_malformed_rows_leave_sources_unchanged(
    realistic_engine: Engine, installed_registry: DepartmentRegistry
) -> None:
    for position, param in enumerate(QUARANTINE_CASES):
        source, changes, _ = cast(tuple[str, dict[str, Any], ProblemReason], param.values)
        table, build = (
            (DERMA_TABLE, derma_row) if source == "derma" else (DIAGNOSIS_TABLE, diagnosis_row)
        )
        insert_legacy_rows(
            realistic_engine, table, [build(legacy_id(f"bad-{position}"), **changes)]
        )
    derma_before = snapshot_legacy_table(realistic_engine, "derma_sessions")
    diagnosis_before = snapshot_legacy_table(realistic_engine, "diagnosis_sessions")

    report = migrate(realistic_engine, installed_registry, batch_size=4)
    verify_migration(realistic_engine, registry=installed_registry)

    assert report.quarantined == len(QUARANTINE_CASES)
    assert report.migrated == len(realistic_derma_rows()) + len(realistic_diagnosis_rows())
    assert snapshot_legacy_table(realistic_engine, "derma_sessions") == derma_before
    assert snapshot_legacy_table(realistic_engine, "diagnosis_sessions") == diagnosis_before


# SQLite stores times as text, so a legacy application could have written any text there.
@pytest.mark.parametrize("backend", ["sqlite"])
def test_sqlite_time_text_read_or_quarantined(
    legacy_engine: Engine, installed_registry: DepartmentRegistry
) -> None:
    with_offset = legacy_id("time-with-offset")
    unreadable = legacy_id("time-unreadable")
    insert_legacy_rows(legacy_engine, DERMA_TABLE, [derma_row(with_offset), derma_row(unreadable)])
    with legacy_engine.begin() as connection:
        connection.execute(
            text("UPDATE derma_sessions SET created_at = :value WHERE id = :id"),
            {"value": "2024-05-01T09:00:00+08:00", "id": with_offset},
        )
        connection.execute(
            text("UPDATE derma_sessions SET updated_at = :value WHERE id = :id"),
            {"value": "下午三点", "id": unreadable},
        )

    report = migrate(legacy_engine, installed_registry, legacy_time_zone="America/New_York")

    session = stored_session(legacy_engine, with_offset)
    assert session is not None
    assert session.created_at == dt.datetime(2024, 5, 1, 1, 0, tzinfo=UTC)
    assert quarantine_reasons(report) == {("derma_sessions", unreadable): "invalid_timestamp"}
    assert report.quarantine[0].detail.startswith("updated_at:")


def test_invalid_json_quarantined(
    legacy_engine: Engine, installed_registry: DepartmentRegistry
) -> None:
    make_json_column_text(legacy_engine, "derma_sessions", "messages")
    make_json_column_text(legacy_engine, "derma_sessions", "symptoms")
    broken_messages = legacy_id("broken-messages")
    broken_symptoms = legacy_id("broken-symptoms")
    good = legacy_id("good")
    insert_legacy_rows(
        legacy_engine,
        DERMA_TABLE,
        [derma_row(broken_messages), derma_row(broken_symptoms), derma_row(good)],
    )
    with legacy_engine.begin() as connection:
        connection.execute(
            text("UPDATE derma_sessions SET messages = :value WHERE id = :id"),
            {"value": '[{"role": "user", "content": "红疹', "id": broken_messages},
        )
        connection.execute(
            text("UPDATE derma_sessions SET symptoms = :value WHERE id = :id"),
            {"value": "红疹, 瘙痒", "id": broken_symptoms},
        )
    before = snapshot_legacy_table(legacy_engine, "derma_sessions")

    report = migrate(legacy_engine, installed_registry)

    details = {row.legacy_id: row.detail for row in report.quarantine}
    assert quarantine_reasons(report) == {
        ("derma_sessions", broken_messages): "invalid_json",
        ("derma_sessions", broken_symptoms): "invalid_json",
    }
    assert "messages" in details[broken_messages]
    assert "symptoms" in details[broken_symptoms]
    assert stored_session(legacy_engine, good) is not None
    assert snapshot_legacy_table(legacy_engine, "derma_sessions") == before


def test_session_id_in_use_by_other_conversation(
    legacy_engine: Engine, installed_registry: DepartmentRegistry
) -> None:
    taken_id = legacy_id("taken")
    with DatabaseSession(legacy_engine) as database:
        database.add(
            ChatSession(
                id=taken_id,
                user_id=9999,
                agent_type="cardiology",
                agent_state={"chief_complaint": "胸闷"},
                status="active",
                created_at=dt.datetime(2025, 1, 1, tzinfo=UTC),
                updated_at=dt.datetime(2025, 1, 1, tzinfo=UTC),
            )
        )
        database.commit()
    insert_legacy_rows(
        legacy_engine, DERMA_TABLE, [derma_row(taken_id), derma_row(legacy_id("free"))]
    )
    sessions_before = unified_contents(legacy_engine)["sessions"]

    report = migrate(legacy_engine, installed_registry)

    assert quarantine_reasons(report) == {("derma_sessions", taken_id): "session_id_in_use"}
    assert "different conversation" in report.quarantine[0].detail
    assert "9999" in report.quarantine[0].detail
    assert [row for row in unified_contents(legacy_engine)["sessions"] if row[0] == taken_id] == [
        row for row in sessions_before if row[0] == taken_id
    ]
    assert stored_messages(legacy_engine, taken_id) == []
    assert ("derma_sessions", taken_id) not in ledger_ids(legacy_engine)
    assert stored_session(legacy_engine, legacy_id("free")) is not None


def test_session_id_in_use_by_same_user(
    legacy_engine: Engine, installed_registry: DepartmentRegistry
) -> None:
    copied = legacy_id("copied")
    row = derma_row(copied)
    with DatabaseSession(legacy_engine) as database:
        database.add(
            ChatSession(
                id=copied,
                user_id=row["user_id"],
                agent_type="dermatology",
                status="active",
                created_at=dt.datetime(2024, 5, 1, 2, tzinfo=UTC),
                updated_at=dt.datetime(2024, 5, 1, 2, tzinfo=UTC),
            )
        )
        database.commit()
    insert_legacy_rows(legacy_engine, DERMA_TABLE, [row])

    report = migrate(legacy_engine, installed_registry)

    assert quarantine_reasons(report) == {("derma_sessions", copied): "session_id_in_use"}
    assert "same user and department" in report.quarantine[0].detail
    assert stored_messages(legacy_engine, copied) == []
    assert ledger_ids(legacy_engine) == set()


def test_session_id_shared_by_both_tables(
    legacy_engine: Engine, installed_registry: DepartmentRegistry
) -> None:
    shared = legacy_id("shared")
    insert_legacy_rows(legacy_engine, DERMA_TABLE, [derma_row(shared, user_id=1)])
    insert_legacy_rows(legacy_engine, DIAGNOSIS_TABLE, [diagnosis_row(shared, user_id=2)])

    report = migrate(legacy_engine, installed_registry)

    session = stored_session(legacy_engine, shared)
    assert session is not None
    assert session.agent_type == "dermatology"
    assert quarantine_reasons(report) == {("diagnosis_sessions", shared): "session_id_in_use"}
    assert "user 1, department dermatology" in report.quarantine[0].detail


def test_fixed_row_migrates_on_next_run(
    legacy_engine: Engine, installed_registry: DepartmentRegistry
) -> None:
    fixed = legacy_id("fixed-later")
    insert_legacy_rows(
        legacy_engine,
        DERMA_TABLE,
        [derma_row(fixed, messages=[legacy_message("Doctor", "手臂痒", LEGACY_START)])],
    )
    first = migrate(legacy_engine, installed_registry)
    assert quarantine_table(legacy_engine) == {("derma_sessions", fixed): "unknown_role"}

    with legacy_engine.begin() as connection:
        connection.execute(
            DERMA_TABLE.update()
            .where(DERMA_TABLE.c.id == fixed)
            .values(messages=[legacy_message("user", "手臂痒", LEGACY_START)])
        )
    second = migrate(legacy_engine, installed_registry)

    assert first.quarantined == 1
    assert second.migrated == 1
    assert second.quarantined == 0
    assert quarantine_table(legacy_engine) == {}
    assert ledger_ids(legacy_engine) == {("derma_sessions", fixed)}
    assert [message.sender for message in stored_messages(legacy_engine, fixed)] == ["user"]
    assert verify_migration(legacy_engine, registry=installed_registry).passed


def test_deleted_row_leaves_quarantine(
    legacy_engine: Engine, installed_registry: DepartmentRegistry
) -> None:
    deleted = legacy_id("deleted-later")
    insert_legacy_rows(
        legacy_engine,
        DERMA_TABLE,
        [derma_row(deleted, messages=[legacy_message("Doctor", "手臂痒", LEGACY_START)])],
    )
    migrate(legacy_engine, installed_registry)
    assert quarantine_table(legacy_engine) == {("derma_sessions", deleted): "unknown_role"}

    with legacy_engine.begin() as connection:
        connection.execute(DERMA_TABLE.delete().where(DERMA_TABLE.c.id == deleted))
    report = migrate(legacy_engine, installed_registry)

    assert report.rows == 0
    assert quarantine_table(legacy_engine) == {}


# Table shapes


def test_missing_and_extra_columns_reported(
    bare_engine: Engine, installed_registry: DepartmentRegistry
) -> None:
    missing = ["care_advice", "latest_interpretation", "updated_at"]
    variant = create_legacy_table_variant(
        bare_engine,
        DERMA_TABLE,
        without=missing,
        extra_columns=[Column("doctor_note", String(200)), Column("app_version", String(20))],
    )
    row_ids = [legacy_id("variant-1"), legacy_id("variant-2")]
    insert_legacy_rows(
        bare_engine,
        variant,
        [
            {**derma_row(row_id), "doctor_note": "复诊", "app_version": "2.3.1"}
            for row_id in row_ids
        ],
    )

    report = migrate(bare_engine, installed_registry, only=["derma"])

    derma = report.tables[0]
    assert derma.present is True
    assert sorted(derma.missing_columns) == sorted(missing)
    assert sorted(derma.unmapped_columns) == ["app_version", "doctor_note"]
    assert derma.migrated == 2
    session = stored_session(bare_engine, row_ids[0])
    assert session is not None
    assert "care_advice" not in (session.agent_state or {})
    # Without updated_at, the last activity is the last message.
    assert session.updated_at == dt.datetime(2024, 5, 1, 2, 0, 10, tzinfo=UTC)
    assert verify_migration(bare_engine, registry=installed_registry, only=["derma"]).passed


def test_sql_null_json_columns_read_as_empty(
    bare_engine: Engine, installed_registry: DepartmentRegistry
) -> None:
    # The legacy models declare JSON columns NOT NULL, but the legacy DDL allows NULL.
    variant = create_legacy_table_variant(bare_engine, DERMA_TABLE)
    row_id = legacy_id("sql-null")
    insert_legacy_rows(bare_engine, variant, [derma_row(row_id)])
    with bare_engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE derma_sessions SET messages = NULL, symptoms = NULL, "
                "skin_analyses = NULL WHERE id = :id"
            ),
            {"id": row_id},
        )

    report = migrate(bare_engine, installed_registry, only=["derma"])

    session = stored_session(bare_engine, row_id)
    assert report.migrated == 1
    assert session is not None
    assert stored_messages(bare_engine, row_id) == []
    assert (session.agent_state or {}).get("symptoms", []) == []
    assert verify_migration(bare_engine, registry=installed_registry, only=["derma"]).passed


def test_missing_table_reported_not_present(
    bare_engine: Engine, installed_registry: DepartmentRegistry
) -> None:
    DERMA_TABLE.create(bare_engine)
    insert_legacy_rows(bare_engine, DERMA_TABLE, [derma_row(legacy_id("only-derma"))])

    report = migrate(bare_engine, installed_registry)

    tables = {table.source: table for table in report.tables}
    assert tables["diagnosis"].present is False
    assert tables["diagnosis"].rows == 0
    assert tables["derma"].present is True
    assert tables["derma"].migrated == 1
    assert report.to_dict()["tables"][1]["present"] is False


def test_no_legacy_table_migrates_nothing(
    bare_engine: Engine, installed_registry: DepartmentRegistry
) -> None:
    report = migrate(bare_engine, installed_registry)

    assert [table.present for table in report.tables] == [False, False]
    assert report.rows == 0
    assert unified_contents(bare_engine)["sessions"] == []


# Batches


@pytest.mark.parametrize("batch_size", [1, 2, 1000])
def test_batch_sizes_give_same_tables(
    realistic_engine: Engine, installed_registry: DepartmentRegistry, batch_size: int
) -> None:
    report = migrate(realistic_engine, installed_registry, batch_size=batch_size)
    contents = unified_contents(realistic_engine)

    derma_count = len(realistic_derma_rows())
    diagnosis_count = len(realistic_diagnosis_rows())
    assert report.migrated == derma_count + diagnosis_count
    assert sorted(row[0] for row in contents["sessions"]) == sorted(
        [row["id"] for row in realistic_derma_rows()]
        + [row["id"] for row in realistic_diagnosis_rows()]
    )
    assert len(contents["messages"]) == report.migrated_messages
    assert verify_migration(
        realistic_engine, registry=installed_registry, batch_size=batch_size
    ).passed


def test_last_partial_batch_written(
    legacy_engine: Engine, installed_registry: DepartmentRegistry
) -> None:
    row_ids = sorted(legacy_id(f"batch-{number}") for number in range(5))
    insert_legacy_rows(legacy_engine, DERMA_TABLE, [derma_row(row_id) for row_id in row_ids])
    steps: list[MigrationProgress] = []

    report = migrate(
        legacy_engine, installed_registry, only=["derma"], batch_size=2, progress=steps.append
    )

    assert [step.processed for step in steps] == [2, 4, 5]
    assert {step.total for step in steps} == {5}
    assert report.migrated == 5
    assert stored_session(legacy_engine, row_ids[-1]) is not None
    assert ledger_ids(legacy_engine) == {("derma_sessions", row_id) for row_id in row_ids}


def test_only_one_source(realistic_engine: Engine, installed_registry: DepartmentRegistry) -> None:
    report = migrate(realistic_engine, installed_registry, only=["diagnosis"])

    assert [table.source for table in report.tables] == ["diagnosis"]
    assert report.migrated == len(realistic_diagnosis_rows())
    assert {row[3] for row in unified_contents(realistic_engine)["sessions"]} == {"general"}


def test_unknown_source_rejected(
    legacy_engine: Engine, installed_registry: DepartmentRegistry
) -> None:
    with pytest.raises(ConfigurationError, match=r"'cardio'.*derma, diagnosis"):
        migrate(legacy_engine, installed_registry, only=["cardio"])


def test_batch_size_zero_rejected(
    legacy_engine: Engine, installed_registry: DepartmentRegistry
) -> None:
    with pytest.raises(ValueError, match="batch size 0"):
        migrate(legacy_engine, installed_registry, batch_size=0)


def test_ledger_records_each_migrated_row(
    realistic_engine: Engine, installed_registry: DepartmentRegistry
) -> None:
    report = migrate(realistic_engine, installed_registry)

    with realistic_engine.connect() as connection:
        entries = {
            entry["legacy_id"]: entry for entry in connection.execute(select(LEDGER)).mappings()
        }
    rows = realistic_derma_rows() + realistic_diagnosis_rows()
    assert set(entries) == {row["id"] for row in rows}
    for row in rows:
        entry = entries[row["id"]]
        assert entry["session_id"] == row["id"]
        assert entry["message_count"] == len(row["messages"] or [])
        assert entry["run_id"] == report.run_id
        assert len(entry["message_checksum"]) == 64
        assert len(entry["state_checksum"]) == 64
