"""Rebuilds without a push: each build's base images and cause, and the rebuild records.

Revision ID: 0007
Revises: 0006
Create Date: 2027-02-01

Additive: two nullable columns on builds (bases, a JSON list of [FROM reference, digest]; cause,
the JSON RebuildCause of a base_image or schedule build), and five new tables: rebuild_events
(registry notifications, polls and schedule runs), rebuild_decisions (what each did for each
rule, and why), rebuild_claims (one rebuild per origin, rule and ref), base_checks (the
registry polling state of each base) and rebuild_schedules (each schedule's last run).
Existing rows keep NULL: builds made before this revision show no bases.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add builds.bases and builds.cause, and the rebuild tables."""
    with op.batch_alter_table("builds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bases", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("cause", sa.Text(), nullable=True))
    op.create_table(
        "rebuild_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("dedupe_key", sa.String(200)),
        sa.Column("origin", sa.String(700), nullable=False),
        sa.Column("reference", sa.String(512)),
        sa.Column("digest", sa.String(140)),
        sa.Column("pusher_build_id", sa.String(32)),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("build_ids", sa.Text, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("dedupe_key", name="uq_rebuild_event_dedupe"),
    )
    op.create_index("ix_rebuild_events_pusher", "rebuild_events", ["pusher_build_id"])
    op.create_table(
        "rebuild_decisions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.Integer, sa.ForeignKey("rebuild_events.id"), nullable=False),
        sa.Column("repository", sa.String(255), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("rule_index", sa.Integer, nullable=False),
        sa.Column("ref", sa.String(1024), nullable=False),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("build_id", sa.String(32)),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_rebuild_decisions_repository", "rebuild_decisions",
                    ["repository", "provider", "id"])
    op.create_index("ix_rebuild_decisions_event", "rebuild_decisions", ["event_id"])
    op.create_table(
        "rebuild_claims",
        sa.Column("claim_key", sa.String(64), primary_key=True),
        sa.Column("origin", sa.String(700), nullable=False),
        sa.Column("build_id", sa.String(32), sa.ForeignKey("builds.id"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "base_checks",
        sa.Column("reference", sa.String(512), primary_key=True),
        sa.Column("digest", sa.String(140)),
        sa.Column("outcome", sa.String(16)),
        sa.Column("message", sa.Text),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True)),
        sa.Column("next_check_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "rebuild_schedules",
        sa.Column("repository", sa.String(255), primary_key=True),
        sa.Column("provider", sa.String(32), primary_key=True),
        sa.Column("rule_index", sa.Integer, primary_key=True),
        sa.Column("expression", sa.String(300), nullable=False),
        sa.Column("last_due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_run_at", sa.DateTime(timezone=True)),
    )


def downgrade() -> None:
    """Drop the rebuild tables and the two builds columns."""
    op.drop_table("rebuild_schedules")
    op.drop_table("base_checks")
    op.drop_table("rebuild_claims")
    op.drop_index("ix_rebuild_decisions_event", table_name="rebuild_decisions")
    op.drop_index("ix_rebuild_decisions_repository", table_name="rebuild_decisions")
    op.drop_table("rebuild_decisions")
    op.drop_index("ix_rebuild_events_pusher", table_name="rebuild_events")
    op.drop_table("rebuild_events")
    with op.batch_alter_table("builds", schema=None) as batch_op:
        batch_op.drop_column("cause")
        batch_op.drop_column("bases")
