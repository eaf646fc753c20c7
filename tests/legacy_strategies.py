"""Legacy table content for the migration tests: hypothesis strategies and a fixed sample.

Every generated row carries the result the migration must give it. A valid row carries
the messages it must become, in order. A malformed row has exactly one defect and carries the
quarantine reason that defect must produce, so a test can check each row's fate without
mapping it again. The helpers at the end store content in a database, empty the tables
between examples and read the migration's tables back for comparison.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, cast
from zoneinfo import ZoneInfo

from hypothesis import strategies as st
from sqlalchemy import Engine, Table, delete, insert, inspect, select, text

from medrecord import ChatSession, Message
from medrecord.legacy import DermaSession, DiagnosisSession, ProblemReason, legacy_metadata
from medrecord.models.legacy_migration import (
    LegacyLedgerEntry,
    LegacyMigrationRun,
    LegacyQuarantineEntry,
)
from medrecord.testing.strategies import (
    risk_level_spellings,
    stored_texts,
    symptom_details,
    symptoms_fields,
)

DERMA_TABLE = "derma_sessions"
DIAGNOSIS_TABLE = "diagnosis_sessions"
LEGACY_TABLES = (DERMA_TABLE, DIAGNOSIS_TABLE)
"""The legacy tables in the order the migration reads them (its sources sorted by name)."""

DEPARTMENTS = {DERMA_TABLE: "dermatology", DIAGNOSIS_TABLE: "general"}
"""The department code each legacy table's sessions get."""

LEGACY_TIME_ZONES = ("UTC", "Asia/Shanghai")
"""Zones that the legacy code may have written naive times in. Neither has daylight saving
between 2000 and 2035, so every naive time in that range names one instant."""

_TABLES: dict[str, Table] = {
    DERMA_TABLE: cast(Table, DermaSession.__table__),
    DIAGNOSIS_TABLE: cast(Table, DiagnosisSession.__table__),
}

_COMMON_TASK_TYPES = {
    "text": "text",
    "chat": "text",
    "conversation": "text",
    "image": "image",
    "structured": "structured",
}
TASK_TYPES: dict[str, dict[str, str]] = {
    DERMA_TABLE: {**_COMMON_TASK_TYPES, "skin_analysis": "text", "report_interpretation": "text"},
    DIAGNOSIS_TABLE: dict(_COMMON_TASK_TYPES),
}
"""Legacy task types each table's mapper accepts, and the message type each becomes."""

_MESSAGE_KEYS = frozenset(
    {"role", "content", "timestamp", "task_type", "attachments", "images", "image_url"}
)
"""Keys the mapper reads from a legacy message. It keeps any other key in the message metadata."""

ROLE_SPELLINGS = {
    "user": "user",
    " User ": "user",
    "USER": "user",
    "assistant": "assistant",
    "Assistant": "assistant",
    "ASSISTANT ": "assistant",
}
"""Legacy role spellings and the sender each becomes."""

TIME_STYLES = ("naive", "naive_space", "padded", "utc_z", "plus_eight", "minus_five_thirty")
"""How a legacy message timestamp may be written. Naive styles are local to the legacy zone."""

_EARLIEST = dt.datetime(2000, 1, 1)
_LATEST = dt.datetime(2035, 12, 31)

COMPLAINTS = (
    "手臂起红疹三天，伴瘙痒",
    "面部反复长痘两个月",
    "头痛、发热一天",
    "咳嗽伴咽痛五天",
    "背部出现环形红斑",
    "胸闷气短，活动后加重",
    "itchy rash on both ankles",
)
REPLIES = (
    "请问症状持续多久了？",
    "有没有接触过新的护肤品或药物？",
    "建议到皮肤科门诊进一步检查。",
    "请上传一张清晰的患处照片。",
    "目前考虑湿疹可能性大，注意保湿。",
    "Please describe where the rash started.",
)
USER_TEXTS = ("大概三天了", "没有用过新东西", "晚上更痒", "有点发烧，37.8度", "好的，谢谢医生", "")
SYMPTOMS = ("瘙痒", "红斑", "脱屑", "发热", "头痛", "咳嗽")
IMAGE_URLS = ("https://img.example.invalid/skin/1.jpg", "https://img.example.invalid/skin/2.png")


