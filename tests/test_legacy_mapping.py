"""Unit tests for reading legacy times and mapping one legacy row, without a database."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from medrecord_departments.dermatology.legacy import DERMA_SESSIONS_MAPPER
from medrecord_departments.general.legacy import DIAGNOSIS_SESSIONS_MAPPER

from medrecord import DepartmentRegistry
from medrecord.errors import LegacyRowError
from medrecord.legacy import LegacyMapper, MappedSession, read_legacy_time
from medrecord.legacy.encoding import encode_session
from tests.legacy_factories import LEGACY_START, derma_row, diagnosis_row, legacy_message

UTC = dt.UTC
SHANGHAI = ZoneInfo("Asia/Shanghai")


def map_derma(registry: DepartmentRegistry, row: dict[str, Any]) -> MappedSession:
    return DERMA_SESSIONS_MAPPER.map_row(
        row, department=registry.departments["dermatology"], legacy_time_zone=UTC
    )


def map_diagnosis(registry: DepartmentRegistry, row: dict[str, Any]) -> MappedSession:
    return DIAGNOSIS_SESSIONS_MAPPER.map_row(
        row, department=registry.departments["general"], legacy_time_zone=UTC
    )


def derma_problem(registry: DepartmentRegistry, row: dict[str, Any]) -> LegacyRowError:
    """Map a derma row that must fail; return the error."""
    with pytest.raises(LegacyRowError) as caught:
        map_derma(registry, row)
    return caught.value


def one_message(**fields: Any) -> dict[str, Any]:
    """Return a derma row with one user message; ``fields`` replace the message's keys."""
    message = {**legacy_message("user", "脸上起了红点", LEGACY_START), **fields}
    return derma_row("row-1", messages=[message])


# read_legacy_time


