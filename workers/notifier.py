"""The notifier's RQ entry point and its sweep (glue only): `python -m workers --queue
notifications` runs them; a slow or dead receiver delays no build, only other notifications."""

from __future__ import annotations

import logging
import os
import threading

from redis import Redis

from core.config import Settings, settings_from_env
from notify.delivery import Notifier
from notify.http import RequestsClient
from notify.queue import RQNotificationQueue
from notify.sweep import Sweeper
from records.db import make_engine
from records.migrate import check
from records.outbox import Outbox

logger = logging.getLogger(__name__)


def _settings() -> Settings:
    return settings_from_env(os.environ, base_dir=os.getcwd())


def redis_for(settings: Settings) -> Redis:
    """A Redis client with short timeouts (a hung Redis must not hang a build's commit)."""
    return Redis.from_url(settings.redis_url, socket_timeout=5, socket_connect_timeout=5)


def deliver_notifications(build_id: str) -> int:
    """Entry point RQ calls for one build: send what is due; returns how many were tried."""
    settings = _settings()
    engine = make_engine(settings.database_url)
    try:
        check(engine)
        notifier = Notifier(Outbox(engine), RequestsClient(), os.environ,
                            public_url=settings.public_url, backoff=settings.notify_backoff,
                            queue=RQNotificationQueue(redis_for(settings)))
        return len(notifier.deliver(build_id))
    finally:
        engine.dispose()


def start_sweeper(settings: Settings, stopped: threading.Event) -> threading.Thread:
    """Run the notification sweep in a daemon thread of the notifier process."""
    engine = make_engine(settings.database_url)
    sweeper = Sweeper(Outbox(engine), RQNotificationQueue(redis_for(settings)))
    thread = threading.Thread(target=sweeper.run, args=(stopped,), name="notification-sweeper",
                              daemon=True)
    thread.start()
    return thread
