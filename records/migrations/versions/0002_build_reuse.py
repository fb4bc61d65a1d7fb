"""Builds remember their inputs' fingerprint and the build whose image they pushed again.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01

`input_key` lets a ref whose commit was already built for the same rule with the same inputs
reuse that image (a retag) instead of building it again; `reused_from` names that build.
Existing rows keep NULL in both: they are simply never reused.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the two columns and the index that finds a reusable build."""
    with op.batch_alter_table("builds") as batch:
        batch.add_column(sa.Column("input_key", sa.String(64)))
        batch.add_column(sa.Column("reused_from", sa.String(32)))
    op.create_index("ix_builds_reuse", "builds",
                    ["repository", "provider", "rule_index", "commit_sha", "input_key"])


def downgrade() -> None:
    """Not supported: restore the backup taken before upgrading."""
    raise NotImplementedError("Autobuild databases are never downgraded")