@dataclass(frozen=True)
class ExpectedMessage:
    """What one valid legacy message must become in ``messages``."""

    sender: str
    content: str
    message_type: str
    attachments: list[Any] | None
    metadata: dict[str, Any] | None
    created_at: dt.datetime


@dataclass(frozen=True)
class LegacyRow:
    """One row of a legacy table and the migration result it must have.

    ``defect`` is the quarantine reason of the row's one defect, or None for a valid row.
    ``raw_text`` contains column values stored as plain text, bypassing JSON encoding and
    date conversion; only SQLite can store such values.
    """

    table: str
    values: dict[str, Any]
    messages: tuple[ExpectedMessage, ...]
    defect: str | None = None
    raw_text: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        """The legacy id, which is also the id of the session the row becomes."""
        return str(self.values["id"])


@dataclass(frozen=True)
class LegacyContent:
    """The rows of both legacy tables and the zone their naive times are in."""

    rows: tuple[LegacyRow, ...]
    legacy_time_zone: str

    def rows_of(self, table: str) -> list[LegacyRow]:
        """Return the rows of one legacy table."""
        return [row for row in self.rows if row.table == table]

    def expected_reasons(self) -> dict[tuple[str, str], str | None]:
        """Map (table, id) to the quarantine reason the row must get, or None if it migrates.

        A row's own defect decides first. Otherwise a diagnosis row whose id a valid derma
        row already took is quarantined, because the derma table is migrated first.
        """
        reasons: dict[tuple[str, str], str | None] = {}
        for table in LEGACY_TABLES:
            for row in self.rows_of(table):
                reason = row.defect
                if reason is None and table == DIAGNOSIS_TABLE:
                    derma_reason = reasons.get((DERMA_TABLE, row.id), "absent")
                    if derma_reason is None:
                        reason = ProblemReason.SESSION_ID_IN_USE.value
                reasons[(table, row.id)] = reason
        return reasons


def format_legacy_time(instant: dt.datetime, style: str, zone: dt.tzinfo) -> str:
    """Write an aware instant as a legacy timestamp string in one of :data:`TIME_STYLES`."""
    local = instant.astimezone(zone).replace(tzinfo=None)
    utc = instant.astimezone(dt.UTC).replace(tzinfo=None)
    if style == "naive":
        return local.isoformat()
    if style == "naive_space":
        return local.isoformat(sep=" ")
    if style == "padded":
        return f" {local.isoformat()}  "
    if style == "utc_z":
        return f"{utc.isoformat()}Z"
    if style == "plus_eight":
        return instant.astimezone(dt.timezone(dt.timedelta(hours=8))).isoformat()
    if style == "minus_five_thirty":
        return instant.astimezone(dt.timezone(-dt.timedelta(hours=5, minutes=30))).isoformat()
    raise ValueError(f"unknown time style {style!r}; expected one of {TIME_STYLES}")


def build_message(
    table: str,
    *,
    role: str,
    content: str | None,
    task_type: str | None,
    image_url: str | None,
    images: list[str] | None,
    extra: Mapping[str, Any],
    instant: dt.datetime,
    time_style: str,
    zone: dt.tzinfo,
) -> tuple[dict[str, Any], ExpectedMessage]:
    """Build one valid legacy message and the ``messages`` row it must become.

    ``content`` may be None only when the message carries an image.
    """
    legacy_message: dict[str, Any] = {
        "role": role,
        "timestamp": format_legacy_time(instant, time_style, zone),
    }
    if content is not None:
        legacy_message["content"] = content
    if task_type is not None:
        legacy_message["task_type"] = task_type
    if images is not None:
        legacy_message["images"] = images
    if image_url is not None:
        legacy_message["image_url"] = image_url
    legacy_message.update(extra)

    attachments = [
        {"type": "image", "url": url}
        for url in [*(images or []), *([image_url] if image_url else [])]
    ]
    message_type = TASK_TYPES[table][task_type] if task_type is not None else "text"
    if attachments and message_type == "text":
        message_type = "image"
    if content is None and not attachments:
        raise ValueError("a legacy message without content needs an image")

    legacy_details: dict[str, Any] = {}
    if task_type is not None:
        legacy_details["task_type"] = task_type
    if extra:
        legacy_details["fields"] = dict(extra)
    expected = ExpectedMessage(
        sender=ROLE_SPELLINGS[role],
        content=content if content is not None else "",
        message_type=message_type,
        attachments=attachments or None,
        metadata={"legacy": legacy_details} if legacy_details else None,
        created_at=instant.astimezone(dt.UTC),
    )
    return legacy_message, expected


