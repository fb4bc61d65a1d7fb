"""Build events and the notifications outbox.

Revision ID: 0004
Revises: 0003
Create Date: 2025-02-01

Additive only: two new tables. `build_events` gets one row per status change, written in the
same transaction as the change (records/transitions.py); `notifications` is the outbox the
notifier sends commit statuses and webhooks from. Existing builds get no events.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create build_events and notifications."""
    op.create_table(
        "build_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("build_id", sa.String(32), sa.ForeignKey("builds.id"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expanded_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_build_events_build", "build_events", ["build_id", "id"])
    op.create_index("ix_build_events_expanded", "build_events", ["expanded_at"])
    op.create_table(
        "notifications",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("event_id", sa.Integer, sa.ForeignKey("build_events.id"), nullable=False),
        sa.Column("build_id", sa.String(32), sa.ForeignKey("builds.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("target", sa.String(1024), nullable=False),
        sa.Column("target_key", sa.String(300), nullable=False),
        sa.Column("event", sa.String(16), nullable=False),
        sa.Column("request", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True)),
        sa.Column("last_status", sa.Integer),
        sa.Column("last_answer", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("event_id", "target_key", name="uq_notification_event_target"),
    )
    op.create_index("ix_notifications_build", "notifications", ["build_id", "event_id"])
    op.create_index("ix_notifications_due", "notifications", ["state", "next_attempt_at"])


def downgrade() -> None:
    """Drop the notifications outbox and the build events."""
    op.drop_table("notifications")
    op.drop_table("build_events")
