"""First use of medrecord: store one intake chat, aggregate it into an event, render the record.

Run it from the repository root with the project's virtual environment::

    .venv/bin/python docs/examples/first_use.py

It works in a temporary SQLite file, which is deleted at the end.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from pathlib import Path

from sqlalchemy.orm import Session as DatabaseSession

import medrecord

# Times are aware datetimes. The library stores them as UTC and rejects naive ones.
CHINA_STANDARD_TIME = dt.timezone(dt.timedelta(hours=8))
STARTED_AT = dt.datetime(2026, 11, 20, 7, 30, tzinfo=CHINA_STANDARD_TIME)

USER_ID = 1001
SESSION_ID = "6f1c2b9e-3d4a-4f5b-8c7d-1e2f3a4b5c6d"

# The state the intake agent stored for this chat. "中" is one of the spellings of the risk
# level that the state schema reads as "medium".
AGENT_STATE = {
    "stage": "completed",
    "chief_complaint": "左手背红疹伴瘙痒三天",
    "symptoms": ["红疹", "瘙痒"],
    "symptom_details": {
        "瘙痒": {"duration": "3天", "severity": "夜间明显"},
        "发热": {"status": "absent"},
    },
    "risk_level": "中",
    "skin_location": "左手背",
    "possible_conditions": [{"name": "接触性皮炎", "probability": 0.6}],
    "recommendations": {"lifestyle": ["避免搔抓", "暂停使用新换的洗手液"]},
}

CONVERSATION = [
    ("user", "左手背起了红疹，很痒，已经三天了。"),
    ("assistant", "最近有没有接触新的洗涤用品或化妆品？有没有发热？"),
    ("user", "上周换了洗手液。没有发热。"),
    ("assistant", "可能是接触性皮炎。建议先停用新洗手液，避免搔抓，一周不见好请到皮肤科就诊。"),
]


def store_session(db: DatabaseSession) -> None:
    """Insert the chat session and its messages, one minute apart."""
    db.add(
        medrecord.ChatSession(
            id=SESSION_ID,
            user_id=USER_ID,
            agent_type="dermatology",
            agent_state=AGENT_STATE,
            last_message=CONVERSATION[-1][1],
            status="completed",
            created_at=STARTED_AT,
            updated_at=STARTED_AT + dt.timedelta(minutes=len(CONVERSATION) - 1),
        )
    )
    for position, (sender, content) in enumerate(CONVERSATION):
        db.add(
            medrecord.Message(
                session_id=SESSION_ID,
                sender=sender,
                content=content,
                created_at=STARTED_AT + dt.timedelta(minutes=position),
            )
        )
    db.flush()


def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        engine = medrecord.create_engine(f"sqlite:///{Path(directory) / 'first_use.db'}")
        medrecord.upgrade_schema(engine)
        registry = medrecord.load_departments()

        with DatabaseSession(engine) as db:
            store_session(db)
            result = medrecord.aggregate(
                session=db,
                registry=registry,
                user_id=USER_ID,
                session_id=SESSION_ID,
                time_zone="Asia/Shanghai",
            )
            db.commit()

            print(json.dumps(result.as_response(), ensure_ascii=False, indent=2))
            print("event day:", result.event_date.isoformat())

            event = db.get(medrecord.MedicalEvent, result.event_id)
            assert event is not None
            record = medrecord.render_record(
                event, registry=registry, format="markdown", locale="zh-CN"
            )
            print(record)

        engine.dispose()


if __name__ == "__main__":
    main()
