"""Realistic rows of the legacy ``derma_sessions`` and ``diagnosis_sessions`` tables, and
helpers that create, fill, read and drop those tables on a test database.

The rows look like what the legacy intake agents wrote. They have Chinese chat text, images
as ``image_url``, ``images`` or ``attachments``, chats of several hundred messages and every
stage from greeting to completed. Message times come both without an offset, because the
legacy code wrote naive UTC, and with one. Session times are naive, as the legacy
``DateTime`` columns store them.

The conftest fixtures empty only the tables of ``medrecord.Base.metadata``, and PostgreSQL
tests share one database per module, so a test that creates legacy tables must drop them
again with :func:`drop_legacy_tables`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast

from sqlalchemy import JSON, Column, MetaData, Table, insert, inspect, select, text
from sqlalchemy.engine import Engine

from medrecord.legacy import DermaSession, DiagnosisSession, legacy_metadata
from medrecord.legacy.runs import LEDGER, QUARANTINE, RUNS
from medrecord.models.chat_session import ChatSession
from medrecord.models.message import Message

__all__ = [
    "DERMA_COLLECTING_ID",
    "DERMA_EMPTY_CHAT_ID",
    "DERMA_LONG_CHAT_ID",
    "DERMA_NO_MESSAGES_ID",
    "DERMA_PHOTO_ID",
    "DERMA_TABLE",
    "DIAGNOSIS_COLLECTING_ID",
    "DIAGNOSIS_COMPLETED_ID",
    "DIAGNOSIS_CONCLUDING_ID",
    "DIAGNOSIS_LONG_CHAT_ID",
    "DIAGNOSIS_TABLE",
    "LEGACY_START",
    "LEGACY_TABLE_NAMES",
    "create_legacy_table_variant",
    "create_legacy_tables",
    "derma_row",
    "diagnosis_row",
    "drop_legacy_tables",
    "insert_generated_derma_rows",
    "insert_legacy_rows",
    "legacy_id",
    "legacy_message",
    "long_chat",
    "make_json_column_text",
    "realistic_derma_rows",
    "realistic_diagnosis_rows",
    "run_rows",
    "snapshot_legacy_table",
    "unified_contents",
]

DERMA_TABLE = cast(Table, DermaSession.__table__)
DIAGNOSIS_TABLE = cast(Table, DiagnosisSession.__table__)

LEGACY_TABLE_NAMES = (
    "derma_sessions",
    "diagnosis_sessions",
    "derma_sessions_deprecated",
    "diagnosis_sessions_deprecated",
)
"""Every table name a legacy test can leave behind, the retired names included."""

LEGACY_START = dt.datetime(2024, 5, 1, 2, 0)
"""A naive legacy time: 02:00 UTC, which is 10:00 on 2024-05-01 in Asia/Shanghai."""

_ID_NAMESPACE = uuid.UUID("6f0b7c52-7d43-4c1e-9a55-1d2f0e8c9a10")

IMAGE_HOST = "https://img.example.invalid"


def legacy_id(name: str) -> str:
    """Return the 36-character UUID text a legacy row named ``name`` has as its id."""
    return str(uuid.uuid5(_ID_NAMESPACE, name))


DERMA_PHOTO_ID = legacy_id("derma-photo")
DERMA_COLLECTING_ID = legacy_id("derma-collecting")
DERMA_LONG_CHAT_ID = legacy_id("derma-long-chat")
DERMA_EMPTY_CHAT_ID = legacy_id("derma-empty-chat")
DERMA_NO_MESSAGES_ID = legacy_id("derma-no-messages")

DIAGNOSIS_COMPLETED_ID = legacy_id("diagnosis-completed")
DIAGNOSIS_COLLECTING_ID = legacy_id("diagnosis-collecting")
DIAGNOSIS_LONG_CHAT_ID = legacy_id("diagnosis-long-chat")
DIAGNOSIS_CONCLUDING_ID = legacy_id("diagnosis-concluding")


# Rows and messages


def legacy_message(
    role: str,
    content: str | None,
    at: dt.datetime | str,
    *,
    task_type: str | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """Return one legacy chat message as the legacy agents stored it in ``messages``.

    A datetime ``at`` becomes ISO 8601 text, with its offset when it is aware; text is kept
    as given. ``fields`` are added as they are (``image_url``, ``images``, ``attachments``
    or any other key).
    """
    message: dict[str, Any] = {
        "role": role,
        "content": content,
        "timestamp": at.isoformat() if isinstance(at, dt.datetime) else at,
    }
    if task_type is not None:
        message["task_type"] = task_type
    message.update(fields)
    return message


_PATIENT_LINES = (
    "这两天还是很痒，晚上睡不好。",
    "红疹的范围好像比昨天大了一点。",
    "没有发烧，也没有关节疼。",
    "我之前没有过敏史。",
    "抹了炉甘石洗剂，感觉好一点。",
)
_AGENT_LINES = (
    "明白了，请问瘙痒在什么时候最明显？",
    "有没有接触过新的护肤品、药物或者宠物？",
    "请描述一下皮疹的颜色和形状。",
    "建议先避免搔抓，保持患处清洁干燥。",
    "如果出现水疱或渗液，请及时线下就诊。",
)


def long_chat(
    count: int,
    *,
    start: dt.datetime = LEGACY_START,
    interval: dt.timedelta = dt.timedelta(seconds=20),
    image_every: int = 0,
    task_type: str | None = None,
) -> list[dict[str, Any]]:
    """Return ``count`` messages, user and assistant taking turns, ``interval`` apart.

    Message ``i`` has text that names its position, so a test can check the order. With
    ``image_every`` > 0, every user message at a multiple of it also carries an
    ``image_url``. Times are written as ``start`` is: naive or with its offset.
    """
    messages = []
    for position in range(count):
        at = start + position * interval
        if position % 2 == 0:
            content = f"第{position}条：{_PATIENT_LINES[position // 2 % len(_PATIENT_LINES)]}"
            extra: dict[str, Any] = {}
            if image_every and position % image_every == 0:
                extra["image_url"] = f"{IMAGE_HOST}/chat/{position}.jpg"
            messages.append(legacy_message("user", content, at, task_type=task_type, **extra))
        else:
            content = f"第{position}条：{_AGENT_LINES[position // 2 % len(_AGENT_LINES)]}"
            messages.append(legacy_message("assistant", content, at, task_type=task_type))
    return messages


def derma_row(row_id: str, **overrides: Any) -> dict[str, Any]:
    """Return a ``derma_sessions`` row with every column set; ``overrides`` replace columns.

    The default is a collecting dermatology intake of one user with a two-message chat.
    """
    row: dict[str, Any] = {
        "id": row_id,
        "user_id": 2001,
        "stage": "collecting",
        "progress": 30,
        "questions_asked": 1,
        "chief_complaint": "面部起痘两周",
        "symptoms": ["丘疹", "粉刺"],
        "symptom_details": {"丘疹": {"duration": "两周", "location": "额头"}},
        "skin_location": "额头",
        "duration": "两周",
        "skin_analyses": [],
        "latest_analysis": None,
        "report_interpretations": [],
        "latest_interpretation": None,
        "possible_conditions": [],
        "risk_level": "low",
        "care_advice": None,
        "need_offline_visit": None,
        "current_task": "collect_symptoms",
        "awaiting_image": False,
        "current_response": "请问平时用什么洗面奶？",
        "messages": [
            legacy_message("user", "额头长了很多痘痘", LEGACY_START),
            legacy_message(
                "assistant", "请问平时用什么洗面奶？", LEGACY_START + dt.timedelta(seconds=10)
            ),
        ],
        "created_at": LEGACY_START,
        "updated_at": LEGACY_START + dt.timedelta(seconds=10),
    }
    row.update(overrides)
    return row


def diagnosis_row(row_id: str, **overrides: Any) -> dict[str, Any]:
    """Return a ``diagnosis_sessions`` row with every column set; ``overrides`` replace columns.

    The default is a collecting general practice intake with a two-message chat.
    """
    row: dict[str, Any] = {
        "id": row_id,
        "user_id": 3001,
        "stage": "collecting",
        "progress": 40,
        "questions_asked": 2,
        "chief_complaint": "咳嗽三天",
        "symptoms": ["咳嗽", "咽痛"],
        "symptom_details": {"咳嗽": {"duration": "3天", "severity": "轻度"}},
        "possible_diseases": [],
        "risk_level": None,
        "recommendations": None,
        "can_conclude": False,
        "reasoning": None,
        "current_question": "有没有发烧？",
        "messages": [
            legacy_message("user", "咳嗽三天了，嗓子疼", LEGACY_START),
            legacy_message("assistant", "有没有发烧？", LEGACY_START + dt.timedelta(seconds=15)),
        ],
        "created_at": LEGACY_START,
        "updated_at": LEGACY_START + dt.timedelta(seconds=15),
    }
    row.update(overrides)
    return row


def realistic_derma_rows() -> list[dict[str, Any]]:
    """Return ``derma_sessions`` rows of every stage, with photos, a long chat and offsets."""
    start = LEGACY_START
    photo_chat = [
        legacy_message(
            "user", "医生你好，我手臂上起了一片红疹，特别痒。", start, task_type="conversation"
        ),
        legacy_message(
            "assistant",
            "请问出现多久了？最近有没有接触新的护肤品或者衣物？",
            start + dt.timedelta(seconds=8),
            task_type="conversation",
        ),
        legacy_message("user", "大概三天了，最近换了洗衣液。", start + dt.timedelta(minutes=1)),
        legacy_message(
            "assistant", "方便拍一张患处的照片吗？", start + dt.timedelta(minutes=1, seconds=5)
        ),
        legacy_message(
            "user",
            "",
            start + dt.timedelta(minutes=2),
            task_type="skin_analysis",
            image_url=f"{IMAGE_HOST}/derma/arm-1.jpg",
        ),
        legacy_message(
            "user",
            "这是另一个角度",
            start + dt.timedelta(minutes=2, seconds=30),
            images=[f"{IMAGE_HOST}/derma/arm-2.jpg", f"{IMAGE_HOST}/derma/arm-3.jpg"],
        ),
        legacy_message(
            "assistant",
            "从照片看，皮疹边界清楚，符合接触性皮炎的表现。",
            start + dt.timedelta(minutes=3),
            task_type="skin_analysis",
            analysis_id="analysis-0501-1",
        ),
        legacy_message(
            "user",
            None,
            start + dt.timedelta(minutes=4),
            task_type="image",
            attachments=[{"type": "image", "url": f"{IMAGE_HOST}/derma/arm-4.jpg", "width": 1024}],
        ),
        legacy_message(
            "assistant",
            "建议停用新洗衣液，外用炉甘石洗剂；若一周内不好转请到皮肤科就诊。",
            start + dt.timedelta(minutes=5),
            task_type="conversation",
        ),
    ]
    analysis = {
        "timestamp": "2024-05-01T02:03:00Z",
        "image_url": f"{IMAGE_HOST}/derma/arm-1.jpg",
        "conditions": ["接触性皮炎", "湿疹"],
        "confidence": 0.82,
    }
    photo = derma_row(
        DERMA_PHOTO_ID,
        user_id=2001,
        stage="completed",
        progress=100,
        questions_asked=4,
        chief_complaint="手臂红疹伴瘙痒3天",
        symptoms=["红疹", "瘙痒"],
        symptom_details={
            "红疹": {"duration": "3天", "location": "左前臂", "severity": "中度"},
            "发热": {"status": "否认"},
        },
        skin_location="左前臂",
        duration="3天",
        skin_analyses=[analysis],
        latest_analysis=analysis,
        possible_conditions=[
            {"name": "接触性皮炎", "probability": 0.7},
            {"name": "湿疹", "probability": "20%"},
        ],
        risk_level="中",
        care_advice="停用新洗衣液，外用炉甘石洗剂，避免搔抓。",
        need_offline_visit=False,
        current_task="conclusion",
        awaiting_image=False,
        current_response="建议停用新洗衣液，外用炉甘石洗剂；若一周内不好转请到皮肤科就诊。",
        messages=photo_chat,
        created_at=start,
        updated_at=start + dt.timedelta(minutes=5),
    )

    # Times with an offset, as a client in China sent them; no updated_at was written.
    shanghai = dt.timezone(dt.timedelta(hours=8))
    local_start = dt.datetime(2024, 5, 3, 21, 30, tzinfo=shanghai)
    collecting = derma_row(
        DERMA_COLLECTING_ID,
        user_id=2002,
        stage="collecting",
        progress=20,
        chief_complaint="头皮屑多、头皮痒",
        symptoms="头皮屑，瘙痒",
        symptom_details={"瘙痒": {"location": "头皮"}},
        skin_location="头皮",
        duration=None,
        risk_level=None,
        current_response="洗头的频率是怎样的？",
        messages=[
            legacy_message("user", "最近头皮屑特别多，头皮很痒", local_start),
            legacy_message(
                "assistant", "洗头的频率是怎样的？", local_start + dt.timedelta(seconds=12)
            ),
            legacy_message("user", "两天洗一次", "2024-05-03T13:31:00Z"),
        ],
        created_at=dt.datetime(2024, 5, 3, 13, 30),
        updated_at=None,
    )

    long_one = derma_row(
        DERMA_LONG_CHAT_ID,
        user_id=2003,
        stage="analyzing",
        progress=70,
        questions_asked=12,
        chief_complaint="双手反复脱皮一个月",
        symptoms=["脱皮", "干燥"],
        symptom_details={"脱皮": {"duration": "一个月", "location": "双手"}},
        skin_location="双手",
        duration="一个月",
        risk_level="Medium",
        awaiting_image=True,
        current_task="skin_analysis",
        current_response=None,
        messages=long_chat(
            360, start=start + dt.timedelta(days=1), image_every=30, task_type="conversation"
        ),
        created_at=start + dt.timedelta(days=1),
        updated_at=start + dt.timedelta(days=1, hours=3),
    )

    empty_chat = derma_row(
        DERMA_EMPTY_CHAT_ID,
        user_id=2004,
        stage="greeting",
        progress=0,
        questions_asked=0,
        chief_complaint=None,
        symptoms=[],
        symptom_details={},
        skin_location=None,
        duration=None,
        risk_level=None,
        current_task=None,
        current_response="您好，我是皮肤科智能助手，请描述您的皮肤问题。",
        messages=[],
        created_at=start + dt.timedelta(days=2),
        updated_at=start + dt.timedelta(days=2),
    )

    no_messages = derma_row(
        DERMA_NO_MESSAGES_ID,
        user_id=2005,
        stage="awaiting_image",
        chief_complaint="背部黑痣变大",
        symptoms=["黑痣增大"],
        symptom_details={},
        skin_location="背部",
        duration=None,
        risk_level="high",
        awaiting_image=True,
        current_task="request_image",
        current_response="请上传一张黑痣的近照。",
        messages=None,
        created_at=start + dt.timedelta(days=3),
        updated_at=start + dt.timedelta(days=3, minutes=1),
    )
    return [photo, collecting, long_one, empty_chat, no_messages]


def realistic_diagnosis_rows() -> list[dict[str, Any]]:
    """Return ``diagnosis_sessions`` rows of every stage, with a long chat and offsets."""
    start = LEGACY_START + dt.timedelta(days=5)
    completed = diagnosis_row(
        DIAGNOSIS_COMPLETED_ID,
        user_id=3001,
        stage="completed",
        progress=100,
        questions_asked=6,
        chief_complaint="发热伴咳嗽2天",
        symptoms=["发热", "咳嗽", "乏力"],
        symptom_details={"发热": {"duration": "2天", "severity": "38.5℃"}},
        possible_diseases=[
            {"name": "上呼吸道感染", "probability": "70%"},
            {"name": "流行性感冒", "probability": 0.25},
        ],
        risk_level="MEDIUM",
        recommendations={
            "department": "呼吸内科",
            "urgency": "routine",
            "lifestyle": ["多喝水", "注意休息"],
            "tests": ["血常规"],
        },
        can_conclude=True,
        reasoning="发热咳嗽，无呼吸困难，考虑上呼吸道感染。",
        current_question=None,
        messages=[
            legacy_message("user", "发烧两天了，还咳嗽", "2024-05-06T02:00:00Z", task_type="chat"),
            legacy_message(
                "assistant", "最高体温是多少度？", "2024-05-06T02:00:06Z", task_type="chat"
            ),
            legacy_message("user", "38度5", "2024-05-06T10:01:00+08:00", task_type="chat"),
            legacy_message(
                "assistant",
                "有没有胸闷、呼吸困难？",
                "2024-05-06T02:01:07.250000Z",
                task_type="chat",
            ),
            legacy_message("user", "没有", "2024-05-06T02:02:00Z", task_type="chat"),
            legacy_message(
                "assistant",
                "考虑上呼吸道感染，建议多喝水、注意休息，必要时查血常规。",
                "2024-05-06T02:03:00Z",
                task_type="structured",
            ),
        ],
        created_at=start,
        updated_at=start + dt.timedelta(minutes=3),
    )

    collecting = diagnosis_row(
        DIAGNOSIS_COLLECTING_ID,
        user_id=3002,
        stage="collecting",
        current_question="头痛是持续的还是一阵一阵的？",
        chief_complaint="头痛一周",
        symptoms=["头痛"],
        symptom_details={},
        messages=[
            legacy_message("user", "头痛一周了", start + dt.timedelta(hours=1)),
            legacy_message(
                "assistant",
                "头痛是持续的还是一阵一阵的？",
                start + dt.timedelta(hours=1, seconds=9),
            ),
        ],
        created_at=start + dt.timedelta(hours=1),
        updated_at=start + dt.timedelta(hours=1, seconds=9),
    )

    long_one = diagnosis_row(
        DIAGNOSIS_LONG_CHAT_ID,
        user_id=3003,
        stage="collecting",
        progress=55,
        questions_asked=40,
        chief_complaint="反复胃痛半年",
        symptoms=["胃痛", "反酸"],
        symptom_details={"胃痛": {"duration": "半年"}},
        current_question="胃痛和进食有关系吗？",
        messages=long_chat(301, start=start + dt.timedelta(days=1), interval=dt.timedelta(0)),
        created_at=start + dt.timedelta(days=1),
        updated_at=start + dt.timedelta(days=1, minutes=30),
    )

    concluding = diagnosis_row(
        DIAGNOSIS_CONCLUDING_ID,
        user_id=3001,
        stage="concluding",
        progress=90,
        chief_complaint="腹泻一天",
        symptoms=["腹泻", "腹痛"],
        symptom_details={"腹泻": {"duration": "1天", "status": "有"}},
        possible_diseases="急性胃肠炎、食物中毒",
        risk_level="低",
        recommendations="清淡饮食，注意补液。",
        can_conclude=True,
        reasoning="",
        current_question=None,
        messages=[
            legacy_message("User", "昨天吃了海鲜，今天拉肚子", start + dt.timedelta(days=2)),
            legacy_message(" assistant ", "一天几次？", start + dt.timedelta(days=2, seconds=5)),
        ],
        created_at=start + dt.timedelta(days=2),
        updated_at=start + dt.timedelta(days=2, seconds=5),
    )
    return [completed, collecting, long_one, concluding]


# Tables


def create_legacy_tables(engine: Engine) -> None:
    """Create ``derma_sessions`` and ``diagnosis_sessions`` with every legacy column."""
    legacy_metadata.create_all(engine)


def drop_legacy_tables(engine: Engine, extra_names: Iterable[str] = ()) -> None:
    """Drop the legacy tables, their retired ``*_deprecated`` names and ``extra_names``."""
    quote = engine.dialect.identifier_preparer.quote
    with engine.begin() as connection:
        for name in (*LEGACY_TABLE_NAMES, *extra_names):
            connection.exec_driver_sql(f"DROP TABLE IF EXISTS {quote(name)}")


def create_legacy_table_variant(
    engine: Engine,
    model: Table,
    *,
    without: Sequence[str] = (),
    extra_columns: Sequence[Column[Any]] = (),
) -> Table:
    """Create a legacy table under its own name that lacks ``without`` and has extra columns.

    Returns the table as created, for :func:`insert_legacy_rows`; it belongs to a metadata
    of its own, so the legacy models stay as they are.
    """
    columns = [
        Column(column.name, column.type, primary_key=column.primary_key)
        for column in model.columns
        if column.name not in without
    ]
    variant = Table(model.name, MetaData(), *columns, *extra_columns)
    variant.create(engine)
    return variant


def make_json_column_text(engine: Engine, table_name: str, column: str) -> None:
    """Turn a PostgreSQL ``json`` column into ``text``, as some legacy databases declare it.

    A text column can hold text that is not JSON, which PostgreSQL's ``json`` rejects.
    On SQLite a JSON column is text already, so nothing changes there.
    """
    if engine.dialect.name != "postgresql":
        return

    quote = engine.dialect.identifier_preparer.quote
    with engine.begin() as connection:
        connection.exec_driver_sql(
            f"ALTER TABLE {quote(table_name)} ALTER COLUMN {quote(column)} TYPE TEXT"
        )


def insert_legacy_rows(engine: Engine, table: Table, rows: Iterable[Mapping[str, Any]]) -> None:
    """Insert rows into a legacy table; a column a row does not name is NULL."""
    filled = [{column.name: row.get(column.name) for column in table.columns} for row in rows]
    if not filled:
        return
    with engine.begin() as connection:
        connection.execute(insert(table), filled)


def insert_generated_derma_rows(engine: Engine, count: int) -> None:
    """Insert ``count`` minimal ``derma_sessions`` rows, generated by the database itself.

    Ids are ``bulk-000001`` onward; each row has an empty chat, and its other JSON columns
    hold JSON ``null``, as the legacy models write None. Generating rows in one
    ``INSERT ... SELECT`` keeps tables of tens of thousands of rows quick to build.
    """
    postgresql = engine.dialect.name == "postgresql"
    json_columns = [
        column.name
        for column in DERMA_TABLE.columns
        if isinstance(column.type, JSON) and column.name != "messages"
    ]
    json_type = "::json" if postgresql else ""
    columns = ", ".join(["id", "user_id", "stage", "created_at", "messages", *json_columns])
    json_values = ", ".join(f"'null'{json_type}" for _ in json_columns)

    if postgresql:
        statement = text(
            f"INSERT INTO derma_sessions ({columns}) "
            "SELECT 'bulk-' || lpad(g::text, 6, '0'), 1, 'collecting', "
            f"TIMESTAMP '2024-05-01 02:00:00', '[]'::json, {json_values} "
            "FROM generate_series(1, :count) AS g"
        )
    else:
        statement = text(
            "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < :count) "
            f"INSERT INTO derma_sessions ({columns}) "
            "SELECT 'bulk-' || printf('%06d', n), 1, 'collecting', "
            f"'2024-05-01 02:00:00.000000', '[]', {json_values} FROM g"
        )
    with engine.begin() as connection:
        connection.execute(statement, {"count": count})


def snapshot_legacy_table(engine: Engine, table_name: str) -> list[tuple[Any, ...]]:
    """Return every row of a table as the text the database holds, in id order.

    Each column is read as ``CAST(column AS TEXT)``, so JSON text, times and flags are
    compared as stored, whatever columns the table actually has.
    """
    quote = engine.dialect.identifier_preparer.quote
    with engine.connect() as connection:
        names = [column["name"] for column in inspect(connection).get_columns(table_name)]
        selected = ", ".join(f"CAST({quote(name)} AS TEXT)" for name in names)
        statement = text(f"SELECT {selected} FROM {quote(table_name)} ORDER BY {quote('id')}")
        return [tuple(row) for row in connection.execute(statement)]


def unified_contents(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Return every row of the tables a migration writes, each in primary key order.

    Quarantine entries leave out ``run_id`` and ``recorded_at``, because each run records
    its own problems again. Runs are left out, because every run adds one.
    """
    sessions = cast(Table, ChatSession.__table__)
    messages = cast(Table, Message.__table__)
    statements = {
        "sessions": select(sessions).order_by(sessions.c.id),
        "messages": select(messages).order_by(messages.c.id),
        "ledger": select(LEDGER).order_by(LEDGER.c.legacy_table, LEDGER.c.legacy_id),
        "quarantine": select(
            QUARANTINE.c.legacy_table,
            QUARANTINE.c.legacy_id,
            QUARANTINE.c.reason,
            QUARANTINE.c.detail,
        ).order_by(QUARANTINE.c.legacy_table, QUARANTINE.c.legacy_id),
    }
    with engine.connect() as connection:
        return {
            name: [tuple(row) for row in connection.execute(statement)]
            for name, statement in statements.items()
        }


def run_rows(engine: Engine) -> list[dict[str, Any]]:
    """Return the rows of ``legacy_migration_runs`` in id order, as mappings."""
    with engine.connect() as connection:
        return [
            dict(row) for row in connection.execute(select(RUNS).order_by(RUNS.c.id)).mappings()
        ]