@pytest.mark.parametrize(
    ("value", "zone", "expected"),
    [
        pytest.param(
            "2024-05-01T10:00:00", SHANGHAI, dt.datetime(2024, 5, 1, 2, tzinfo=UTC), id="naive"
        ),
        pytest.param(
            "2024-05-01T10:00:00", UTC, dt.datetime(2024, 5, 1, 10, tzinfo=UTC), id="naive-utc"
        ),
        pytest.param(
            "2024-05-01T10:00:00Z", SHANGHAI, dt.datetime(2024, 5, 1, 10, tzinfo=UTC), id="z"
        ),
        pytest.param(
            "2024-05-01T10:00:00+08:00",
            UTC,
            dt.datetime(2024, 5, 1, 2, tzinfo=UTC),
            id="offset",
        ),
        pytest.param(
            "2024-05-01 10:00:00.250000",
            UTC,
            dt.datetime(2024, 5, 1, 10, 0, 0, 250000, tzinfo=UTC),
            id="space-and-fraction",
        ),
        pytest.param(
            " 2024-05-01T10:00:00 ", UTC, dt.datetime(2024, 5, 1, 10, tzinfo=UTC), id="whitespace"
        ),
        pytest.param(
            dt.datetime(2024, 5, 1, 10), SHANGHAI, dt.datetime(2024, 5, 1, 2, tzinfo=UTC), id="dt"
        ),
        pytest.param(
            dt.datetime(2024, 5, 1, 10, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
            SHANGHAI,
            dt.datetime(2024, 5, 1, 15, tzinfo=UTC),
            id="aware-dt",
        ),
        pytest.param(
            "2024-07-01T12:00:00",
            ZoneInfo("America/New_York"),
            dt.datetime(2024, 7, 1, 16, tzinfo=UTC),
            id="summer-time",
        ),
    ],
)
def test_read_legacy_time(value: Any, zone: dt.tzinfo, expected: dt.datetime) -> None:
    result = read_legacy_time(value, zone)

    assert result == expected
    assert result.tzinfo is UTC


@pytest.mark.parametrize("value", ["昨天下午", "", "2024-13-01T00:00:00", "1714528800"])
def test_read_legacy_time_names_bad_text(value: str) -> None:
    with pytest.raises(ValueError, match="invalid time") as caught:
        read_legacy_time(value, UTC)

    assert repr(value) in str(caught.value)


@pytest.mark.parametrize(
    ("value", "kind"),
    [(1714528800, "number"), (1714528800.5, "number"), (None, "null"), (True, "boolean")],
)
def test_read_legacy_time_rejects_non_text(value: Any, kind: str) -> None:
    with pytest.raises(ValueError, match=f"got a {kind}"):
        read_legacy_time(value, UTC)


# Roles and message types


@pytest.mark.parametrize(
    ("role", "sender"),
    [
        ("user", "user"),
        (" User ", "user"),
        ("ASSISTANT", "assistant"),
        ("Assistant\n", "assistant"),
    ],
)
def test_role_case_and_whitespace(
    installed_registry: DepartmentRegistry, role: str, sender: str
) -> None:
    session = map_derma(installed_registry, one_message(role=role))

    assert session.messages[0].sender == sender


@pytest.mark.parametrize(
    ("role", "shown"),
    [("doctor", "'doctor'"), ("system", "'system'"), ("", "''"), (None, "None"), (1, "a number")],
)
def test_unknown_role(installed_registry: DepartmentRegistry, role: Any, shown: str) -> None:
    error = derma_problem(installed_registry, one_message(role=role))

    assert error.reason == "unknown_role"
    assert error.legacy_id == "row-1"
    assert error.legacy_table == "derma_sessions"
    assert f"message 0 has role {shown}" in error.detail


def test_missing_task_type_is_text(installed_registry: DepartmentRegistry) -> None:
    message = map_derma(installed_registry, one_message()).messages[0]

    assert message.message_type == "text"
    assert message.attachments is None
    assert "task_type" not in ((message.metadata or {}).get("legacy") or {})


@pytest.mark.parametrize(
    ("task_type", "message_type"),
    [
        ("text", "text"),
        ("chat", "text"),
        ("conversation", "text"),
        ("image", "image"),
        ("structured", "structured"),
        ("skin_analysis", "text"),
        ("report_interpretation", "text"),
    ],
)
def test_derma_task_types(
    installed_registry: DepartmentRegistry, task_type: str, message_type: str
) -> None:
    message = map_derma(installed_registry, one_message(task_type=task_type)).messages[0]

    assert message.message_type == message_type
    assert (message.metadata or {})["legacy"]["task_type"] == task_type


@pytest.mark.parametrize("task_type", ["skin_analysis", "ecg", 5])
def test_diagnosis_unknown_task_type(
    installed_registry: DepartmentRegistry, task_type: Any
) -> None:
    message = {**legacy_message("user", "头痛", LEGACY_START), "task_type": task_type}

    with pytest.raises(LegacyRowError) as caught:
        map_diagnosis(installed_registry, diagnosis_row("row-2", messages=[message]))

    assert caught.value.reason == "unknown_task_type"
    assert "known task types: 'chat', 'conversation', 'image'" in caught.value.detail
    assert "skin_analysis'" not in caught.value.detail.split("known task types")[1]


# Images and content


IMAGE = "https://img.example.invalid/a.jpg"


@pytest.mark.parametrize(
    ("fields", "attachments"),
    [
        pytest.param({"image_url": IMAGE}, [{"type": "image", "url": IMAGE}], id="image_url"),
        pytest.param(
            {"images": [IMAGE, {"type": "image", "url": IMAGE, "width": 64}]},
            [{"type": "image", "url": IMAGE}, {"type": "image", "url": IMAGE, "width": 64}],
            id="images",
        ),
        pytest.param(
            {"attachments": [{"type": "image", "url": IMAGE}]},
            [{"type": "image", "url": IMAGE}],
            id="attachments",
        ),
        pytest.param(
            {"attachments": [{"type": "file", "url": "f"}], "images": ["b"], "image_url": "c"},
            [
                {"type": "file", "url": "f"},
                {"type": "image", "url": "b"},
                {"type": "image", "url": "c"},
            ],
            id="all-three",
        ),
    ],
)
def test_images_make_image_message(
    installed_registry: DepartmentRegistry, fields: dict[str, Any], attachments: list[Any]
) -> None:
    message = map_derma(installed_registry, one_message(**fields)).messages[0]

    assert message.message_type == "image"
    assert message.attachments == attachments


def test_image_with_text_task_type_is_image(installed_registry: DepartmentRegistry) -> None:
    message = map_derma(
        installed_registry, one_message(task_type="skin_analysis", image_url=IMAGE)
    ).messages[0]

    assert message.message_type == "image"


def test_structured_message_keeps_type_with_image(installed_registry: DepartmentRegistry) -> None:
    message = map_derma(
        installed_registry, one_message(task_type="structured", image_url=IMAGE)
    ).messages[0]

    assert message.message_type == "structured"
    assert message.attachments == [{"type": "image", "url": IMAGE}]


def test_empty_image_list_is_text(installed_registry: DepartmentRegistry) -> None:
    message = map_derma(installed_registry, one_message(images=[], attachments=[])).messages[0]

    assert message.message_type == "text"
    assert message.attachments is None


def test_no_content_with_image_is_empty_text(installed_registry: DepartmentRegistry) -> None:
    message = map_derma(installed_registry, one_message(content=None, image_url=IMAGE)).messages[0]

    assert message.content == ""
    assert message.message_type == "image"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param({"content": None}, "content of kind null", id="no-content"),
        pytest.param({"content": ["红点"]}, "content of kind array", id="content-list"),
        pytest.param({"images": IMAGE}, "images of kind string", id="images-text"),
        pytest.param({"image_url": [IMAGE]}, "image_url of kind array", id="url-list"),
        pytest.param({"attachments": {"url": IMAGE}}, "attachments of kind object", id="object"),
    ],
)
def test_invalid_message_fields(
    installed_registry: DepartmentRegistry, fields: dict[str, Any], expected: str
) -> None:
    error = derma_problem(installed_registry, one_message(**fields))

    assert error.reason == "invalid_message"
    assert expected in error.detail