def build_row(
    table: str,
    legacy_id: str,
    *,
    user_id: int,
    created_at: dt.datetime | None,
    updated_at: dt.datetime | None,
    state: Mapping[str, Any],
    last_message: str | None,
    messages: Sequence[tuple[dict[str, Any], ExpectedMessage]] | None,
) -> LegacyRow:
    """Build one valid legacy row. With ``messages`` None the messages column is NULL."""
    values: dict[str, Any] = {column.name: None for column in _TABLES[table].columns}
    values.update(state)
    values["id"] = legacy_id
    values["user_id"] = user_id
    values["created_at"] = created_at
    values["updated_at"] = updated_at
    values["current_response" if table == DERMA_TABLE else "current_question"] = last_message
    values["messages"] = None if messages is None else [legacy for legacy, _ in messages]
    expected = tuple(message for _, message in messages or ())
    return LegacyRow(table=table, values=values, messages=expected)


# Defects. Each takes a valid row and returns it with exactly one thing wrong.

_FALLBACK_MESSAGE = {"role": "user", "content": "皮肤痒", "timestamp": "2024-05-01T10:00:00"}


def _break_last_message(
    mutate: Callable[[dict[str, Any]], Any],
) -> Callable[[LegacyRow], LegacyRow]:
    """Return a defect that replaces the row's last message (adding one if it has none)."""

    def apply(row: LegacyRow) -> LegacyRow:
        messages: list[Any] = [dict(message) for message in row.values["messages"] or []]
        if not messages:
            messages.append(dict(_FALLBACK_MESSAGE))
        messages[-1] = mutate(messages[-1])
        return replace(row, values={**row.values, "messages": messages})

    return apply


def _set_value(column: str, value: Any) -> Callable[[LegacyRow], LegacyRow]:
    return lambda row: replace(row, values={**row.values, column: value})


def _set_raw_text(column: str, value: str) -> Callable[[LegacyRow], LegacyRow]:
    return lambda row: replace(row, raw_text={**row.raw_text, column: value})


def _append_earlier_message(row: LegacyRow) -> LegacyRow:
    """Append two messages, the second timestamped a second before the first."""
    messages = list(row.values["messages"] or [])
    messages.append({"role": "user", "content": "还有点痒", "timestamp": "2036-01-01T00:00:00Z"})
    messages.append({"role": "assistant", "content": "明白了", "timestamp": "2035-12-31T23:59:59Z"})
    return replace(row, values={**row.values, "messages": messages})


