"""Generate legacy ``derma_sessions`` and ``diagnosis_sessions`` rows for the migration benchmark.

:func:`fill_legacy_tables` creates both legacy tables and writes a given number of
sessions, each with :data:`MESSAGES_PER_SESSION` chat messages in its ``messages`` JSON
column, split between the two tables (dermatology gets the odd one). The rows are what
the legacy application wrote: Chinese text, naive UTC times, ISO 8601 message timestamps
without an offset, and one photo message per dermatology chat. Every row is valid, so the
migration engine migrates all of them and quarantines none.

The same seed and number of sessions always give the same rows. The rows go in with the
driver's bulk path (``executemany`` on SQLite, ``COPY`` on PostgreSQL) in chunks, so a
million sessions take a few minutes and little memory.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, Engine, Table

from medrecord.legacy import DermaSession, DiagnosisSession, legacy_metadata

__all__ = ["DEFAULT_SEED", "MESSAGES_PER_SESSION", "LegacyCounts", "fill_legacy_tables"]

DEFAULT_SEED = 20240501

MESSAGES_PER_SESSION = 10

CHUNK_ROWS = 5000
"""Rows built and written per driver call; bounds the generator's memory."""

FIRST_START = dt.datetime(2023, 1, 1)
START_SPREAD_SECONDS = 3 * 365 * 24 * 3600
"""Sessions start at random times over three years from :data:`FIRST_START`."""

DERMA_TABLE: Table = DermaSession.__table__  # type: ignore[assignment]
DIAGNOSIS_TABLE: Table = DiagnosisSession.__table__  # type: ignore[assignment]

SKIN_COMPLAINTS = (
    ("手臂起红疹三天，伴瘙痒", "手臂", ["红疹", "瘙痒"]),
    ("面部反复长痘两个月", "面部", ["丘疹", "脓疱"]),
    ("背部出现环形红斑一周", "背部", ["红斑", "脱屑"]),
    ("双手脱皮开裂半个月", "双手", ["脱皮", "皲裂"]),
    ("小腿起水疱两天，有渗液", "小腿", ["水疱", "渗液"]),
    ("头皮瘙痒、头屑增多一个月", "头皮", ["瘙痒", "头屑"]),
)
SKIN_CONDITIONS = ("接触性皮炎", "湿疹", "痤疮", "体癣", "银屑病", "脂溢性皮炎", "荨麻疹")
GENERAL_COMPLAINTS = (
    ("发热咳嗽两天", ["发热", "咳嗽"]),
    ("头痛伴恶心半天", ["头痛", "恶心"]),
    ("腹泻三次，腹部隐痛", ["腹泻", "腹痛"]),
    ("咽喉痛、流鼻涕三天", ["咽痛", "流涕"]),
    ("乏力、食欲差一周", ["乏力", "食欲不振"]),
    ("胸闷气短，活动后加重", ["胸闷", "气短"]),
)
GENERAL_DISEASES = ("上呼吸道感染", "急性胃肠炎", "偏头痛", "流行性感冒", "支气管炎", "焦虑状态")
DEPARTMENTS = ("呼吸科", "消化科", "神经内科", "心血管科", "全科")
DURATIONS = ("半天", "两天", "三天", "一周", "半个月", "两个月")
SEVERITIES = ("轻度", "中度", "重度")
RISK_LEVELS = ("low", "medium", "high")
USER_LINES = (
    "我这两天{symptom}得厉害，晚上尤其明显。",
    "以前没有出现过这种情况，家里人也没有类似的。",
    "没有吃什么特别的药，就是涂了一点药膏。",
    "{symptom}的地方有点疼，碰到会更难受。",
    "最近工作比较忙，睡眠不太好。",
    "没有发烧，精神还可以。",
    "对青霉素过敏，其他药物没有过敏。",
    "好的，谢谢医生，我会注意观察。",
)
ASSISTANT_LINES = (
    "您好，请问{symptom}是从什么时候开始的？",
    "请问症状出现前是否接触过新的洗涤用品、食物或者药物？",
    "症状是持续存在，还是时好时坏？有没有加重或缓解的因素？",
    "请问您有没有其他不舒服，比如发热、乏力或者关节疼痛？",
    "您以前有过敏史或者慢性病史吗？",
    "根据您的描述，建议先保持患处清洁干燥，避免抓挠。",
    "如果症状持续加重，请尽快到医院{department}就诊。",
    "建议清淡饮食，多休息，注意观察症状变化。",
)


