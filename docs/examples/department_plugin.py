"""Register the ophthalmology plugin beside this script, check it, and render one of its records.

Run it from the repository root::

    .venv/bin/python docs/examples/department_plugin.py

Python puts the script's folder on ``sys.path``, so ``medrecord_ophthalmology`` imports
without being installed. It is registered by name here; an installed package would be
found through its entry point instead.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import medrecord_ophthalmology
from medrecord_ophthalmology.state import OphthalmologyState
from sqlalchemy.orm import Session as DatabaseSession

import medrecord
from medrecord.testing.conformance import check_department

STARTED_AT = dt.datetime(2026, 11, 21, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
SESSION_ID = "0b7e4a52-9c1d-4e8f-a3b6-5d2c7f9e1a04"
USER_ID = 2002


def main() -> None:
    registry = medrecord.load_departments(
        plugins=[("ophthalmology", medrecord_ophthalmology)], entry_points=False, strict=True
    )
    department = registry.resolve("眼科")
    print("resolved:", department.code, department.event_agent_type)
    print("conformance failures:", check_department(department, registry))

    reading = medrecord.read_agent_state(
        {"affected_eye": "OS", "risk_level": "高", "vision_change": 20}, OphthalmologyState
    )
    print("affected eye:", reading.state.affected_eye)
    print("risk level:", reading.state.risk_level)
    print("problems:", [(problem.field, problem.reason) for problem in reading.problems])

    with tempfile.TemporaryDirectory() as directory:
        engine = medrecord.create_engine(f"sqlite:///{Path(directory) / 'plugin.db'}")
        medrecord.upgrade_schema(engine)

        with DatabaseSession(engine) as db:
            db.add(
                medrecord.ChatSession(
                    id=SESSION_ID,
                    user_id=USER_ID,
                    agent_type="eye",
                    agent_state={
                        "chief_complaint": "左眼视物模糊两天",
                        "affected_eye": "左眼",
                        "vision_change": "看远处发虚",
                    },
                    status="completed",
                    created_at=STARTED_AT,
                    updated_at=STARTED_AT,
                )
            )
            db.add(
                medrecord.Message(
                    session_id=SESSION_ID,
                    sender="user",
                    content="左眼这两天看东西模糊。",
                    created_at=STARTED_AT,
                )
            )
            db.flush()

            result = medrecord.aggregate(
                session=db, registry=registry, user_id=USER_ID, session_id=SESSION_ID
            )
            db.commit()

            event = db.get(medrecord.MedicalEvent, result.event_id)
            assert event is not None
            for locale in ("zh-CN", "en"):
                print(medrecord.render_record(event, registry=registry, locale=locale))

        engine.dispose()


if __name__ == "__main__":
    main()
