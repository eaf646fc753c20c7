"""The PRD's legacy migration scripts, runnable, as the baseline of ``legacy_migration_bench.py``.

This is the data migration of the product team's requirements document (PRD: data
migration, migration scripts 1, 2 and 3): ``migrate_derma_sessions``,
``migrate_diagnosis_sessions``, ``migrate_derma_messages`` and
``migrate_diagnosis_messages``, with the ORM classes of the PRD's data model. It is kept
faithful on purpose, defects included, because it is what ``medrecord.legacy.migrate_legacy``
replaces. Do not fix it, and do not import it from the library or the tests.

What the scripts do, as written:

- Each function loads every legacy row as an ORM object with ``db.query(...).all()``.
- Scripts 1 and 2 run one existence query per legacy row, add one ``Session`` object at a
  time and commit when ``migrated_count % 100 == 0``.
- Script 3 runs one existence query per message, by session id, content and timestamp,
  adds one ``Message`` object at a time and commits when ``migrated_count % 500 == 0``,
  tested once per session. A session whose messages step over a multiple of 500 skips
  that commit.
- After each commit every loaded object is expired (``expire_on_commit`` is on by
  default), so the next legacy row's first attribute access reloads it with one SELECT.
- Roles, task types and timestamps are copied unchecked, the agent state is not validated,
  image URLs are dropped, and ``diagnosis_sessions`` messages all become ``text``.

Changes made only so that the scripts run here:

- ``SessionLocal`` is not defined in the PRD. This module uses the FastAPI tutorial's
  ``sessionmaker(autocommit=False, autoflush=False)``, the usual source of that name, and
  :func:`bind` binds it to the benchmark's engine. With SQLAlchemy's default
  ``autoflush=True`` each existence query would first flush the pending objects, one
  INSERT per message, so this choice makes script 3 faster, not slower.
- The legacy tables are medrecord's models ``DermaSession`` and ``DiagnosisSession``,
  which have every column the scripts read.
- The ``sessions`` and ``messages`` classes drop the foreign keys to ``users`` and
  ``doctors`` and the ``user`` and ``doctor`` relationships, because the benchmark has
  no such tables. The ORM class is named ``SessionModel``, the name the scripts import it
  under. The ``metadata`` column is mapped to the attribute ``metadata_``, because
  declarative classes reserve ``metadata``. The scripts never set it.
- ``SenderType`` is not defined in the PRD; it has the members ``user`` and ``assistant``.
- Script 3 parses the timestamp text with ``datetime.fromisoformat`` before it compares
  or stores it. SQLAlchemy's SQLite ``DateTime`` accepts only datetime objects, and with
  psycopg 3 SQLAlchemy binds the text as ``VARCHAR``, for which PostgreSQL has no
  comparison with ``timestamp with time zone``.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Engine, ForeignKey, Integer, String, Text, func
from sqlalchemy import Enum as SQLEnum
from sqlalchemy.orm import DeclarativeBase, relationship, sessionmaker

from medrecord.legacy import DermaSession, DiagnosisSession

__all__ = [
    "Message",
    "PrdBase",
    "SenderType",
    "SessionLocal",
    "SessionModel",
    "bind",
    "migrate_derma_messages",
    "migrate_derma_sessions",
    "migrate_diagnosis_messages",
    "migrate_diagnosis_sessions",
]

logger = logging.getLogger(__name__)

SessionLocal = sessionmaker(autocommit=False, autoflush=False)


def bind(engine: Engine) -> None:
    """Bind ``SessionLocal`` to an engine, because the scripts take no arguments."""
    SessionLocal.configure(bind=engine)


class PrdBase(DeclarativeBase):
    """Declarative base of the PRD's ``sessions`` and ``messages`` tables."""


class SenderType(enum.StrEnum):
    """The author of a message, stored by name."""

    user = "user"
    assistant = "assistant"


