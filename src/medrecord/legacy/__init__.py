"""Migrating the legacy per-department tables into the unified sessions and messages.

:func:`migrate_legacy` moves ``derma_sessions`` and ``diagnosis_sessions`` rows, through the
mappers that department plugins provide, into ``sessions`` and ``messages``;
:func:`verify_migration` compares every legacy row with what was written; and
:func:`retire_legacy` renames the legacy tables once a verification passed.
"""

from medrecord.legacy.checksum import canonical_json, message_checksum, state_checksum
from medrecord.legacy.engine import DEFAULT_BATCH_SIZE, MigrationProgress, migrate_legacy
from medrecord.legacy.mapping import (
    DEFAULT_TASK_TYPES,
    LegacyMapper,
    MappedMessage,
    MappedSession,
    ProblemReason,
    read_legacy_time,
)
from medrecord.legacy.registry import legacy_mappers
from medrecord.legacy.report import (
    MigrationReport,
    Mismatch,
    QuarantinedRow,
    RetirementReport,
    TableMigration,
    TableVerification,
    VerificationReport,
)
from medrecord.legacy.retire import DEPRECATED_SUFFIX, retire_legacy
from medrecord.legacy.tables import DermaSession, DiagnosisSession, LegacyBase, legacy_metadata
from medrecord.legacy.verify import verify_migration

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_TASK_TYPES",
    "DEPRECATED_SUFFIX",
    "DermaSession",
    "DiagnosisSession",
    "LegacyBase",
    "LegacyMapper",
    "MappedMessage",
    "MappedSession",
    "MigrationProgress",
    "MigrationReport",
    "Mismatch",
    "ProblemReason",
    "QuarantinedRow",
    "RetirementReport",
    "TableMigration",
    "TableVerification",
    "VerificationReport",
    "legacy_mappers",
    "legacy_metadata",
    "canonical_json",
    "message_checksum",
    "migrate_legacy",
    "read_legacy_time",
    "retire_legacy",
    "state_checksum",
    "verify_migration",
]
