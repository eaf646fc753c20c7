"""SQLAlchemy models of the unified tables and of the legacy migration's bookkeeping."""

from medrecord.models.base import Base, metadata
from medrecord.models.chat_session import ChatSession
from medrecord.models.legacy_migration import (
    LegacyLedgerEntry,
    LegacyMigrationRun,
    LegacyQuarantineEntry,
)
from medrecord.models.medical_event import EventStatus, MedicalEvent
from medrecord.models.message import Message, MessageType, Sender
from medrecord.models.types import UTCDateTime, json_type

__all__ = [
    "Base",
    "ChatSession",
    "EventStatus",
    "LegacyLedgerEntry",
    "LegacyMigrationRun",
    "LegacyQuarantineEntry",
    "MedicalEvent",
    "Message",
    "MessageType",
    "Sender",
    "UTCDateTime",
    "json_type",
    "metadata",
]