class SessionModel(PrdBase):
    """统一会话表 - 支持所有科室"""

    __tablename__ = "sessions"

    id = Column(String(36), primary_key=True, index=True)
    user_id = Column(Integer, nullable=False, index=True)
    doctor_id = Column(Integer, nullable=True)

    # 智能体信息
    agent_type = Column(String(50), default="general", nullable=False, index=True)
    agent_state = Column(JSON, nullable=True, default=dict)  # 核心：存储所有科室特定状态

    # 会话元信息
    last_message = Column(Text, nullable=True)
    status = Column(String(20), default="active", index=True)

    # 时间戳
    created_at = Column(DateTime(timezone=True), server_default=func.now())
    updated_at = Column(DateTime(timezone=True), server_default=func.now(), onupdate=func.now())

    # 关系
    messages = relationship("Message", back_populates="session", cascade="all, delete-orphan")


class Message(PrdBase):
    """消息表"""

    __tablename__ = "messages"

    id = Column(Integer, primary_key=True, index=True)
    session_id = Column(String(36), ForeignKey("sessions.id"), nullable=False, index=True)
    sender = Column(SQLEnum(SenderType), nullable=False)  # type: ignore[var-annotated]  # user/assistant
    content = Column(Text, nullable=False)
    message_type = Column(String(20), default="text")  # text/image/structured
    attachments = Column(JSON, nullable=True)
    metadata_ = Column("metadata", JSON, nullable=True)
    created_at = Column(DateTime(timezone=True), server_default=func.now())

    session = relationship("SessionModel", back_populates="messages")


def _timestamp(value: Any) -> Any:
    """Parse a legacy timestamp text, which neither backend accepts as is (see above)."""
    if isinstance(value, str):
        return dt.datetime.fromisoformat(value)
    return value


# 脚本1: 迁移 derma_sessions 到 sessions


def migrate_derma_sessions() -> None:
    """
    将 derma_sessions 表的数据迁移到 sessions 表
    """
    db = SessionLocal()

    try:
        # 获取所有皮肤科会话
        derma_sessions = db.query(DermaSession).all()

        migrated_count = 0
        skipped_count = 0

        for derma in derma_sessions:
            # 检查是否已迁移
            existing = db.query(SessionModel).filter(SessionModel.id == derma.id).first()

            if existing:
                logger.info(f"Session {derma.id} already exists, skipping")
                skipped_count += 1
                continue

            # 构建 agent_state
            agent_state = {
                "stage": derma.stage,
                "progress": derma.progress,
                "questions_asked": derma.questions_asked,
                "chief_complaint": derma.chief_complaint,
                "symptoms": derma.symptoms or [],
                "symptom_details": derma.symptom_details or {},
                "skin_location": derma.skin_location,
                "duration": derma.duration,
                "skin_analyses": derma.skin_analyses or [],
                "latest_analysis": derma.latest_analysis,
                "report_interpretations": derma.report_interpretations or [],
                "latest_interpretation": derma.latest_interpretation,
                "possible_conditions": derma.possible_conditions or [],
                "risk_level": derma.risk_level,
                "care_advice": derma.care_advice,
                "need_offline_visit": derma.need_offline_visit,
                "current_task": derma.current_task,
                "awaiting_image": derma.awaiting_image,
            }

            # 创建新的 Session 记录
            new_session = SessionModel(
                id=derma.id,
                user_id=derma.user_id,
                doctor_id=None,  # derma_sessions 没有 doctor_id
                agent_type="dermatology",
                agent_state=agent_state,
                last_message=derma.current_response,
                status="active" if derma.stage != "completed" else "completed",
                created_at=derma.created_at,
                updated_at=derma.updated_at,
            )

            db.add(new_session)
            migrated_count += 1

            if migrated_count % 100 == 0:
                db.commit()
                logger.info(f"Migrated {migrated_count} derma sessions")

        db.commit()

        logger.info(f"Migration complete: {migrated_count} migrated, {skipped_count} skipped")

    except Exception as e:
        logger.error(f"Migration failed: {e}")
        db.rollback()
        raise
    finally:
        db.close()


# 脚本2: 迁移 diagnosis_sessions 到 sessions