def _pop(key: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda message: {name: item for name, item in message.items() if name != key}


def _put(key: str, value: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda message: {**message, key: value}


def _invalid_candidates(row: LegacyRow) -> LegacyRow:
    column = "possible_conditions" if row.table == DERMA_TABLE else "possible_diseases"
    return replace(row, values={**row.values, column: [{"name": "湿疹", "probability": 5}]})


@dataclass(frozen=True)
class Defect:
    """One way a legacy row can be malformed, and the quarantine reason it must get."""

    reason: str
    apply: Callable[[LegacyRow], LegacyRow]
    sqlite_only: bool = False
    """True when PostgreSQL cannot store the malformed value (invalid JSON, NUL in text)."""


DEFECTS: dict[str, Defect] = {
    "messages_object": Defect("messages_not_list", _set_value("messages", {"history": []})),
    "messages_text": Defect("messages_not_list", _set_value("messages", "用户说皮肤痒")),
    "messages_number": Defect("messages_not_list", _set_value("messages", 42)),
    "messages_boolean": Defect("messages_not_list", _set_value("messages", True)),
    "role_doctor": Defect("unknown_role", _break_last_message(_put("role", "doctor"))),
    "role_system": Defect("unknown_role", _break_last_message(_put("role", "system"))),
    "role_empty": Defect("unknown_role", _break_last_message(_put("role", ""))),
    "role_missing": Defect("unknown_role", _break_last_message(_pop("role"))),
    "role_number": Defect("unknown_role", _break_last_message(_put("role", 1))),
    "timestamp_unparsable": Defect(
        "invalid_timestamp", _break_last_message(_put("timestamp", "昨天下午三点"))
    ),
    "timestamp_impossible_date": Defect(
        "invalid_timestamp", _break_last_message(_put("timestamp", "2024-13-45T25:00:00"))
    ),
    "timestamp_empty": Defect("invalid_timestamp", _break_last_message(_put("timestamp", ""))),
    "timestamp_missing": Defect("invalid_timestamp", _break_last_message(_pop("timestamp"))),
    "timestamp_epoch_number": Defect(
        "invalid_timestamp", _break_last_message(_put("timestamp", 1714557600))
    ),
    "messages_out_of_order": Defect("messages_out_of_order", _append_earlier_message),
    "message_not_object": Defect(
        "invalid_message", _break_last_message(lambda message: "只是一段文字")
    ),
    "content_number": Defect("invalid_message", _break_last_message(_put("content", 42))),
    "content_nul": Defect("invalid_message", _break_last_message(_put("content", "痒\x00痛"))),
    "attachments_not_list": Defect(
        "invalid_message", _break_last_message(_put("attachments", "photo.jpg"))
    ),
    "task_type_unknown": Defect(
        "unknown_task_type", _break_last_message(_put("task_type", "xray_reading"))
    ),
    "progress_150": Defect("invalid_state", _set_value("progress", 150)),
    "progress_negative": Defect("invalid_state", _set_value("progress", -1)),
    "risk_level_weird": Defect("invalid_state", _set_value("risk_level", "weird")),
    "questions_negative": Defect("invalid_state", _set_value("questions_asked", -3)),
    "symptoms_number": Defect("invalid_state", _set_value("symptoms", 7)),
    "symptom_status_unknown": Defect(
        "invalid_state", _set_value("symptom_details", {"瘙痒": {"status": "maybe"}})
    ),
    "candidate_probability": Defect("invalid_state", _invalid_candidates),
    "created_at_missing": Defect("invalid_session", _set_value("created_at", None)),
    "messages_invalid_json": Defect(
        "invalid_json", _set_raw_text("messages", '[{"role": "user", "content": "痒'), True
    ),
    "created_at_unparsable": Defect(
        "invalid_timestamp", _set_raw_text("created_at", "上周三"), True
    ),
    "updated_at_unparsable": Defect(
        "invalid_timestamp", _set_raw_text("updated_at", "2024-02-30 10:00:00"), True
    ),
    "complaint_nul": Defect("invalid_state", _set_value("chief_complaint", "头痛\x00"), True),
    "last_message_nul": Defect(
        "invalid_session",
        lambda row: replace(
            row,
            values={
                **row.values,
                "current_response" if row.table == DERMA_TABLE else "current_question": "好\x00",
            },
        ),
        True,
    ),
}
"""Every defect kind by name."""

# The diagnosis mapper accepts no dermatology task type, so this is a defect there only.
DIAGNOSIS_ONLY_DEFECTS = {
    "task_type_from_dermatology": Defect(
        "unknown_task_type", _break_last_message(_put("task_type", "skin_analysis"))
    ),
}


def defects_for(table: str, backend: str) -> list[str]:
    """Return the names of the defects a row of ``table`` can have on ``backend``."""
    catalog = {**DEFECTS, **(DIAGNOSIS_ONLY_DEFECTS if table == DIAGNOSIS_TABLE else {})}
    return [
        name for name, defect in catalog.items() if backend == "sqlite" or not defect.sqlite_only
    ]


def with_defect(row: LegacyRow, name: str) -> LegacyRow:
    """Return the row with the named defect and the quarantine reason it must get."""
    defect = DEFECTS.get(name) or DIAGNOSIS_ONLY_DEFECTS[name]
    broken = defect.apply(row)
    return replace(broken, defect=defect.reason, messages=())


# Hypothesis strategies.


def legacy_texts(max_size: int = 40) -> st.SearchStrategy[str]:
    """Generate legacy text: Chinese phrases or any unicode text without NUL."""
    phrases = [phrase[:max_size] for phrase in (*COMPLAINTS, *REPLIES, *USER_TEXTS)]
    return st.one_of(st.sampled_from(phrases), stored_texts(max_size=max_size))


def json_values() -> st.SearchStrategy[Any]:
    """Generate JSON values, floats of every size included.

    JSONB gives 1e16 back as the integer 10000000000000000 and -0.0 as 0.0; the values
    stay equal in Python, and the migration's checksums read them alike.
    """
    floats = st.floats(allow_nan=False, allow_infinity=False)
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**63), max_value=2**63),
        floats,
        legacy_texts(max_size=20),
    )
    return st.recursive(
        scalars,
        lambda children: st.one_of(
            st.lists(children, max_size=3),
            st.dictionaries(stored_texts(max_size=8), children, max_size=3),
        ),
        max_leaves=6,
    )