def test_message_not_object(installed_registry: DepartmentRegistry) -> None:
    error = derma_problem(installed_registry, derma_row("row-1", messages=["红点"]))

    assert error.reason == "invalid_message"
    assert "message 0 is a JSON string" in error.detail


def test_extra_message_fields_kept(installed_registry: DepartmentRegistry) -> None:
    message = map_derma(
        installed_registry, one_message(task_type="chat", analysis_id="a-1", score=0.5)
    ).messages[0]

    assert message.metadata == {
        "legacy": {"task_type": "chat", "fields": {"analysis_id": "a-1", "score": 0.5}}
    }


# NUL characters, which PostgreSQL cannot store


def test_nul_in_last_message(installed_registry: DepartmentRegistry) -> None:
    error = derma_problem(installed_registry, derma_row("row-1", current_response="好\x00"))

    assert error.reason == "invalid_session"
    assert "current_response contains a NUL character" in error.detail


def test_nul_in_message_content(installed_registry: DepartmentRegistry) -> None:
    session = map_derma(installed_registry, one_message(content="红\x00点"))

    with pytest.raises(LegacyRowError) as caught:
        encode_session(session, "derma_sessions")

    assert caught.value.reason == "invalid_message"
    assert "message 0 contains a NUL character" in caught.value.detail


def test_nul_in_attachment(installed_registry: DepartmentRegistry) -> None:
    session = map_derma(installed_registry, one_message(image_url="https://x/\x00.jpg"))

    with pytest.raises(LegacyRowError) as caught:
        encode_session(session, "derma_sessions")

    assert caught.value.reason == "invalid_message"


def test_nul_in_state(installed_registry: DepartmentRegistry) -> None:
    session = map_derma(installed_registry, derma_row("row-1", chief_complaint="痒\x00"))

    with pytest.raises(LegacyRowError) as caught:
        encode_session(session, "derma_sessions")

    assert caught.value.reason == "invalid_state"


