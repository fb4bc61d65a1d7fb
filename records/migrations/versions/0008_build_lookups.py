"""Indexes for webhook intake's "is this push already built?" question.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01

For a new commit, "a build of this rule, ref and commit under way" had no index to narrow it to
the commit: SQLite walked every build of the rule (an ever longer walk while builds wait), and
"the last pushed build of this rule and ref" sorted all of its builds. Indexes only (additive).
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the two lookup indexes."""
    op.create_index("ix_builds_rule_ref_commit", "builds",
                    ["repository", "provider", "rule_index", "ref", "commit_sha", "created_at"])
    op.create_index("ix_builds_rule_ref_pushed", "builds",
                    ["repository", "provider", "rule_index", "ref", "status", "finished_at"])


def downgrade() -> None:
    """Drop them."""
    op.drop_index("ix_builds_rule_ref_pushed", table_name="builds")
    op.drop_index("ix_builds_rule_ref_commit", table_name="builds")
