"""The trigger log: every call of a Docker Hub trigger URL and what it built.

Revision ID: 0006
Revises: 0005
Create Date: 2027-01-15

A new table only (additive): existing rows are untouched.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create trigger_log and its per-repository index."""
    op.create_table(
        "trigger_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("repository", sa.String(255)),
        sa.Column("provider", sa.String(32)),
        sa.Column("url_shape", sa.String(16), nullable=False),
        sa.Column("client", sa.String(64), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("build_ids", sa.Text, nullable=False),
        sa.Column("status_code", sa.Integer, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_trigger_log_repository", "trigger_log", ["repository", "provider", "id"])


def downgrade() -> None:
    """Drop the trigger log."""
    op.drop_index("ix_trigger_log_repository", table_name="trigger_log")
    op.drop_table("trigger_log")
