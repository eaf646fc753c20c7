"""Reports of a migration, a verification and a retirement, as data and as JSON."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = [
    "MigrationReport",
    "Mismatch",
    "QuarantinedRow",
    "RetirementReport",
    "TableMigration",
    "TableVerification",
    "VerificationReport",
]


@dataclass(frozen=True)
class QuarantinedRow:
    """A legacy row that was not migrated: its table, id, reason code and what is wrong."""

    legacy_table: str
    legacy_id: str
    reason: str
    detail: str


@dataclass
class TableMigration:
    """Counts of one legacy table in one migration run.

    ``rows`` is how many legacy rows were read. Each was either ``migrated`` (or, in a dry
    run, would be), ``already_migrated`` by an earlier run, or ``quarantined``.
    ``missing_columns`` are mapper columns the table lacks (read as empty);
    ``unmapped_columns`` are table columns no mapper reads. ``present`` is False when the
    table does not exist, and then every count is 0.
    """

    source: str
    legacy_table: str
    department: str
    present: bool = True
    rows: int = 0
    migrated: int = 0
    migrated_messages: int = 0
    already_migrated: int = 0
    quarantined: int = 0
    missing_columns: list[str] = field(default_factory=list)
    unmapped_columns: list[str] = field(default_factory=list)


@dataclass
class MigrationReport:
    """The result of :func:`~medrecord.legacy.migrate_legacy`.

    ``quarantine`` lists every row this run could not migrate, with the reason; in a dry
    run these are the problems a real run would quarantine. ``run_id`` is the row of
    ``legacy_migration_runs`` that records the run, None for a dry run.
    """

    dry_run: bool
    run_id: int | None
    tables: list[TableMigration] = field(default_factory=list)
    quarantine: list[QuarantinedRow] = field(default_factory=list)

    @property
    def rows(self) -> int:
        """Legacy rows read in every table."""
        return sum(table.rows for table in self.tables)

    @property
    def migrated(self) -> int:
        """Sessions written (or, in a dry run, that would be written)."""
        return sum(table.migrated for table in self.tables)

    @property
    def migrated_messages(self) -> int:
        """Messages written (or, in a dry run, that would be written)."""
        return sum(table.migrated_messages for table in self.tables)

    @property
    def already_migrated(self) -> int:
        """Legacy rows skipped because an earlier run migrated them."""
        return sum(table.already_migrated for table in self.tables)

    @property
    def quarantined(self) -> int:
        """Legacy rows quarantined in this run."""
        return sum(table.quarantined for table in self.tables)

    def to_dict(self) -> dict[str, Any]:
        """Return the report as JSON-ready data, totals included."""
        return {
            "dry_run": self.dry_run,
            "run_id": self.run_id,
            "totals": {
                "rows": self.rows,
                "migrated": self.migrated,
                "migrated_messages": self.migrated_messages,
                "already_migrated": self.already_migrated,
                "quarantined": self.quarantined,
            },
            "tables": [asdict(table) for table in self.tables],
            "quarantine": [asdict(row) for row in self.quarantine],
        }


@dataclass(frozen=True)
class Mismatch:
    """A difference verification found between a legacy row and what was migrated.

    ``kind`` is a stable code: ``not_migrated``, ``session_missing``, ``session_fields``,
    ``state``, ``message_count``, ``message_checksum``, ``legacy_changed`` or
    ``legacy_row_missing``.
    """

    legacy_table: str
    legacy_id: str
    kind: str
    detail: str


@dataclass
class TableVerification:
    """Counts of one legacy table in one verification.

    Each legacy row is ``verified`` (migrated and equal), ``quarantined`` or counted in
    ``mismatched``. ``continued`` counts the verified sessions that have messages added
    after the migration; they are checked on their migrated messages and lasting fields.
    ``orphaned`` counts ledger entries whose legacy row no longer exists.
    ``max_updated_at`` is the latest legacy ``updated_at``; with ``rows`` it shows whether
    the table changed after the verification.
    """

    source: str
    legacy_table: str
    present: bool = True
    rows: int = 0
    verified: int = 0
    verified_messages: int = 0
    continued: int = 0
    quarantined: int = 0
    mismatched: int = 0
    orphaned: int = 0
    max_updated_at: str | None = None


@dataclass
class VerificationReport:
    """The result of :func:`~medrecord.legacy.verify_migration`.

    It has ``passed`` when no table has a mismatch or an orphaned ledger entry.
    Quarantined rows do not fail a verification, but they are counted, and retiring the
    legacy tables with quarantined rows needs explicit consent.
    """

    run_id: int | None
    tables: list[TableVerification] = field(default_factory=list)
    mismatches: list[Mismatch] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """True when every legacy row is migrated and equal, or quarantined."""
        return not self.mismatches and all(
            table.mismatched == 0 and table.orphaned == 0 for table in self.tables
        )

    @property
    def quarantined(self) -> int:
        """Legacy rows that are quarantined, in every table."""
        return sum(table.quarantined for table in self.tables)

    def to_dict(self) -> dict[str, Any]:
        """Return the report as JSON-ready data."""
        return {
            "run_id": self.run_id,
            "passed": self.passed,
            "totals": {
                "rows": sum(table.rows for table in self.tables),
                "verified": sum(table.verified for table in self.tables),
                "verified_messages": sum(table.verified_messages for table in self.tables),
                "continued": sum(table.continued for table in self.tables),
                "quarantined": self.quarantined,
                "mismatched": sum(table.mismatched for table in self.tables),
                "orphaned": sum(table.orphaned for table in self.tables),
            },
            "tables": [asdict(table) for table in self.tables],
            "mismatches": [asdict(mismatch) for mismatch in self.mismatches],
        }


@dataclass
class RetirementReport:
    """The result of :func:`~medrecord.legacy.retire_legacy`: each old name and its new one."""

    run_id: int
    verification_run_id: int
    renamed: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return the report as JSON-ready data."""
        return asdict(self)