@st.composite
def legacy_ids(draw: st.DrawFn) -> str:
    """Generate legacy ids: UUIDs, short or any unicode text up to 36 characters, or blanks.

    One id in ten is blank, which is itself a defect: the row is quarantined as
    ``invalid_session``.
    """
    if draw(st.integers(min_value=0, max_value=9)) == 9:
        return draw(st.sampled_from((" ", "\t", "\u3000", "  ")))
    return draw(
        st.one_of(
            st.uuids().map(str),
            st.sampled_from(("d1", "g1", "a", "Z", "00000000-0000-0000-0000-000000000000")),
            stored_texts(min_size=1, max_size=36).filter(lambda text: text.strip() != ""),
        )
    )


def naive_datetimes() -> st.SearchStrategy[dt.datetime]:
    """Generate naive datetimes between 2000 and 2035, with microseconds."""
    return st.datetimes(min_value=_EARLIEST, max_value=_LATEST)


def _optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


def _candidates() -> st.SearchStrategy[list[Any]]:
    names = legacy_texts(max_size=12).filter(lambda name: name != "")
    detailed = st.fixed_dictionaries(
        {"name": names},
        optional={
            "probability": st.one_of(
                st.floats(min_value=0, max_value=1), st.sampled_from(("70%", "5%"))
            )
        },
    )
    return st.lists(st.one_of(names, detailed), max_size=3)


def _skin_analyses() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {},
        optional={
            "image_url": st.sampled_from(IMAGE_URLS),
            "conditions": st.lists(legacy_texts(max_size=10), max_size=3),
            "confidence": st.floats(min_value=0, max_value=1),
            "note": legacy_texts(),
        },
    )


def _objects() -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(stored_texts(min_size=1, max_size=10), json_values(), max_size=3)


def state_values(table: str) -> st.SearchStrategy[dict[str, Any]]:
    """Generate valid state columns of a legacy table: any subset, in legacy spellings."""
    common: dict[str, st.SearchStrategy[Any]] = {
        "stage": st.one_of(
            st.sampled_from(("greeting", "collecting", "completed", "问诊中")),
            stored_texts(max_size=20),
        ),
        "progress": st.integers(min_value=0, max_value=100),
        "questions_asked": st.integers(min_value=0, max_value=60),
        "chief_complaint": legacy_texts(),
        "symptoms": symptoms_fields(),
        "symptom_details": symptom_details(),
        "risk_level": st.one_of(st.just(""), risk_level_spellings().filter(lambda s: len(s) <= 20)),
    }
    if table == DERMA_TABLE:
        specific: dict[str, st.SearchStrategy[Any]] = {
            "skin_location": legacy_texts(max_size=100),
            "duration": legacy_texts(max_size=100),
            "skin_analyses": st.lists(_skin_analyses(), max_size=2),
            "latest_analysis": _skin_analyses(),
            "report_interpretations": st.lists(_objects(), max_size=2),
            "latest_interpretation": _objects(),
            "possible_conditions": _candidates(),
            "care_advice": legacy_texts(),
            "need_offline_visit": st.booleans(),
            "current_task": legacy_texts(max_size=50),
            "awaiting_image": st.booleans(),
        }
    else:
        specific = {
            "possible_diseases": _candidates(),
            "recommendations": st.one_of(
                legacy_texts(),
                st.fixed_dictionaries(
                    {},
                    optional={
                        "department": legacy_texts(max_size=10),
                        "advice": legacy_texts(),
                        "tests": st.lists(legacy_texts(max_size=10), max_size=2),
                    },
                ),
            ),
            "can_conclude": st.booleans(),
            "reasoning": legacy_texts(),
        }
    return st.fixed_dictionaries({}, optional={**common, **specific})


