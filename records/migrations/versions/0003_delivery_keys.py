"""Delivery dedupe keys name the repository too, so one repository cannot suppress another's.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

Keys were `forge:delivery-id`; a signed delivery for repository A reusing B's delivery id
made B's real delivery a "duplicate". Keys are now a hash of (forge, repository, id); the rows
recorded before are rewritten to that form, so their redeliveries are still refused.
"""

from __future__ import annotations

import hashlib
import json

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _key(forge: str, repository: str | None, delivery_id: str) -> str:
    """records.deliveries.dedupe_key as of this revision (copied: history must not change)."""
    text = json.dumps([forge, repository, delivery_id])
    return "v2:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def upgrade() -> None:
    """Rewrite every `forge:id` key into the scoped form."""
    deliveries = sa.table("deliveries", sa.column("id", sa.Integer),
                          sa.column("forge", sa.String), sa.column("repository", sa.String),
                          sa.column("delivery_id", sa.String), sa.column("dedupe_key", sa.String))
    conn = op.get_bind()
    rows = conn.execute(sa.select(deliveries.c.id, deliveries.c.forge, deliveries.c.repository,
                                  deliveries.c.delivery_id)
                        .where(deliveries.c.dedupe_key.is_not(None),
                               deliveries.c.dedupe_key.not_like("v2:%"))).all()
    for pk, forge, repository, delivery_id in rows:
        conn.execute(sa.update(deliveries).where(deliveries.c.id == pk)
                     .values(dedupe_key=_key(forge, repository, delivery_id or "")))


def downgrade() -> None:
    """Not supported: restore the backup taken before upgrading."""
    raise NotImplementedError("Autobuild databases are never downgraded")