def migrate_diagnosis_sessions() -> None:
    """
    将 diagnosis_sessions 表的数据迁移到 sessions 表
    """
    db = SessionLocal()

    try:
        diagnosis_sessions = db.query(DiagnosisSession).all()

        migrated_count = 0
        skipped_count = 0

        for diagnosis in diagnosis_sessions:
            existing = db.query(SessionModel).filter(SessionModel.id == diagnosis.id).first()

            if existing:
                logger.info(f"Session {diagnosis.id} already exists, skipping")
                skipped_count += 1
                continue

            # 构建 agent_state
            agent_state = {
                "stage": diagnosis.stage,
                "progress": diagnosis.progress,
                "questions_asked": diagnosis.questions_asked,
                "chief_complaint": diagnosis.chief_complaint,
                "symptoms": diagnosis.symptoms or [],
                "symptom_details": diagnosis.symptom_details or {},
                "possible_diseases": diagnosis.possible_diseases or [],
                "risk_level": diagnosis.risk_level,
                "recommendations": diagnosis.recommendations or {},
                "can_conclude": diagnosis.can_conclude,
                "reasoning": diagnosis.reasoning,
            }

            new_session = SessionModel(
                id=diagnosis.id,
                user_id=diagnosis.user_id,
                doctor_id=None,
                agent_type="general",
                agent_state=agent_state,
                last_message=diagnosis.current_question,
                status="active" if diagnosis.stage != "completed" else "completed",
                created_at=diagnosis.created_at,
                updated_at=diagnosis.updated_at,
            )

            db.add(new_session)
            migrated_count += 1

            if migrated_count % 100 == 0:
                db.commit()
                logger.info(f"Migrated {migrated_count} diagnosis sessions")

        db.commit()

        logger.info(f"Migration complete: {migrated_count} migrated, {skipped_count} skipped")

    except Exception as e:
        logger.error(f"Migration failed: {e}")
        db.rollback()
        raise
    finally:
        db.close()


# 脚本3: 迁移消息历史


def migrate_derma_messages() -> None:
    """
    将 derma_sessions.messages (JSON) 迁移到 messages 表
    """
    db = SessionLocal()

    try:
        derma_sessions = db.query(DermaSession).all()

        migrated_count = 0

        for derma in derma_sessions:
            if not derma.messages:
                continue

            for msg_data in derma.messages:
                # 检查是否已存在
                existing = (
                    db.query(Message)
                    .filter(
                        Message.session_id == derma.id,
                        Message.content == msg_data.get("content"),
                        Message.created_at == _timestamp(msg_data.get("timestamp")),
                    )
                    .first()
                )

                if existing:
                    continue

                # 创建消息记录
                message = Message(
                    session_id=derma.id,
                    sender=msg_data.get("role", "user"),
                    content=msg_data.get("content", ""),
                    message_type=msg_data.get("task_type", "text"),
                    created_at=_timestamp(msg_data.get("timestamp")),
                )

                db.add(message)
                migrated_count += 1

            if migrated_count % 500 == 0:
                db.commit()
                logger.info(f"Migrated {migrated_count} messages")

        db.commit()
        logger.info(f"Derma messages migration complete: {migrated_count} messages")

    except Exception as e:
        logger.error(f"Migration failed: {e}")
        db.rollback()
        raise
    finally:
        db.close()


def migrate_diagnosis_messages() -> None:
    """
    将 diagnosis_sessions.messages (JSON) 迁移到 messages 表
    """
    db = SessionLocal()

    try:
        diagnosis_sessions = db.query(DiagnosisSession).all()

        migrated_count = 0

        for diagnosis in diagnosis_sessions:
            if not diagnosis.messages:
                continue

            for msg_data in diagnosis.messages:
                existing = (
                    db.query(Message)
                    .filter(
                        Message.session_id == diagnosis.id,
                        Message.content == msg_data.get("content"),
                        Message.created_at == _timestamp(msg_data.get("timestamp")),
                    )
                    .first()
                )

                if existing:
                    continue

                message = Message(
                    session_id=diagnosis.id,
                    sender=msg_data.get("role", "user"),
                    content=msg_data.get("content", ""),
                    message_type="text",
                    created_at=_timestamp(msg_data.get("timestamp")),
                )

                db.add(message)
                migrated_count += 1

            if migrated_count % 500 == 0:
                db.commit()
                logger.info(f"Migrated {migrated_count} messages")

        db.commit()
        logger.info(f"Diagnosis messages migration complete: {migrated_count} messages")

    except Exception as e:
        logger.error(f"Migration failed: {e}")
        db.rollback()
        raise
    finally:
        db.close()
