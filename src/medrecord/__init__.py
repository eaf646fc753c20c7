"""medrecord: unified AI-intake chat sessions and honest medical records.

The public API is re-exported here; submodules not listed in ``__all__`` are internal.
"""

import logging

from medrecord.aggregation import DEFAULT_MESSAGE_CAP, AggregationResult, SessionSummary, aggregate
from medrecord.clock import DEFAULT_TIME_ZONE, local_day, resolve_time_zone, utc_now
from medrecord.database import DEFAULT_DATABASE_URL, create_engine
from medrecord.departments import (
    ENTRY_POINT_GROUP,
    Department,
    DepartmentRegistry,
    build_plugin_manager,
    load_departments,
)
from medrecord.errors import (
    AggregationError,
    ConfigurationError,
    DepartmentConflictError,
    DepartmentError,
    DuplicateDepartmentError,
    EventNotFoundError,
    ImportLineError,
    InvalidTimeZoneError,
    LegacyMigrationError,
    LegacyRowError,
    MedrecordError,
    MigrationNotVerifiedError,
    NotFoundError,
    NoUserMessageError,
    PluginLoadError,
    RecordRenderError,
    SessionNotFoundError,
    UnknownDepartmentError,
)
from medrecord.hookspecs import hookimpl, hookspec
from medrecord.legacy import (
    LegacyMapper,
    MigrationReport,
    RetirementReport,
    VerificationReport,
    migrate_legacy,
    retire_legacy,
    verify_migration,
)
from medrecord.models import (
    Base,
    ChatSession,
    EventStatus,
    MedicalEvent,
    Message,
    MessageType,
    Sender,
)
from medrecord.records import SUPPORTED_LOCALES, render_record
from medrecord.schema import upgrade_schema
from medrecord.state import (
    AgentState,
    DiagnosisCandidate,
    Recommendations,
    RiskLevel,
    StateModel,
    StateProblem,
    StateReading,
    SymptomDetail,
    SymptomStatus,
    read_agent_state,
)

__version__ = "0.1.0"

__all__ = [
    "AgentState",
    "AggregationError",
    "AggregationResult",
    "Base",
    "ChatSession",
    "ConfigurationError",
    "DEFAULT_DATABASE_URL",
    "DEFAULT_MESSAGE_CAP",
    "DEFAULT_TIME_ZONE",
    "Department",
    "DepartmentConflictError",
    "DepartmentError",
    "DepartmentRegistry",
    "DiagnosisCandidate",
    "DuplicateDepartmentError",
    "ENTRY_POINT_GROUP",
    "EventNotFoundError",
    "EventStatus",
    "ImportLineError",
    "InvalidTimeZoneError",
    "LegacyMapper",
    "LegacyMigrationError",
    "LegacyRowError",
    "MedicalEvent",
    "MedrecordError",
    "Message",
    "MessageType",
    "MigrationNotVerifiedError",
    "MigrationReport",
    "NoUserMessageError",
    "NotFoundError",
    "PluginLoadError",
    "Recommendations",
    "RecordRenderError",
    "RetirementReport",
    "RiskLevel",
    "SUPPORTED_LOCALES",
    "Sender",
    "SessionNotFoundError",
    "SessionSummary",
    "StateModel",
    "StateProblem",
    "StateReading",
    "SymptomDetail",
    "SymptomStatus",
    "UnknownDepartmentError",
    "VerificationReport",
    "__version__",
    "aggregate",
    "build_plugin_manager",
    "create_engine",
    "hookimpl",
    "hookspec",
    "load_departments",
    "local_day",
    "migrate_legacy",
    "read_agent_state",
    "render_record",
    "resolve_time_zone",
    "retire_legacy",
    "upgrade_schema",
    "utc_now",
    "verify_migration",
]

logging.getLogger(__name__).addHandler(logging.NullHandler())