@dataclass(frozen=True)
class LegacyCounts:
    """How many legacy rows and messages :func:`fill_legacy_tables` wrote."""

    derma_sessions: int
    diagnosis_sessions: int
    messages: int

    @property
    def sessions(self) -> int:
        """Rows in both legacy tables."""
        return self.derma_sessions + self.diagnosis_sessions


def fill_legacy_tables(
    engine: Engine,
    sessions: int,
    *,
    seed: int = DEFAULT_SEED,
    progress: Callable[[str, int, int], None] | None = None,
) -> LegacyCounts:
    """Create both legacy tables and write ``sessions`` legacy sessions into them.

    ``progress`` is called after each chunk with the table name, the rows written so far
    and the table's total.
    """
    if sessions < 0:
        raise ValueError(f"invalid number of sessions {sessions}: use 0 or more")

    legacy_metadata.create_all(engine)
    derma_total = (sessions + 1) // 2
    diagnosis_total = sessions // 2
    generator = random.Random(seed)

    for table, total, build_row in (
        (DERMA_TABLE, derma_total, _derma_row),
        (DIAGNOSIS_TABLE, diagnosis_total, _diagnosis_row),
    ):
        written = 0
        while written < total:
            size = min(CHUNK_ROWS, total - written)
            rows = [build_row(generator) for _ in range(size)]
            _write_rows(engine, table, rows)
            written += size
            if progress is not None:
                progress(table.name, written, total)

    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.exec_driver_sql(f"ANALYZE {DERMA_TABLE.name}, {DIAGNOSIS_TABLE.name}")
            connection.commit()

    return LegacyCounts(
        derma_sessions=derma_total,
        diagnosis_sessions=diagnosis_total,
        messages=sessions * MESSAGES_PER_SESSION,
    )


def _write_rows(engine: Engine, table: Table, rows: list[dict[str, Any]]) -> None:
    """Write rows with the driver's bulk path, bypassing SQLAlchemy's per-row processing."""
    names = [column.name for column in table.columns]
    json_columns = {name for name in names if isinstance(table.c[name].type, JSON)}
    dialect = engine.dialect.name
    values = [
        tuple(_driver_value(row.get(name), name in json_columns, dialect) for name in names)
        for row in rows
    ]

    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        if dialect == "postgresql":
            with cursor.copy(f"COPY {table.name} ({', '.join(names)}) FROM STDIN") as copy:
                for value in values:
                    copy.write_row(value)
        else:
            placeholders = ", ".join("?" for _ in names)
            # medrecord's SQLite engine hands transaction control to SQLAlchemy, so the
            # driver connection is in autocommit mode. Each chunk is one transaction.
            cursor.execute("BEGIN")
            cursor.executemany(
                f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({placeholders})", values
            )
        cursor.close()
        connection.commit()
    finally:
        connection.close()


def _driver_value(value: Any, is_json: bool, dialect: str) -> Any:
    if is_json:
        # None becomes the JSON text null, as SQLAlchemy's JSON type writes it, because
        # medrecord's legacy models declare their JSON columns NOT NULL.
        return json.dumps(value, ensure_ascii=False)
    if value is None:
        return None
    if dialect == "sqlite" and isinstance(value, dt.datetime):
        # The text SQLAlchemy's SQLite DateTime type writes and reads.
        return value.isoformat(" ", "microseconds")
    return value


def _session_id(generator: random.Random) -> str:
    return str(uuid.UUID(int=generator.getrandbits(128), version=4))


def _start(generator: random.Random) -> dt.datetime:
    return FIRST_START + dt.timedelta(
        seconds=generator.randrange(START_SPREAD_SECONDS),
        microseconds=generator.randrange(1_000_000),
    )


def _message_times(generator: random.Random, start: dt.datetime) -> Iterator[dt.datetime]:
    """Yield increasing message times after ``start``, as the chat went on."""
    moment = start
    for _ in range(MESSAGES_PER_SESSION):
        moment += dt.timedelta(
            seconds=generator.randint(3, 180), microseconds=generator.randrange(1_000_000)
        )
        yield moment


