"""Baseline: the schema as release 789ca48 made it with metadata.create_all.

Revision ID: 0001
Revises:
Create Date: 2025-01-01

The tables are written out here by hand, never imported from records/schema.py, so that history
stays fixed when the schema changes. records.migrate also compares a database that has our tables
but no alembic_version with `baseline_metadata()` before adopting it, so this declaration must
stay exactly what 789ca48's records/schema.py declared.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def baseline_metadata() -> sa.MetaData:
    """The three tables of release 789ca48, column for column."""
    metadata = sa.MetaData()
    sa.Table(
        "builds",
        metadata,
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("repository", sa.String(255), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("rule_index", sa.Integer, nullable=False),
        sa.Column("ref", sa.String(1024), nullable=False),
        sa.Column("commit_sha", sa.String(40), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("tags", sa.Text, nullable=False),
        sa.Column("digest", sa.String(128)),
        sa.Column("error", sa.Text),
        sa.Column("plan", sa.Text, nullable=False),
        sa.Column("delivery_id", sa.String(128)),
        sa.Column("superseded_by", sa.String(32)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("building_at", sa.DateTime(timezone=True)),
        sa.Column("pushing_at", sa.DateTime(timezone=True)),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True)),
        sa.Column("log_size", sa.Integer, nullable=False),
        sa.Index("ix_builds_created", "created_at"),
        sa.Index("ix_builds_rule_ref", "repository", "rule_index", "ref", "status"),
        sa.Index("ix_builds_rule_latest", "repository", "provider", "rule_index", "created_at"),
        sa.Index("ix_builds_repo_created", "repository", "created_at"),
        sa.Index("ix_builds_status", "status"),
    )
    sa.Table(
        "build_logs",
        metadata,
        sa.Column("build_id", sa.String(32), sa.ForeignKey("builds.id"), primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("text", sa.Text, nullable=False),
    )
    sa.Table(
        "deliveries",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("forge", sa.String(32), nullable=False),
        sa.Column("delivery_id", sa.String(128)),
        sa.Column("dedupe_key", sa.String(200)),
        sa.Column("event", sa.String(64), nullable=False),
        sa.Column("repository", sa.String(255)),
        sa.Column("refs", sa.Text, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("build_ids", sa.Text, nullable=False),
        sa.Column("status_code", sa.Integer, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("dedupe_key", name="uq_delivery_dedupe"),
        sa.Index("ix_deliveries_received", "received_at"),
    )
    return metadata


def upgrade() -> None:
    """Create the baseline tables (an empty database; existing ones are stamped, not created)."""
    baseline_metadata().create_all(op.get_bind(), checkfirst=False)


def downgrade() -> None:
    """Drop the baseline tables and everything in them."""
    baseline_metadata().drop_all(op.get_bind(), checkfirst=False)
