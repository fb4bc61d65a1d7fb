"""SQLAlchemy tables of the system of record: builds, their logs and events, webhook deliveries,
trigger calls, the notifications outbox, and what rebuilds builds without a push."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator

metadata = MetaData()


class UTCDateTime(TypeDecorator[datetime]):
    """A point in time, always timezone-aware UTC in Python, whatever the database keeps.

    PostgreSQL keeps `timestamptz`; SQLite keeps text without an offset, which is UTC because
    only aware datetimes (converted to UTC) are ever written.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Refuse naive datetimes (their zone is unknown); write everything else as UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"refusing to store a naive datetime {value!r}: give it a zone")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """The stored time as an aware UTC datetime."""
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

builds = Table(
    "builds",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("repository", String(255), nullable=False),
    Column("provider", String(32), nullable=False),
    Column("rule_index", Integer, nullable=False),
    Column("ref", String(1024), nullable=False),
    Column("commit_sha", String(40), nullable=False),
    Column("status", String(16), nullable=False),
    Column("trigger", String(16), nullable=False),
    Column("tags", Text, nullable=False),  # JSON list of full image references
    Column("digest", String(128)),  # a multi-platform build's: its manifest list's
    Column("error", Text),
    Column("plan", Text, nullable=False),  # JSON BuildPlan
    Column("delivery_id", String(128)),
    Column("superseded_by", String(32)),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("started_at", UTCDateTime()),
    Column("finished_at", UTCDateTime()),
    Column("building_at", UTCDateTime()),
    Column("pushing_at", UTCDateTime()),
    Column("heartbeat_at", UTCDateTime()),
    Column("log_size", Integer, nullable=False, default=0),
    Column("input_key", String(64)),  # BuildPlan.inputs_key(): same key and commit, same image
    Column("reused_from", String(32)),  # the build whose image this one pushed (a retag)
    Column("platform_digests", Text),  # JSON [[platform, manifest digest], …] (multi-platform)
    Column("bases", Text),  # JSON [[FROM reference, digest or null], …] of a successful build
    Column("cause", Text),  # JSON core.rebuilds.RebuildCause of a base_image or schedule build
    Index("ix_builds_created", "created_at"),
    Index("ix_builds_rule_ref", "repository", "rule_index", "ref", "status"),
    Index("ix_builds_rule_latest", "repository", "provider", "rule_index", "created_at"),
    Index("ix_builds_repo_created", "repository", "created_at"),
    Index("ix_builds_status", "status"),
    Index("ix_builds_reuse", "repository", "provider", "rule_index", "commit_sha", "input_key"),
    # "is this push already built?" (records/tag_history.py), asked for every webhook
    Index("ix_builds_rule_ref_commit", "repository", "provider", "rule_index", "ref",
          "commit_sha", "created_at"),
    Index("ix_builds_rule_ref_pushed", "repository", "provider", "rule_index", "ref", "status",
          "finished_at"),
)

