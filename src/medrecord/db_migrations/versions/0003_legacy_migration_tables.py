"""Add the bookkeeping tables of the legacy migration.

``legacy_migration_runs`` records each migration, verification and retirement.
``legacy_migration_ledger`` maps each migrated legacy row to its session, which is what
makes a second migration run add nothing. ``legacy_migration_quarantine`` lists the legacy
rows that could not be migrated, with the reason. The legacy tables themselves are not
touched.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from medrecord.models.types import UTCDateTime, json_type

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "legacy_migration_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("report", json_type(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_legacy_migration_runs"),
    )
    op.create_table(
        "legacy_migration_ledger",
        sa.Column("legacy_table", sa.String(63), nullable=False),
        sa.Column("legacy_id", sa.String(36), nullable=False),
        sa.Column("session_id", sa.String(36), nullable=False),
        sa.Column("message_count", sa.Integer(), nullable=False),
        sa.Column("message_checksum", sa.String(64), nullable=False),
        sa.Column("state_checksum", sa.String(64), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("migrated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("legacy_table", "legacy_id", name="pk_legacy_migration_ledger"),
        sa.UniqueConstraint("session_id", name="uq_legacy_migration_ledger_session_id"),
    )
    op.create_table(
        "legacy_migration_quarantine",
        sa.Column("legacy_table", sa.String(63), nullable=False),
        sa.Column("legacy_id", sa.String(255), nullable=False),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("legacy_table", "legacy_id", name="pk_legacy_migration_quarantine"),
    )


def downgrade() -> None:
    op.drop_table("legacy_migration_quarantine")
    op.drop_table("legacy_migration_ledger")
    op.drop_table("legacy_migration_runs")
