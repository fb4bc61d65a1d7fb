"""Record each platform's manifest digest of a multi-platform build.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

Additive: one nullable column, builds.platform_digests, a JSON list of [platform, manifest
digest] pairs; builds.digest of such a build is its manifest list's digest. Existing rows keep
NULL (a single-platform build, or one built before this revision).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add builds.platform_digests."""
    with op.batch_alter_table("builds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("platform_digests", sa.Text(), nullable=True))


def downgrade() -> None:
    """Drop builds.platform_digests."""
    with op.batch_alter_table("builds", schema=None) as batch_op:
        batch_op.drop_column("platform_digests")