build_logs = Table(
    "build_logs",
    metadata,
    Column("build_id", String(32), ForeignKey("builds.id"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("text", Text, nullable=False),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("forge", String(32), nullable=False),
    Column("delivery_id", String(128)),
    # set only once a delivery is accepted, so a rejected one does not block its redelivery
    Column("dedupe_key", String(200)),
    Column("event", String(64), nullable=False),
    Column("repository", String(255)),
    Column("refs", Text, nullable=False),  # JSON list
    Column("outcome", String(16), nullable=False),  # queued | ignored | rejected | ping | duplicate
    Column("reason", Text),
    Column("build_ids", Text, nullable=False),  # JSON list
    Column("status_code", Integer, nullable=False),
    Column("received_at", UTCDateTime(), nullable=False),
    UniqueConstraint("dedupe_key", name="uq_delivery_dedupe"),
    Index("ix_deliveries_received", "received_at"),
)

build_events = Table(
    "build_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("build_id", String(32), ForeignKey("builds.id"), nullable=False),
    Column("status", String(16), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    # set once the event's notifications are recorded (records/notify_fanout.py)
    Column("expanded_at", UTCDateTime()),
    Index("ix_build_events_build", "build_id", "id"),
    Index("ix_build_events_expanded", "expanded_at"),
)

notifications = Table(
    "notifications",
    metadata,
    Column("id", String(32), primary_key=True),  # also the webhook's delivery id
    Column("event_id", Integer, ForeignKey("build_events.id"), nullable=False),
    Column("build_id", String(32), ForeignKey("builds.id"), nullable=False),
    Column("kind", String(16), nullable=False),  # commit_status | webhook | chat
    Column("target", String(1024), nullable=False),  # where it goes, without secrets
    Column("target_key", String(300), nullable=False),  # the same for every event at a target
    Column("event", String(16), nullable=False),  # the build status it tells
    Column("request", Text, nullable=False),  # JSON OutgoingRequest without body or secrets
    Column("body", Text, nullable=False),  # the exact JSON sent
    Column("state", String(16), nullable=False),  # pending | sending | sent | failed | skipped
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime(), nullable=False),
    Column("lease_until", UTCDateTime()),  # while `sending`: when another sender may take over
    Column("last_status", Integer),
    Column("last_answer", Text),  # bounded excerpt of the answer, or the connection error
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("sent_at", UTCDateTime()),
    UniqueConstraint("event_id", "target_key", name="uq_notification_event_target"),
    Index("ix_notifications_build", "build_id", "event_id"),
    Index("ix_notifications_due", "state", "next_attempt_at"),
)

trigger_log = Table(
    "trigger_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("repository", String(255)),  # NULL: the token or the path named no repository
    Column("provider", String(32)),
    Column("url_shape", String(16), nullable=False),  # classic (/u/…) | source (/api/build/v1/…)
    Column("client", String(64), nullable=False),
    Column("body", Text, nullable=False),  # bounded, tokens masked
    Column("outcome", String(16), nullable=False),  # core.triggers.TriggerOutcome
    Column("reason", Text),
    Column("build_ids", Text, nullable=False),  # JSON list
    Column("status_code", Integer, nullable=False),
    Column("received_at", UTCDateTime(), nullable=False),
    Index("ix_trigger_log_repository", "repository", "provider", "id"),
)

rebuild_events = Table(
    "rebuild_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),  # notification | poll | schedule
    Column("dedupe_key", String(200)),  # notification: registry:<event id>
    Column("origin", String(700), nullable=False),  # the cascade it belongs to
    Column("reference", String(512)),  # the base image (NULL for a schedule's run)
    Column("digest", String(140)),
    Column("pusher_build_id", String(32)),  # our build whose push this was, if any
    Column("outcome", String(16), nullable=False),  # queued | ignored | duplicate
    Column("reason", Text),
    Column("build_ids", Text, nullable=False),  # JSON list
    Column("received_at", UTCDateTime(), nullable=False),
    UniqueConstraint("dedupe_key", name="uq_rebuild_event_dedupe"),
    Index("ix_rebuild_events_pusher", "pusher_build_id"),
)

rebuild_decisions = Table(
    "rebuild_decisions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", Integer, ForeignKey("rebuild_events.id"), nullable=False),
    Column("repository", String(255), nullable=False),
    Column("provider", String(32), nullable=False),
    Column("rule_index", Integer, nullable=False),
    Column("ref", String(1024), nullable=False),
    Column("verdict", String(16), nullable=False),  # core.rebuilds.Verdict
    Column("reason", Text, nullable=False),
    Column("build_id", String(32)),  # the rebuild queued, or the build that already did it
    Column("decided_at", UTCDateTime(), nullable=False),
    Index("ix_rebuild_decisions_repository", "repository", "provider", "id"),
    Index("ix_rebuild_decisions_event", "event_id"),
)

rebuild_claims = Table(
    "rebuild_claims",
    metadata,
    Column("claim_key", String(64), primary_key=True),  # core.rebuilds.claim_key
    Column("origin", String(700), nullable=False),
    Column("build_id", String(32), ForeignKey("builds.id"), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

base_checks = Table(
    "base_checks",
    metadata,
    Column("reference", String(512), primary_key=True),  # canonical host/path:tag
    Column("digest", String(140)),  # the registry's, at the last check that answered
    Column("outcome", String(16)),  # unchanged | changed | rate_limited | failed
    Column("message", Text),
    Column("failures", Integer, nullable=False),
    Column("checked_at", UTCDateTime()),
    Column("next_check_at", UTCDateTime(), nullable=False),
)

rebuild_schedules = Table(
    "rebuild_schedules",
    metadata,
    Column("repository", String(255), primary_key=True),
    Column("provider", String(32), primary_key=True),
    Column("rule_index", Integer, primary_key=True),
    Column("expression", String(300), nullable=False),  # "<cron> <time zone>"
    Column("last_due_at", UTCDateTime(), nullable=False),  # the last run claimed
    Column("last_run_at", UTCDateTime()),  # when that run was queued (NULL: not yet)
)