def test_escaped_nul_text_is_not_nul(installed_registry: DepartmentRegistry) -> None:
    # A backslash followed by "u0000" is ordinary text, not a NUL character.
    session = map_derma(installed_registry, one_message(content="路径 C:\\u0000"))

    encoded = encode_session(session, "derma_sessions")

    assert encoded.messages[0].content == "路径 C:\\u0000"


# Session fields


def test_id_longer_than_session_id(installed_registry: DepartmentRegistry) -> None:
    long_id = "x" * 37

    error = derma_problem(installed_registry, derma_row(long_id))

    assert error.reason == "invalid_session"
    assert "37 characters" in error.detail
    assert error.legacy_id == long_id


def test_id_of_36_characters_accepted(installed_registry: DepartmentRegistry) -> None:
    session = map_derma(installed_registry, derma_row("y" * 36))

    assert session.id == "y" * 36


@pytest.mark.parametrize("row_id", ["", "   ", None, 12])
def test_invalid_id(installed_registry: DepartmentRegistry, row_id: Any) -> None:
    error = derma_problem(installed_registry, derma_row(row_id))

    assert error.reason == "invalid_session"
    assert "the id is empty or not text" in error.detail


@pytest.mark.parametrize("user_id", [True, False, "7", None, 7.0])
def test_invalid_user_id(installed_registry: DepartmentRegistry, user_id: Any) -> None:
    error = derma_problem(installed_registry, derma_row("row-1", user_id=user_id))

    assert error.reason == "invalid_session"
    assert "user_id" in error.detail


def test_missing_created_at(installed_registry: DepartmentRegistry) -> None:
    error = derma_problem(installed_registry, derma_row("row-1", created_at=None))

    assert error.reason == "invalid_session"
    assert "created_at" in error.detail


def test_unparsable_created_at(installed_registry: DepartmentRegistry) -> None:
    error = derma_problem(installed_registry, derma_row("row-1", created_at="上周"))

    assert error.reason == "invalid_timestamp"
    assert error.detail.startswith("created_at:")


def test_missing_updated_at_is_last_message(installed_registry: DepartmentRegistry) -> None:
    messages = [
        legacy_message("user", "痒", LEGACY_START),
        legacy_message("assistant", "多久了？", LEGACY_START + dt.timedelta(minutes=7)),
    ]

    session = map_derma(installed_registry, derma_row("row-1", updated_at=None, messages=messages))

    assert session.updated_at == dt.datetime(2024, 5, 1, 2, 7, tzinfo=UTC)


@pytest.mark.parametrize(
    "messages",
    [
        pytest.param([], id="no-messages"),
        pytest.param(None, id="null"),
        pytest.param(
            [legacy_message("user", "痒", LEGACY_START - dt.timedelta(hours=1))],
            id="message-before-start",
        ),
    ],
)
def test_missing_updated_at_is_start(
    installed_registry: DepartmentRegistry, messages: list[dict[str, Any]] | None
) -> None:
    session = map_derma(installed_registry, derma_row("row-1", updated_at=None, messages=messages))

    assert session.updated_at == dt.datetime(2024, 5, 1, 2, tzinfo=UTC)


def test_updated_at_read_in_legacy_zone(installed_registry: DepartmentRegistry) -> None:
    session = DERMA_SESSIONS_MAPPER.map_row(
        derma_row("row-1", updated_at=dt.datetime(2024, 5, 1, 10)),
        department=installed_registry.departments["dermatology"],
        legacy_time_zone=SHANGHAI,
    )

    assert session.updated_at == dt.datetime(2024, 5, 1, 2, tzinfo=UTC)
    assert session.created_at == dt.datetime(2024, 4, 30, 18, tzinfo=UTC)


@pytest.mark.parametrize(
    ("stage", "status"),
    [
        ("completed", "completed"),
        ("collecting", "active"),
        ("analyzing", "active"),
        ("greeting", "active"),
        (None, "active"),
    ],
)
def test_stage_sets_status(
    installed_registry: DepartmentRegistry, stage: str | None, status: str
) -> None:
    session = map_derma(installed_registry, derma_row("row-1", stage=stage))

    assert session.status == status


