"""The shared clients of the web process, kept in app.extensions (Flask's init_app pattern)."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, current_app
from redis import Redis

from core.rules import RuleSet
from records.builds import BuildStore
from records.db import make_engine
from records.deliveries import DeliveryLog
from records.migrate import prepare
from records.triggers import TriggerLog
from service.queueing import BuildQueue, RQBuildQueue
from service.rules_state import RulesHolder


def init_app(app: Flask) -> None:
    """Create the store, delivery log, rules holder and queue for this app."""
    engine = make_engine(app.config["DATABASE_URL"])
    prepare(engine, mode=app.config["DB_UPGRADE"])
    store = BuildStore(engine, log_cap=app.config["LOG_CAP_BYTES"])
    app.extensions["build_store"] = store
    app.extensions["delivery_log"] = DeliveryLog(engine, store)
    app.extensions["trigger_log"] = TriggerLog(engine)
    app.extensions["rules"] = app.config.get("RULES_HOLDER") or RulesHolder(
        app.config["RULES_PATH"], environ=os.environ
    )
    queue = app.config.get("BUILD_QUEUE")
    if queue is None:
        redis = Redis.from_url(app.config["REDIS_URL"], socket_timeout=5, socket_connect_timeout=5)
        app.extensions["redis"] = redis
        queue = RQBuildQueue(redis)
    app.extensions["build_queue"] = queue


def _ext(name: str) -> Any:
    return current_app.extensions[name]


def store() -> BuildStore:
    """The build store of the current app."""
    return _ext("build_store")  # type: ignore[no-any-return]


def delivery_log() -> DeliveryLog:
    """The delivery log of the current app."""
    return _ext("delivery_log")  # type: ignore[no-any-return]


def trigger_log() -> TriggerLog:
    """The Docker Hub trigger URLs' call log of the current app."""
    return _ext("trigger_log")  # type: ignore[no-any-return]


def rules_holder() -> RulesHolder:
    """The rules holder (with its reload error, if any)."""
    return _ext("rules")  # type: ignore[no-any-return]


def rules() -> RuleSet:
    """The rules in force."""
    return rules_holder().rules


def build_queue() -> BuildQueue:
    """The queue builds are enqueued on."""
    return _ext("build_queue")  # type: ignore[no-any-return]
