"""The aggregation contract, point by point, on SQLite and PostgreSQL.

Each group of tests below is headed by the rule it checks. Concurrency, persistence,
statement counts and properties have their own modules, and this one has one focused check
per rule.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session as DatabaseSession

from medrecord import (
    AggregationResult,
    ConfigurationError,
    DepartmentConflictError,
    DepartmentRegistry,
    EventStatus,
    InvalidTimeZoneError,
    MedicalEvent,
    Message,
    NoUserMessageError,
    SessionNotFoundError,
    UnknownDepartmentError,
    aggregate,
)
from tests.factories import (
    DEFAULT_STARTED_AT,
    add_message,
    aggregate_session,
    count_rows,
    make_session,
    message_content,
)

OWNER_ID = 1001
STRANGER_ID = 2002
MISSING_SESSION_ID = "00000000-0000-4000-8000-000000000000"


def load_event(db: DatabaseSession, result: AggregationResult) -> MedicalEvent:
    """Load the event an aggregation wrote, within the current transaction."""
    loaded = db.get(MedicalEvent, result.event_id)
    assert loaded is not None, f"event {result.event_id} is missing after aggregation"
    return loaded


def only_snapshot(db: DatabaseSession, result: AggregationResult) -> dict[str, Any]:
    """Return the single snapshot of the event an aggregation wrote."""
    snapshots = load_event(db, result).sessions or []
    assert len(snapshots) == 1
    snapshot: dict[str, Any] = snapshots[0]
    return snapshot


# 1. The session is looked up by id and owner together, so another user's session is "not
#    found" exactly like a missing one.


def test_other_users_session_is_not_found(
    db: DatabaseSession, registry: DepartmentRegistry
) -> None:
    owned = make_session(db, user_id=OWNER_ID, agent_state={"chief_complaint": "手背起红疹"})
    owned_id = owned.id
    db.commit()

    with pytest.raises(SessionNotFoundError) as other_users:
        aggregate(session=db, registry=registry, user_id=STRANGER_ID, session_id=owned_id)
    with pytest.raises(SessionNotFoundError) as missing:
        aggregate(session=db, registry=registry, user_id=STRANGER_ID, session_id=MISSING_SESSION_ID)

    assert type(other_users.value) is type(missing.value)
    assert str(other_users.value).replace(owned_id, "<id>") == str(missing.value).replace(
        MISSING_SESSION_ID, "<id>"
    )
    assert other_users.value.user_id == STRANGER_ID
    assert "手背起红疹" not in str(other_users.value)
    assert count_rows(db, MedicalEvent) == 0


def test_owner_finds_own_session(db: DatabaseSession, registry: DepartmentRegistry) -> None:
    owned = make_session(db, user_id=OWNER_ID)
    db.commit()

    result = aggregate_session(db, registry, owned)

    assert load_event(db, result).user_id == OWNER_ID


# 2. The stored agent_type decides the department. A hint resolves through aliases, and a
#    hint naming another department is a conflict naming both.


@pytest.mark.parametrize(
    ("stored_agent_type", "department_code", "event_agent_type"),
    [
        ("dermatology", "dermatology", "derma"),
        ("derma", "dermatology", "derma"),
        ("sleep", "sleep", "sleep"),
    ],
)
def test_stored_agent_type_decides_department(
    db: DatabaseSession,
    registry: DepartmentRegistry,
    stored_agent_type: str,
    department_code: str,
    event_agent_type: str,
) -> None:
    chat_session = make_session(db, agent_type=stored_agent_type)

    result = aggregate_session(db, registry, chat_session)

    assert result.department == department_code
    assert load_event(db, result).agent_type == event_agent_type
    assert only_snapshot(db, result)["session_type"] == department_code


@pytest.mark.parametrize("hint", ["dermatology", "derma", "SKIN", " derma ", "皮肤科", "", None])
def test_hint_naming_same_department_is_accepted(
    db: DatabaseSession, registry: DepartmentRegistry, hint: str | None
) -> None:
    chat_session = make_session(db, agent_type="dermatology")

    result = aggregate_session(db, registry, chat_session, department_hint=hint)

    assert result.department == "dermatology"
    assert load_event(db, result).agent_type == "derma"


def test_hint_naming_another_department_conflicts(
    db: DatabaseSession, registry: DepartmentRegistry
) -> None:
    chat_session = make_session(db, agent_type="dermatology")

    with pytest.raises(DepartmentConflictError) as conflict:
        aggregate_session(db, registry, chat_session, department_hint="sleep-clinic")

    assert conflict.value.session_department == "dermatology"
    assert conflict.value.hinted_department == "sleep"
    assert "dermatology" in str(conflict.value)
    assert "sleep" in str(conflict.value)
    assert count_rows(db, MedicalEvent) == 0


def test_unknown_hint_is_rejected(db: DatabaseSession, registry: DepartmentRegistry) -> None:
    chat_session = make_session(db, agent_type="dermatology")

    with pytest.raises(UnknownDepartmentError) as unknown:
        aggregate_session(db, registry, chat_session, department_hint="cardio")

    assert unknown.value.code == "cardio"
    assert unknown.value.registered == ("dermatology", "sleep")
    assert count_rows(db, MedicalEvent) == 0


def test_unknown_stored_department_is_rejected(
    db: DatabaseSession, registry: DepartmentRegistry
) -> None:
    chat_session = make_session(db, agent_type="pediatrics")

    with pytest.raises(UnknownDepartmentError) as unknown:
        aggregate_session(db, registry, chat_session)

    assert unknown.value.code == "pediatrics"
    assert count_rows(db, MedicalEvent) == 0


# 3. agent_state is read through the department schema: spellings are normalised, unknown
#    fields kept, invalid values reported with the snapshot.


@pytest.mark.parametrize("spelling", ["中", "MEDIUM", "medium", " Moderate "])
def test_risk_level_spellings_become_one_value(
    db: DatabaseSession, registry: DepartmentRegistry, spelling: str
) -> None:
    chat_session = make_session(db, agent_state={"risk_level": spelling})

    result = aggregate_session(db, registry, chat_session)

    assert result.session_summary.risk_level == "medium"
    assert only_snapshot(db, result)["risk_level"] == "medium"
    assert load_event(db, result).risk_level == "medium"
    assert result.state_problems == []


def test_invalid_state_value_is_reported_and_rest_kept(
    db: DatabaseSession, registry: DepartmentRegistry
) -> None:
    stored_state = {
        "chief_complaint": "左前臂红疹三天",
        "symptoms": ["瘙痒", "红斑"],
        "risk_level": "somewhat bad",
        "progress": 250,
        "skin_location": "左前臂",
        "skin_analyses": [
            {"conditions": ["湿疹"], "confidence": 0.7},
            {"conditions": ["荨麻疹"], "confidence": 7},
        ],
        "triage_note": "夜间加重",
    }
    chat_session = make_session(db, agent_state=stored_state)

    result = aggregate_session(db, registry, chat_session)
    snapshot = only_snapshot(db, result)

    problems = {problem.field: problem.value for problem in result.state_problems}
    assert problems == {
        "risk_level": "somewhat bad",
        "progress": 250,
        "skin_analyses[1].confidence": 7,
    }
    assert {
        problem["field"]: problem["value"] for problem in snapshot["state_problems"]
    } == problems
    assert snapshot["chief_complaint"] == "左前臂红疹三天"
    assert snapshot["symptoms"] == ["瘙痒", "红斑"]
    assert snapshot["risk_level"] is None
    assert snapshot["state"]["skin_location"] == "左前臂"
    assert snapshot["state"]["triage_note"] == "夜间加重"
    assert [analysis["conditions"] for analysis in snapshot["state"]["skin_analyses"]] == [
        ["湿疹"],
        ["荨麻疹"],
    ]
    assert "progress" not in snapshot["state"]

    db.expire_all()
    assert chat_session.agent_state == stored_state


def test_department_schema_checks_its_own_fields(
    db: DatabaseSession, registry: DepartmentRegistry
) -> None:
    chat_session = make_session(
        db,
        agent_type="sleep",
        agent_state={"chief_complaint": "入睡困难", "sleep_hours_per_night": 30},
    )

    result = aggregate_session(db, registry, chat_session)

    assert [(problem.field, problem.value) for problem in result.state_problems] == [
        ("sleep_hours_per_night", 30)
    ]
    assert result.session_summary.chief_complaint == "入睡困难"


# 4. No fabricated data: a value absent from the session is absent from the event, and a
#    missing risk level is "not assessed" (None), never "low".


@pytest.mark.parametrize(
    "agent_state",
    [None, {}, {"chief_complaint": "脚踝瘙痒"}, {"risk_level": None}, {"risk_level": "  "}],
    ids=["no-state", "empty-state", "no-risk-key", "risk-null", "risk-blank"],
)
def test_missing_risk_level_stays_none(
    db: DatabaseSession, registry: DepartmentRegistry, agent_state: dict[str, Any] | None
) -> None:
    chat_session = make_session(db, agent_state=agent_state)

    result = aggregate_session(db, registry, chat_session)

    assert result.session_summary.risk_level is None
    assert result.as_response()["session_summary"]["risk_level"] is None
    assert only_snapshot(db, result)["risk_level"] is None
    assert load_event(db, result).risk_level is None


def test_absent_values_are_not_fabricated(
    db: DatabaseSession, registry: DepartmentRegistry
) -> None:
    chat_session = make_session(db, agent_state=None)

    result = aggregate_session(db, registry, chat_session)
    stored_event = load_event(db, result)
    snapshot = only_snapshot(db, result)

    assert result.session_summary.chief_complaint is None
    assert result.session_summary.symptoms == []
    assert stored_event.chief_complaint is None
    assert stored_event.summary is None
    assert stored_event.ai_analysis is not None
    assert stored_event.ai_analysis["symptoms"] == []
    assert snapshot["chief_complaint"] is None
    assert snapshot["symptoms"] == []
    assert snapshot["stage"] is None
    assert snapshot["state"] == {}


def test_unassessed_session_does_not_lower_event_risk(
    db: DatabaseSession, registry: DepartmentRegistry
) -> None:
    assessed = make_session(db, agent_state={"risk_level": "high"})
    unassessed = make_session(db, started_at=DEFAULT_STARTED_AT + dt.timedelta(hours=1))

    aggregate_session(db, registry, assessed)
    result = aggregate_session(db, registry, unassessed)
    stored_event = load_event(db, result)
    risk_levels = {
        snapshot["session_id"]: snapshot["risk_level"] for snapshot in stored_event.sessions or []
    }

    assert stored_event.risk_level == "high"
    assert risk_levels == {assessed.id: "high", unassessed.id: None}


# 5. A session without a user message is rejected, and nothing is written.


@pytest.mark.parametrize("assistant_messages", [0, 3], ids=["no-messages", "assistant-only"])
def test_session_without_user_message_is_rejected(
    db: DatabaseSession, registry: DepartmentRegistry, assistant_messages: int
) -> None:
    earlier = make_session(db, agent_state={"chief_complaint": "颈部脱屑"})
    earlier_result = aggregate_session(db, registry, earlier)
    db.commit()
    before = load_event(db, earlier_result)
    snapshots_before = list(before.sessions or [])
    updated_before = before.updated_at

    later_start = DEFAULT_STARTED_AT + dt.timedelta(hours=1)
    silent = make_session(db, message_count=0, started_at=later_start)
    for position in range(assistant_messages):
        add_message(
            db,
            silent,
            sender="assistant",
            content=f"assistant question {position}",
            created_at=later_start + dt.timedelta(minutes=position),
        )

    with pytest.raises(NoUserMessageError) as rejected:
        aggregate_session(db, registry, silent, now=later_start + dt.timedelta(hours=1))

    assert rejected.value.session_id == silent.id
    assert count_rows(db, MedicalEvent) == 1
    db.expire_all()
    after = load_event(db, earlier_result)
    assert after.sessions == snapshots_before
    assert after.updated_at == updated_before


# 6. The snapshot keeps messages in chronological order. Above the cap it keeps the first
#    and the last ones and records how many it omitted.


@pytest.mark.parametrize(
    ("message_cap", "kept_positions"),
    [(4, [1, 2, 10, 11]), (5, [1, 2, 3, 10, 11]), (2, [1, 11])],
)
def test_message_cap_keeps_first_and_last(
    db: DatabaseSession,
    registry: DepartmentRegistry,
    message_cap: int,
    kept_positions: list[int],
) -> None:
    chat_session = make_session(db, message_count=11)

    result = aggregate_session(db, registry, chat_session, message_cap=message_cap)
    snapshot = only_snapshot(db, result)

    assert [message["position"] for message in snapshot["messages"]] == kept_positions
    assert [message["content"] for message in snapshot["messages"]] == [
        message_content(message["role"], message["position"] - 1)
        for message in snapshot["messages"]
    ]
    assert snapshot["omitted_message_count"] == 11 - len(kept_positions)
    assert snapshot["message_count"] == 11
    assert result.session_summary.message_count == 11
    assert count_rows(db, Message) == 11


def test_messages_under_cap_are_all_kept(db: DatabaseSession, registry: DepartmentRegistry) -> None:
    chat_session = make_session(db, message_count=5)

    result = aggregate_session(db, registry, chat_session, message_cap=5)
    snapshot = only_snapshot(db, result)

    assert [message["position"] for message in snapshot["messages"]] == [1, 2, 3, 4, 5]
    assert snapshot["omitted_message_count"] == 0


def test_snapshot_orders_messages_chronologically(
    db: DatabaseSession, registry: DepartmentRegistry
) -> None:
    chat_session = make_session(db, message_count=0)
    start = DEFAULT_STARTED_AT
    # Inserted newest first; the last two share one timestamp, so insertion order decides.
    inserted = [
        ("assistant", "third", start + dt.timedelta(minutes=3)),
        ("user", "second", start + dt.timedelta(minutes=2)),
        ("user", "first", start + dt.timedelta(minutes=1)),
        ("user", "fourth", start + dt.timedelta(minutes=4)),
        ("assistant", "fifth", start + dt.timedelta(minutes=4)),
    ]
    for sender, content, created_at in inserted:
        add_message(db, chat_session, sender=sender, content=content, created_at=created_at)

    result = aggregate_session(db, registry, chat_session)
    messages = only_snapshot(db, result)["messages"]

    assert [message["content"] for message in messages] == [
        "first",
        "second",
        "third",
        "fourth",
        "fifth",
    ]
    timestamps = [dt.datetime.fromisoformat(message["timestamp"]) for message in messages]
    assert timestamps == sorted(timestamps)
    assert all(time.tzinfo is not None for time in timestamps)


@pytest.mark.parametrize("message_cap", [1, 0, -3])
def test_message_cap_below_two_is_rejected(
    db: DatabaseSession, registry: DepartmentRegistry, message_cap: int
) -> None:
    chat_session = make_session(db)

    with pytest.raises(ConfigurationError, match=f"invalid message cap {message_cap}"):
        aggregate_session(db, registry, chat_session, message_cap=message_cap)

    assert count_rows(db, MedicalEvent) == 0


# 7. Images and attachments are counted from message types and attachment lists alike, and
#    the event's attachment_count is the sum over its sessions.


def test_attachment_count_sums_types_and_lists(
    db: DatabaseSession, registry: DepartmentRegistry
) -> None:
    photo = {"type": "image", "url": "https://example.invalid/rash.jpg"}
    report = {
        "type": "file",
        "mime_type": "application/pdf",
        "url": "https://example.invalid/lab.pdf",
    }
    scan = {"mime_type": "image/png", "url": "https://example.invalid/scan.png"}
    with_images = make_session(
        db,
        message_count=8,
        image_positions={0, 4, 6},
        attachments={2: [report, report], 4: [photo, photo, scan], 6: []},
    )
    files_only = make_session(
        db,
        message_count=4,
        started_at=DEFAULT_STARTED_AT + dt.timedelta(hours=1),
        attachments={0: [report], 2: ["legacy-file-name.pdf"]},
    )

    first = aggregate_session(db, registry, with_images)
    second = aggregate_session(db, registry, files_only)
    stored_event = load_event(db, second)
    snapshots = {snapshot["session_id"]: snapshot for snapshot in stored_event.sessions or []}

    # An image message without a list counts 1, a list of 2 counts 2, an image message with
    # a list of 3 counts 3, and an image message with an empty list counts 1.
    assert snapshots[with_images.id]["attachment_count"] == 7
    assert snapshots[with_images.id]["has_images"] is True
    assert first.session_summary.has_images is True
    assert snapshots[files_only.id]["attachment_count"] == 2
    assert snapshots[files_only.id]["has_images"] is False
    assert second.session_summary.has_images is False
    assert stored_event.attachment_count == 9
    assert stored_event.ai_analysis is not None
    assert stored_event.ai_analysis["has_images"] is True


def test_image_attachment_on_text_message_counts_as_image(
    db: DatabaseSession, registry: DepartmentRegistry
) -> None:
    chat_session = make_session(db, attachments={0: [{"mime_type": "image/jpeg", "url": "a.jpg"}]})

    result = aggregate_session(db, registry, chat_session)

    assert result.session_summary.has_images is True
    assert only_snapshot(db, result)["attachment_count"] == 1


# 8. The event is found or created per (user, department, local calendar day, active),
#    with the day computed in the configured time zone.


def test_late_evening_utc_files_under_next_local_day(
    db: DatabaseSession, registry: DepartmentRegistry
) -> None:
    chat_session = make_session(db, started_at=dt.datetime(2024, 3, 1, 23, 30, tzinfo=dt.UTC))

    result = aggregate_session(
        db, registry, chat_session, now=dt.datetime(2024, 3, 1, 23, 45, tzinfo=dt.UTC)
    )

    assert result.event_date == dt.date(2024, 3, 2)
    assert load_event(db, result).event_date == dt.date(2024, 3, 2)


def test_late_aggregation_files_under_session_day(
    db: DatabaseSession, registry: DepartmentRegistry
) -> None:
    chat_session = make_session(db, started_at=dt.datetime(2024, 3, 1, 2, 0, tzinfo=dt.UTC))

    result = aggregate_session(
        db, registry, chat_session, now=dt.datetime(2024, 3, 5, 9, 0, tzinfo=dt.UTC)
    )

    assert result.event_date == dt.date(2024, 3, 1)


def test_configured_time_zone_decides_day(
    db: DatabaseSession, registry: DepartmentRegistry
) -> None:
    chat_session = make_session(db, started_at=dt.datetime(2024, 3, 1, 23, 30, tzinfo=dt.UTC))

    result = aggregate_session(db, registry, chat_session, time_zone="UTC")

    assert result.event_date == dt.date(2024, 3, 1)


def test_invalid_time_zone_is_rejected(db: DatabaseSession, registry: DepartmentRegistry) -> None:
    chat_session = make_session(db)

    with pytest.raises(InvalidTimeZoneError, match="Mars/Olympus_Mons"):
        aggregate_session(db, registry, chat_session, time_zone="Mars/Olympus_Mons")

    assert count_rows(db, MedicalEvent) == 0


def test_sessions_of_one_local_day_share_event(
    db: DatabaseSession, registry: DepartmentRegistry
) -> None:
    # 01:00 and 23:00 on 2024-03-02 in Asia/Shanghai, then 23:59 on 2024-03-01.
    early = make_session(db, started_at=dt.datetime(2024, 3, 1, 17, 0, tzinfo=dt.UTC))
    late = make_session(db, started_at=dt.datetime(2024, 3, 2, 15, 0, tzinfo=dt.UTC))
    day_before = make_session(db, started_at=dt.datetime(2024, 3, 1, 15, 59, tzinfo=dt.UTC))

    early_result = aggregate_session(db, registry, early)
    late_result = aggregate_session(db, registry, late)
    day_before_result = aggregate_session(db, registry, day_before)

    assert early_result.is_new_event is True
    assert late_result.is_new_event is False
    assert late_result.event_id == early_result.event_id
    assert day_before_result.is_new_event is True
    assert day_before_result.event_id != early_result.event_id
    assert day_before_result.event_date == dt.date(2024, 3, 1)
    assert load_event(db, early_result).session_count == 2


def test_other_user_or_department_gets_own_event(
    db: DatabaseSession, registry: DepartmentRegistry
) -> None:
    first = make_session(db, user_id=OWNER_ID, agent_type="dermatology")
    other_user = make_session(db, user_id=STRANGER_ID, agent_type="dermatology")
    other_department = make_session(db, user_id=OWNER_ID, agent_type="sleep")

    results = [
        aggregate_session(db, registry, session)
        for session in (first, other_user, other_department)
    ]

    assert [result.is_new_event for result in results] == [True, True, True]
    assert len({result.event_id for result in results}) == 3


def test_many_event_inserts_on_one_connection(
    db: DatabaseSession, registry: DepartmentRegistry
) -> None:
    # psycopg prepares a statement that one connection runs often. The event insert must
    # still match the partial unique index from the 11th run on.
    days = 15
    sessions = [
        make_session(db, started_at=DEFAULT_STARTED_AT + dt.timedelta(days=day))
        for day in range(days)
    ]

    results = [aggregate_session(db, registry, chat_session) for chat_session in sessions]
    repeated = [aggregate_session(db, registry, chat_session) for chat_session in sessions]

    assert all(result.is_new_event for result in results)
    assert not any(result.is_new_event for result in repeated)
    assert [result.event_id for result in repeated] == [result.event_id for result in results]
    assert count_rows(db, MedicalEvent) == days


def test_completed_event_takes_no_new_session(
    db: DatabaseSession, registry: DepartmentRegistry
) -> None:
    first = make_session(db)
    first_result = aggregate_session(db, registry, first)
    load_event(db, first_result).status = EventStatus.COMPLETED.value
    db.flush()
    second = make_session(db, started_at=DEFAULT_STARTED_AT + dt.timedelta(hours=1))

    second_result = aggregate_session(db, registry, second)

    assert second_result.is_new_event is True
    assert second_result.event_id != first_result.event_id
    assert load_event(db, first_result).session_count == 1


# 9. Merging is an upsert by session id, and the event's fields are derived from all its
#    snapshots, whatever the order of aggregation.


def test_reaggregation_upserts_one_refreshed_snapshot(
    db: DatabaseSession, registry: DepartmentRegistry
) -> None:
    chat_session = make_session(
        db, agent_state={"chief_complaint": "手指脱皮", "risk_level": "low"}
    )
    first = aggregate_session(db, registry, chat_session)

    chat_session.agent_state = {
        "chief_complaint": "手指脱皮伴渗液",
        "risk_level": "high",
        "symptoms": ["渗液"],
    }
    add_message(
        db,
        chat_session,
        sender="user",
        content="今天开始渗液",
        created_at=DEFAULT_STARTED_AT + dt.timedelta(minutes=30),
    )
    later = DEFAULT_STARTED_AT + dt.timedelta(hours=3)
    second = aggregate_session(db, registry, chat_session, now=later)
    stored_event = load_event(db, second)
    snapshot = only_snapshot(db, second)

    assert second.event_id == first.event_id
    assert second.is_new_event is False
    assert stored_event.session_count == 1
    assert snapshot["chief_complaint"] == "手指脱皮伴渗液"
    assert snapshot["risk_level"] == "high"
    assert snapshot["message_count"] == 3
    assert snapshot["aggregated_at"] == later.isoformat()
    assert stored_event.chief_complaint == "手指脱皮伴渗液"
    assert stored_event.risk_level == "high"
    assert stored_event.ai_analysis is not None
    assert stored_event.ai_analysis["message_count"] == 3
    assert stored_event.end_time == DEFAULT_STARTED_AT + dt.timedelta(minutes=30)


def test_event_fields_derive_from_all_snapshots(
    db: DatabaseSession, registry: DepartmentRegistry
) -> None:
    start = DEFAULT_STARTED_AT
    without_complaint = make_session(
        db, agent_state={"symptoms": ["瘙痒"]}, started_at=start, message_count=2
    )
    earliest_complaint = make_session(
        db,
        agent_state={
            "chief_complaint": "小腿红斑",
            "risk_level": "medium",
            "symptoms": ["红斑", "瘙痒"],
            "symptom_details": {"发热": {"status": "absent"}},
        },
        started_at=start + dt.timedelta(hours=1),
        message_count=4,
        image_positions={0},
    )
    latest = make_session(
        db,
        agent_state={"chief_complaint": "红斑扩大", "risk_level": "high", "symptoms": ["发热"]},
        started_at=start + dt.timedelta(hours=2),
        message_count=3,
    )

    for chat_session in (latest, without_complaint, earliest_complaint):
        result = aggregate_session(db, registry, chat_session)
    stored_event = load_event(db, result)

    assert stored_event.session_count == 3
    assert stored_event.chief_complaint == "小腿红斑"
    assert stored_event.risk_level == "high"
    assert stored_event.attachment_count == 1
    assert stored_event.start_time == start
    assert stored_event.end_time == start + dt.timedelta(hours=2, minutes=2)
    assert [snapshot["session_id"] for snapshot in stored_event.sessions or []] == [
        without_complaint.id,
        earliest_complaint.id,
        latest.id,
    ]
    assert stored_event.ai_analysis is not None
    assert stored_event.ai_analysis["symptoms"] == ["瘙痒", "红斑", "发热"]
    assert stored_event.ai_analysis["denied_symptoms"] == []
    assert stored_event.ai_analysis["message_count"] == 9


def test_derived_fields_independent_of_order(
    db: DatabaseSession, registry: DepartmentRegistry
) -> None:
    states = [
        {"symptoms": ["脱屑"], "risk_level": "low"},
        {"chief_complaint": "头皮瘙痒", "symptoms": ["瘙痒", "脱屑"], "risk_level": "critical"},
        {"chief_complaint": "头皮红斑", "symptoms": ["红斑"], "risk_level": "medium"},
    ]
    offsets = [dt.timedelta(hours=2), dt.timedelta(hours=0), dt.timedelta(hours=1)]
    derived = []
    for user_id, order in ((OWNER_ID, [0, 1, 2]), (STRANGER_ID, [2, 0, 1])):
        sessions = [
            make_session(
                db,
                user_id=user_id,
                agent_state=state,
                started_at=DEFAULT_STARTED_AT + offset,
                message_count=index + 2,
                image_positions={0} if index == 1 else set(),
            )
            for index, (state, offset) in enumerate(zip(states, offsets, strict=True))
        ]
        for index in order:
            result = aggregate_session(db, registry, sessions[index])
        derived.append(_derived_fields(load_event(db, result)))

    assert derived[0] == derived[1]
    assert derived[0]["chief_complaint"] == "头皮瘙痒"
    assert derived[0]["risk_level"] == "critical"


def _derived_fields(stored_event: MedicalEvent) -> dict[str, Any]:
    snapshots = stored_event.sessions or []
    return {
        "session_count": stored_event.session_count,
        "chief_complaint": stored_event.chief_complaint,
        "risk_level": stored_event.risk_level,
        "attachment_count": stored_event.attachment_count,
        "start_time": stored_event.start_time,
        "end_time": stored_event.end_time,
        "ai_analysis": stored_event.ai_analysis,
        "snapshot_complaints": [snapshot["chief_complaint"] for snapshot in snapshots],
        "snapshot_times": [snapshot["timestamp"] for snapshot in snapshots],
    }


# 10. JSON column changes persist: the event reloads complete in a fresh database session.


def test_event_json_reloads_in_fresh_session(
    db: DatabaseSession, engine: Engine, registry: DepartmentRegistry
) -> None:
    first = make_session(db, agent_state={"chief_complaint": "面部红肿", "symptoms": ["红肿"]})
    second = make_session(
        db,
        agent_state={"symptoms": ["灼热感"]},
        started_at=DEFAULT_STARTED_AT + dt.timedelta(hours=1),
    )
    session_ids = [first.id, second.id]
    aggregate_session(db, registry, first)
    db.commit()
    result = aggregate_session(db, registry, second)
    db.commit()

    with DatabaseSession(engine) as fresh:
        reloaded = fresh.get(MedicalEvent, result.event_id)
        assert reloaded is not None
        assert [snapshot["session_id"] for snapshot in reloaded.sessions or []] == session_ids
        assert reloaded.session_count == 2
        assert reloaded.ai_analysis is not None
        assert reloaded.ai_analysis["symptoms"] == ["红肿", "灼热感"]


def test_rolled_back_aggregation_leaves_nothing(
    db: DatabaseSession, engine: Engine, registry: DepartmentRegistry
) -> None:
    chat_session = make_session(db)
    db.commit()

    aggregate_session(db, registry, chat_session)
    db.rollback()

    with DatabaseSession(engine) as fresh:
        assert count_rows(fresh, MedicalEvent) == 0


# 11. One aggregation runs a constant number of statements: five, plus BEGIN IMMEDIATE on
#     SQLite, whatever the number of messages (tests/test_aggregation_statements.py covers
#     more sizes).


def test_aggregation_runs_five_statements(
    db: DatabaseSession, engine: Engine, registry: DepartmentRegistry, backend: str
) -> None:
    short = make_session(db, message_count=2)
    long = make_session(db, message_count=60, started_at=DEFAULT_STARTED_AT + dt.timedelta(hours=1))
    identities = [(short.user_id, short.id), (long.user_id, long.id)]
    db.commit()

    counts = []
    for user_id, session_id in identities:
        statements: list[str] = []

        def record(*arguments: Any, statements: list[str] = statements) -> None:
            statements.append(arguments[2])

        event.listen(engine, "before_cursor_execute", record)
        try:
            aggregate(session=db, registry=registry, user_id=user_id, session_id=session_id)
        finally:
            event.remove(engine, "before_cursor_execute", record)
        db.commit()
        counts.append(len(statements))

    expected = 6 if backend == "sqlite" else 5
    assert counts == [expected, expected]
