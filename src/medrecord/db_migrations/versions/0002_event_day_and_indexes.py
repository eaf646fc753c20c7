"""Add the event day with its unique index, and the indexes aggregation reads by.

``medical_events.event_date`` is the local calendar day an event files under. The partial
unique index on (user_id, agent_type, event_date) for active events is what keeps two
concurrent aggregations from creating two events. Existing events keep a NULL day, which
the index does not constrain.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ACTIVE = sa.text("status = 'active'")


def upgrade() -> None:
    with op.batch_alter_table("medical_events") as batch:
        batch.add_column(sa.Column("event_date", sa.Date(), nullable=True))

    op.create_index(
        "uq_medical_events_active_day",
        "medical_events",
        ["user_id", "agent_type", "event_date"],
        unique=True,
        sqlite_where=_ACTIVE,
        postgresql_where=_ACTIVE,
    )
    op.create_index(
        "ix_messages_session_id_created_at_id", "messages", ["session_id", "created_at", "id"]
    )
    op.create_index("ix_sessions_user_id_created_at", "sessions", ["user_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_sessions_user_id_created_at", table_name="sessions")
    op.drop_index("ix_messages_session_id_created_at_id", table_name="messages")
    op.drop_index("uq_medical_events_active_day", table_name="medical_events")
    with op.batch_alter_table("medical_events") as batch:
        batch.drop_column("event_date")
