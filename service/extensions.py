"""The shared clients of the web process, kept in app.extensions (Flask's init_app pattern)."""

from __future__ import annotations

import os
import threading
from typing import Any

from flask import Flask, current_app
from redis import Redis

from core.rules import RuleSet
from notify.queue import RQNotificationQueue, enqueue_moved
from records.builds import BuildStore
from records.commit_hooks import after_commit
from records.db import BUSY_TIMEOUT, make_engine
from records.deliveries import DeliveryLog
from records.migrate import prepare
from records.outbox import Outbox
from records.rebuild_log import RebuildLog
from records.triggers import TriggerLog
from service.queue_watch import QueueSnapshot, QueueWatch, RQQueueWatch
from service.queueing import BuildQueue, RQBuildQueue
from service.rejections import DEFAULT_PER_MINUTE, RefusalBudget
from service.rules_state import RulesHolder


def init_app(app: Flask) -> None:
    """Create the store, delivery log, outbox, rules holder, queues and the queues' live watch
    for this app; committed transitions enqueue their notifications (NOTIFICATION_QUEUE in
    tests, else Redis's)."""
    engine = make_engine(app.config["DATABASE_URL"],
                         busy_timeout=float(app.config.get("DB_BUSY_TIMEOUT", BUSY_TIMEOUT)))
    prepare(engine, mode=app.config["DB_UPGRADE"])
    store = BuildStore(engine, log_cap=app.config["LOG_CAP_BYTES"])
    app.extensions["build_store"] = store
    app.extensions["delivery_log"] = DeliveryLog(engine, store)
    app.extensions["outbox"] = Outbox(engine)
    app.extensions["trigger_log"] = TriggerLog(engine)
    app.extensions["rebuild_log"] = RebuildLog(engine, store)
    app.extensions["stream_slots"] = threading.BoundedSemaphore(
        int(app.config["STREAMS_PER_PROCESS"]))
    app.extensions["refusal_budget"] = RefusalBudget(
        int(app.config.get("REFUSALS_PER_MINUTE", DEFAULT_PER_MINUTE)))
    app.extensions["rules"] = app.config.get("RULES_HOLDER") or RulesHolder(
        app.config["RULES_PATH"], environ=os.environ, builder=app.config["BUILDER"]
    )
    queue = app.config.get("BUILD_QUEUE")
    if queue is None:
        redis = Redis.from_url(app.config["REDIS_URL"], socket_timeout=5, socket_connect_timeout=5)
        app.extensions["redis"] = redis
        queue = RQBuildQueue(redis)
    app.extensions["build_queue"] = queue
    watch = app.config.get("QUEUE_WATCH")
    if watch is None and "redis" in app.extensions:
        watch = RQQueueWatch(app.extensions["redis"])
    app.extensions["queue_watch"] = watch
    notification_queue = app.config.get("NOTIFICATION_QUEUE")
    if notification_queue is None and "redis" in app.extensions:
        notification_queue = RQNotificationQueue(app.extensions["redis"])
    if notification_queue is not None:
        after_commit(engine, enqueue_moved(notification_queue))


def _ext(name: str) -> Any:
    return current_app.extensions[name]


def store() -> BuildStore:
    """The build store of the current app."""
    return _ext("build_store")  # type: ignore[no-any-return]


def outbox() -> Outbox:
    """The notifications outbox of the current app."""
    return _ext("outbox")  # type: ignore[no-any-return]


def delivery_log() -> DeliveryLog:
    """The delivery log of the current app."""
    return _ext("delivery_log")  # type: ignore[no-any-return]


def trigger_log() -> TriggerLog:
    """The Docker Hub trigger URLs' call log of the current app."""
    return _ext("trigger_log")  # type: ignore[no-any-return]


def rebuild_log() -> RebuildLog:
    """The rebuild events, decisions and claims of the current app."""
    return _ext("rebuild_log")  # type: ignore[no-any-return]


def rules_holder() -> RulesHolder:
    """The rules holder (with its reload error, if any)."""
    return _ext("rules")  # type: ignore[no-any-return]


def rules() -> RuleSet:
    """The rules in force."""
    return rules_holder().rules


def refusal_budget() -> RefusalBudget:
    """How many refused deliveries this process may still record."""
    return _ext("refusal_budget")  # type: ignore[no-any-return]


def build_queue() -> BuildQueue:
    """The queue builds are enqueued on."""
    return _ext("build_queue")  # type: ignore[no-any-return]


def queue_snapshot() -> QueueSnapshot | None:
    """The live state of every queue the rules use (None when it cannot be read)."""
    watch: QueueWatch | None = current_app.extensions.get("queue_watch")
    return watch.snapshot(rules().queues()) if watch is not None else None