def _chat(
    generator: random.Random,
    start: dt.datetime,
    *,
    symptom: str,
    department: str,
    photo_url: str | None,
) -> list[dict[str, Any]]:
    """Build one chat: user and assistant take turns, the user starts.

    With ``photo_url``, the user's second message is a photo, as a dermatology chat has.
    Timestamps are naive ISO 8601 text, as ``datetime.utcnow().isoformat()`` wrote them.
    """
    messages: list[dict[str, Any]] = []
    for position, moment in enumerate(_message_times(generator, start)):
        timestamp = moment.isoformat()
        message: dict[str, Any]
        if photo_url is not None and position == 2:
            message = {
                "role": "user",
                "content": "",
                "image_url": photo_url,
                "timestamp": timestamp,
                "task_type": "skin_analysis",
            }
        elif position % 2 == 0:
            message = {
                "role": "user",
                "content": generator.choice(USER_LINES).format(symptom=symptom),
                "timestamp": timestamp,
            }
        else:
            line = generator.choice(ASSISTANT_LINES)
            message = {
                "role": "assistant",
                "content": line.format(symptom=symptom, department=department),
                "timestamp": timestamp,
                "task_type": "conversation",
            }
        messages.append(message)
    return messages


def _symptom_details(generator: random.Random, symptoms: list[str]) -> dict[str, Any]:
    return {
        symptom: {
            "duration": generator.choice(DURATIONS),
            "severity": generator.choice(SEVERITIES),
            "status": "present",
        }
        for symptom in symptoms
    }


def _derma_row(generator: random.Random) -> dict[str, Any]:
    session_id = _session_id(generator)
    start = _start(generator)
    complaint, location, symptoms = generator.choice(SKIN_COMPLAINTS)
    photo_url = f"https://example.invalid/legacy/{session_id}/1.jpg"
    messages = _chat(
        generator, start, symptom=symptoms[0], department="皮肤科", photo_url=photo_url
    )
    completed = generator.random() < 0.8
    conditions = generator.sample(SKIN_CONDITIONS, 2)
    analysis = {
        "timestamp": messages[2]["timestamp"],
        "image_url": photo_url,
        "conditions": conditions,
        "confidence": round(generator.uniform(0.5, 0.95), 2),
    }
    return {
        "id": session_id,
        "user_id": generator.randint(1, 50_000),
        "stage": "completed" if completed else "collecting",
        "progress": 100 if completed else generator.randint(10, 90),
        "questions_asked": generator.randint(2, 8),
        "chief_complaint": complaint,
        "symptoms": symptoms,
        "symptom_details": _symptom_details(generator, symptoms),
        "risk_level": generator.choice(RISK_LEVELS),
        "messages": messages,
        "created_at": start,
        "updated_at": dt.datetime.fromisoformat(messages[-1]["timestamp"]),
        "skin_location": location,
        "duration": generator.choice(DURATIONS),
        "skin_analyses": [analysis],
        "latest_analysis": analysis,
        "report_interpretations": [],
        "latest_interpretation": None,
        "possible_conditions": [
            {"name": name, "probability": round(generator.uniform(0.2, 0.7), 2)}
            for name in conditions
        ],
        "care_advice": "保持患处清洁干燥，避免搔抓和热水烫洗，可外用温和的保湿剂。",
        "need_offline_visit": generator.random() < 0.3,
        "current_task": "conversation",
        "awaiting_image": False,
        "current_response": "建议避免接触可疑过敏物，如一周内没有好转请到皮肤科就诊。",
    }


def _diagnosis_row(generator: random.Random) -> dict[str, Any]:
    session_id = _session_id(generator)
    start = _start(generator)
    complaint, symptoms = generator.choice(GENERAL_COMPLAINTS)
    department = generator.choice(DEPARTMENTS)
    messages = _chat(generator, start, symptom=symptoms[0], department=department, photo_url=None)
    completed = generator.random() < 0.8
    return {
        "id": session_id,
        "user_id": generator.randint(1, 50_000),
        "stage": "completed" if completed else "questioning",
        "progress": 100 if completed else generator.randint(10, 90),
        "questions_asked": generator.randint(2, 8),
        "chief_complaint": complaint,
        "symptoms": symptoms,
        "symptom_details": _symptom_details(generator, symptoms),
        "risk_level": generator.choice(RISK_LEVELS),
        "messages": messages,
        "created_at": start,
        "updated_at": dt.datetime.fromisoformat(messages[-1]["timestamp"]),
        "possible_diseases": [
            {"name": name, "probability": round(generator.uniform(0.2, 0.7), 2)}
            for name in generator.sample(GENERAL_DISEASES, 2)
        ],
        "recommendations": {
            "department": department,
            "urgency": "routine",
            "tests": ["血常规"],
            "advice": "多饮水，注意休息，症状加重及时就医。",
        },
        "can_conclude": completed,
        "reasoning": "根据症状持续时间和伴随表现，考虑常见感染或功能性问题，需进一步观察。",
        "current_question": None if completed else "请问还有其他不舒服吗？",
    }