def _message_extras() -> st.SearchStrategy[dict[str, Any]]:
    keys = st.one_of(
        st.sampled_from(("msg_id", "structured_data", "confidence", "来源")),
        stored_texts(min_size=1, max_size=10),
    ).filter(lambda key: key not in _MESSAGE_KEYS)
    return st.dictionaries(keys, json_values(), max_size=2)


@st.composite
def legacy_messages(
    draw: st.DrawFn, table: str, zone: dt.tzinfo, start: dt.datetime
) -> list[tuple[dict[str, Any], ExpectedMessage]]:
    """Generate the valid messages of one legacy row, timestamped in non-decreasing order.

    Equal timestamps are frequent, so ties must keep their legacy order too.
    """
    count = draw(st.integers(min_value=0, max_value=6))
    instant = start
    messages = []
    for _ in range(count):
        step = draw(st.sampled_from((0, 0, 1, 59, 3600)))
        instant += dt.timedelta(
            seconds=step, microseconds=draw(st.integers(0, 999_999)) if step else 0
        )
        image_url = draw(_optional(st.sampled_from(IMAGE_URLS)))
        images = draw(_optional(st.lists(st.sampled_from(IMAGE_URLS), max_size=2)))
        has_image = image_url is not None or bool(images)
        content = draw(
            st.one_of(legacy_texts(max_size=60), st.none())
            if has_image
            else legacy_texts(max_size=60)
        )
        messages.append(
            build_message(
                table,
                role=draw(st.sampled_from(sorted(ROLE_SPELLINGS))),
                content=content,
                task_type=draw(_optional(st.sampled_from(sorted(TASK_TYPES[table])))),
                image_url=image_url,
                images=images,
                extra=draw(_message_extras()),
                instant=instant,
                time_style=draw(st.sampled_from(TIME_STYLES)),
                zone=zone,
            )
        )
    return messages


@st.composite
def legacy_rows(
    draw: st.DrawFn, table: str, legacy_id: str, zone_name: str, backend: str
) -> LegacyRow:
    """Generate one row of ``table``: valid, or with one defect that ``backend`` can store."""
    zone = ZoneInfo(zone_name)
    created_at = draw(naive_datetimes())
    start = draw(naive_datetimes()).replace(tzinfo=zone).astimezone(dt.UTC)
    messages = draw(_optional(legacy_messages(table, zone, start)))
    row = build_row(
        table,
        legacy_id,
        user_id=draw(st.integers(min_value=1, max_value=2**31 - 1)),
        created_at=created_at,
        updated_at=draw(_optional(naive_datetimes())),
        state=draw(state_values(table)),
        last_message=draw(_optional(legacy_texts())),
        messages=messages,
    )
    if not legacy_id.strip():
        return replace(row, defect=ProblemReason.INVALID_SESSION.value, messages=())

    defect = draw(st.one_of(st.none(), st.sampled_from(defects_for(table, backend))))
    return row if defect is None else with_defect(row, defect)


@st.composite
def legacy_contents(draw: st.DrawFn, backend: str) -> LegacyContent:
    """Generate the content of both legacy tables, with ids that both tables may use."""
    zone_name = draw(st.sampled_from(LEGACY_TIME_ZONES))
    ids = draw(st.lists(legacy_ids(), max_size=10, unique=True))
    rows = []
    for legacy_id in ids:
        placement = draw(st.sampled_from(("both", DERMA_TABLE, DIAGNOSIS_TABLE)))
        for table in LEGACY_TABLES:
            if placement in ("both", table):
                rows.append(draw(legacy_rows(table, legacy_id, zone_name, backend)))
    return LegacyContent(rows=tuple(rows), legacy_time_zone=zone_name)