def test_completed_stages_configurable(installed_registry: DepartmentRegistry) -> None:
    mapper = LegacyMapper(
        name="derma",
        table=DERMA_SESSIONS_MAPPER.table,
        department="dermatology",
        state_columns=("stage",),
        completed_stages=frozenset({"completed", "closed"}),
    )

    session = mapper.map_row(
        derma_row("row-1", stage="closed"),
        department=installed_registry.departments["dermatology"],
        legacy_time_zone=UTC,
    )

    assert session.status == "completed"
    assert session.agent_state == {"stage": "closed"}
    assert session.last_message is None


def test_last_message_columns(installed_registry: DepartmentRegistry) -> None:
    derma = map_derma(installed_registry, derma_row("row-1", current_response="请拍照"))
    diagnosis = map_diagnosis(installed_registry, diagnosis_row("row-2", current_question="发烧吗"))

    assert derma.last_message == "请拍照"
    assert diagnosis.last_message == "发烧吗"
    assert derma.agent_type == "dermatology"
    assert diagnosis.agent_type == "general"


# State


def test_state_normalized_without_empty_columns(installed_registry: DepartmentRegistry) -> None:
    row = derma_row(
        "row-1",
        risk_level="中等",
        symptoms="红疹，瘙痒",
        care_advice=None,
        latest_analysis=None,
        progress="80%",
    )

    session = map_derma(installed_registry, row)

    assert session.agent_state["risk_level"] == "medium"
    assert session.agent_state["symptoms"] == ["红疹", "瘙痒"]
    assert session.agent_state["progress"] == 80
    assert "care_advice" not in session.agent_state
    assert "latest_analysis" not in session.agent_state
    assert "current_response" not in session.agent_state
    assert "messages" not in session.agent_state


def test_invalid_state_names_field_not_value(installed_registry: DepartmentRegistry) -> None:
    error = derma_problem(installed_registry, derma_row("row-1", progress="隐私数值"))

    assert error.reason == "invalid_state"
    assert "progress" in error.detail
    assert "隐私数值" not in error.detail


def test_invalid_state_lists_first_errors(installed_registry: DepartmentRegistry) -> None:
    row = derma_row(
        "row-1", progress=500, questions_asked=-1, risk_level="说不清", need_offline_visit="也许"
    )

    error = derma_problem(installed_registry, row)

    assert error.reason == "invalid_state"
    assert "and 1 more" in error.detail


# Message order


def test_messages_out_of_order(installed_registry: DepartmentRegistry) -> None:
    messages = [
        legacy_message("user", "一", "2024-05-01T10:00:00+08:00"),
        legacy_message("assistant", "二", "2024-05-01T01:59:59Z"),
    ]

    error = derma_problem(installed_registry, derma_row("row-1", messages=messages))

    assert error.reason == "messages_out_of_order"
    assert "message 1 is timestamped before message 0" in error.detail


def test_equal_times_keep_list_order(installed_registry: DepartmentRegistry) -> None:
    messages = [
        legacy_message("user", "一", "2024-05-01T10:00:00+08:00"),
        legacy_message("assistant", "二", "2024-05-01T02:00:00Z"),
        legacy_message("user", "三", "2024-05-01T02:00:00"),
    ]

    session = map_derma(installed_registry, derma_row("row-1", messages=messages))

    assert [message.content for message in session.messages] == ["一", "二", "三"]


def test_missing_message_timestamp(installed_registry: DepartmentRegistry) -> None:
    messages = [
        legacy_message("user", "一", LEGACY_START),
        {"role": "assistant", "content": "二"},
    ]

    error = derma_problem(installed_registry, derma_row("row-1", messages=messages))

    assert error.reason == "invalid_timestamp"
    assert error.detail.startswith("message 1: timestamp:")


@pytest.mark.parametrize("messages", [{"0": "a"}, "一段话", 3])
def test_messages_not_list(installed_registry: DepartmentRegistry, messages: Any) -> None:
    error = derma_problem(installed_registry, derma_row("row-1", messages=messages))

    assert error.reason == "messages_not_list"