# A fixed sample for tests that need the same content every time.


def sample_legacy_content(
    backend: str,
    *,
    derma_count: int = 180,
    diagnosis_count: int = 120,
    shared_ids: int = 20,
    seed: int = 20240501,
) -> LegacyContent:
    """Build realistic legacy content with malformed rows, shared ids and one long chat.

    Every ninth row of each table has a defect, cycling through those ``backend`` can
    store. The first ``shared_ids`` diagnosis rows reuse derma ids, valid and malformed.
    """
    rng = random.Random(seed)
    zone_name = "Asia/Shanghai"
    zone = ZoneInfo(zone_name)
    rows: list[LegacyRow] = []
    derma_ids: list[str] = []

    for table, count in ((DERMA_TABLE, derma_count), (DIAGNOSIS_TABLE, diagnosis_count)):
        defects = defects_for(table, backend)
        for index in range(count):
            if table == DIAGNOSIS_TABLE and index < shared_ids:
                # Derma rows 0, 4, 8 and so on, which include the malformed rows 4, 40 and 76.
                legacy_id = derma_ids[index * 4 % len(derma_ids)]
            else:
                legacy_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            if table == DERMA_TABLE:
                derma_ids.append(legacy_id)

            message_count = 80 if index == 7 else rng.choice((0, 1, 2, 4, 6, 9, 12))
            row = _sample_row(rng, table, legacy_id, zone, message_count)
            if index % 9 == 4:
                row = with_defect(row, defects[index // 9 % len(defects)])
            rows.append(row)

    return LegacyContent(rows=tuple(rows), legacy_time_zone=zone_name)


def _sample_row(
    rng: random.Random, table: str, legacy_id: str, zone: dt.tzinfo, message_count: int
) -> LegacyRow:
    created_at = dt.datetime(2023, 1, 1) + dt.timedelta(minutes=rng.randrange(600_000))
    instant = created_at.replace(tzinfo=zone).astimezone(dt.UTC)
    messages = []
    for position in range(message_count):
        instant += dt.timedelta(seconds=rng.choice((0, 5, 30, 90)))
        is_user = position % 2 == 0
        image_url = rng.choice(IMAGE_URLS) if is_user and rng.random() < 0.15 else None
        if is_user:
            content = rng.choice(COMPLAINTS) if position == 0 else rng.choice(USER_TEXTS)
        else:
            content = rng.choice(REPLIES)
        task_type = rng.choice(
            (None, "conversation", "skin_analysis" if table == DERMA_TABLE else "chat")
        )
        messages.append(
            build_message(
                table,
                role="user" if is_user else rng.choice(("assistant", "Assistant")),
                content=None if image_url and rng.random() < 0.5 else content,
                task_type=task_type,
                image_url=image_url,
                images=None,
                extra={"msg_id": position} if rng.random() < 0.2 else {},
                instant=instant,
                time_style=rng.choice(TIME_STYLES),
                zone=zone,
            )
        )

    symptoms = rng.sample(SYMPTOMS, rng.randrange(0, 3))
    state: dict[str, Any] = {
        "stage": rng.choice(("collecting", "analyzing", "completed")),
        "progress": rng.randrange(0, 101),
        "questions_asked": rng.randrange(0, 9),
        "chief_complaint": rng.choice(COMPLAINTS),
        "symptoms": symptoms,
        "symptom_details": {name: {"duration": "3天", "status": "有"} for name in symptoms},
        "risk_level": rng.choice((None, "中", "Medium", "high", "低")),
    }
    if table == DERMA_TABLE:
        state["skin_location"] = rng.choice(("手臂", "面部", "背部"))
        state["possible_conditions"] = [{"name": "湿疹", "probability": 0.6}, "荨麻疹"]
        state["need_offline_visit"] = rng.random() < 0.3
    else:
        state["possible_diseases"] = ["上呼吸道感染"]
        state["recommendations"] = {"department": "呼吸科", "advice": "多喝水，注意休息"}
    return build_row(
        table,
        legacy_id,
        user_id=rng.randrange(1, 500),
        created_at=created_at,
        updated_at=created_at + dt.timedelta(minutes=30) if rng.random() < 0.7 else None,
        state=state,
        last_message=rng.choice(REPLIES),
        messages=None if message_count == 0 and rng.random() < 0.5 else messages,
    )


# Database helpers.

_SESSIONS = cast(Table, ChatSession.__table__)
_MESSAGES = cast(Table, Message.__table__)
_LEDGER = cast(Table, LegacyLedgerEntry.__table__)
_QUARANTINE = cast(Table, LegacyQuarantineEntry.__table__)
_RUNS = cast(Table, LegacyMigrationRun.__table__)


def store_content(engine: Engine, content: LegacyContent) -> None:
    """Create the legacy tables if needed and insert the content's rows."""
    legacy_metadata.create_all(engine)
    with engine.begin() as connection:
        for table in LEGACY_TABLES:
            rows = content.rows_of(table)
            if rows:
                connection.execute(insert(_TABLES[table]), [row.values for row in rows])
            for row in rows:
                for column, raw in row.raw_text.items():
                    connection.execute(
                        text(f"UPDATE {table} SET {column} = :raw WHERE id = :id"),
                        {"raw": raw, "id": row.id},
                    )


def empty_migration_tables(engine: Engine, *, legacy: bool) -> None:
    """Delete the rows the migration writes, and with ``legacy`` the legacy rows too."""
    existing = set(inspect(engine).get_table_names())
    with engine.begin() as connection:
        for table in (_MESSAGES, _SESSIONS, _LEDGER, _QUARANTINE, _RUNS):
            connection.execute(delete(table))
        if legacy:
            for name in LEGACY_TABLES:
                if name in existing:
                    connection.execute(delete(_TABLES[name]))


def legacy_snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Read every legacy row as stored, in id order.

    SQLite returns JSON and times as their stored text. On PostgreSQL each row is read as
    its text literal, so that a change to the spacing or key order of a JSON value shows.
    """
    snapshot = {}
    with engine.connect() as connection:
        for name in LEGACY_TABLES:
            if engine.dialect.name == "postgresql":
                query = f"SELECT CAST(legacy AS TEXT) FROM {name} AS legacy ORDER BY id"
            else:
                query = f"SELECT * FROM {name} ORDER BY id"
            snapshot[name] = [tuple(row) for row in connection.execute(text(query))]
    return snapshot


@dataclass(frozen=True)
class UnifiedSnapshot:
    """The migration's tables without run ids, write times and message ids."""

    sessions: list[dict[str, Any]]
    messages: list[dict[str, Any]]
    ledger: list[dict[str, Any]]
    quarantine: list[dict[str, Any]]


def unified_snapshot(engine: Engine) -> UnifiedSnapshot:
    """Read sessions, messages (in order per session), ledger and quarantine."""
    message_columns = [column for column in _MESSAGES.c if column.name != "id"]
    ledger_columns = [c for c in _LEDGER.c if c.name not in ("run_id", "migrated_at")]
    quarantine_columns = [c for c in _QUARANTINE.c if c.name not in ("run_id", "recorded_at")]
    with engine.connect() as connection:

        def read(statement: Any) -> list[dict[str, Any]]:
            return [dict(row) for row in connection.execute(statement).mappings()]

        return UnifiedSnapshot(
            sessions=read(select(_SESSIONS).order_by(_SESSIONS.c.id)),
            messages=read(
                select(*message_columns).order_by(
                    _MESSAGES.c.session_id, _MESSAGES.c.created_at, _MESSAGES.c.id
                )
            ),
            ledger=read(
                select(*ledger_columns).order_by(_LEDGER.c.legacy_table, _LEDGER.c.legacy_id)
            ),
            quarantine=read(
                select(*quarantine_columns).order_by(
                    _QUARANTINE.c.legacy_table, _QUARANTINE.c.legacy_id
                )
            ),
        )


def read_messages(engine: Engine, session_id: str) -> list[dict[str, Any]]:
    """Read one session's messages ordered by (created_at, id), as the library reads them."""
    statement = (
        select(_MESSAGES)
        .where(_MESSAGES.c.session_id == session_id)
        .order_by(_MESSAGES.c.created_at, _MESSAGES.c.id)
    )
    with engine.connect() as connection:
        return [dict(row) for row in connection.execute(statement).mappings()]
