"""`python -m workers`: an RQ worker on the builds queue (the Procfile's worker: line), on the
queues of its capabilities (`--queue builds --queue arm64`), or with `--queue notifications`
the notifier (the notifier: line)."""

from __future__ import annotations

import argparse
import logging
import os
import threading

from redis import Redis
from rq import Queue, Worker

from core.build_options import queue_problem
from core.config import Settings, settings_from_env
from core.defaults import NOTIFY_QUEUE_NAME, QUEUE_NAME
from notify.queue import RQNotificationQueue, enqueue_moved
from records.builds import BuildStore
from records.commit_hooks import after_commit
from records.coordination import fail_lost_builds
from records.db import make_engine
from records.migrate import MigrationError, prepare
from workers import jobs  # imported once here: every forked work-horse has it loaded
from workers.notifier import redis_for, start_sweeper

logger = logging.getLogger("workers")
SWEEP_INTERVAL = 10.0
WORKER_TTL = 60
"""Seconds RQ keeps a silent worker registered: a killed worker stops counting as listening on
its queues (pages say "no worker is listening") within WORKER_TTL + 60 s, not RQ's 8 minutes."""


def queue_name(text: str) -> str:
    """A --queue value: `notifications`, or a build queue's name as rules spell it."""
    if text != NOTIFY_QUEUE_NAME and (problem := queue_problem(text)):
        raise argparse.ArgumentTypeError(problem)
    return text


def sweep_lost_builds(settings: Settings, *, interval: float = SWEEP_INTERVAL) -> None:
    """Fail builds whose worker stopped heartbeating (on any machine), every `interval` s."""
    store = BuildStore.from_url(settings.database_url, log_cap=settings.log_cap_bytes)
    after_commit(store.engine, enqueue_moved(RQNotificationQueue(redis_for(settings))))
    stopped = threading.Event()
    while not stopped.wait(interval):
        try:
            lost = fail_lost_builds(store)
        except Exception:  # noqa: BLE001 - try again next round
            logger.exception("lost-build sweep failed")
            continue
        if lost:
            logger.warning("marked lost builds as failed: %s", lost)


def main() -> None:
    """Run a worker until stopped (or until the queue is empty with --burst)."""
    parser = argparse.ArgumentParser(prog="python -m workers", description=__doc__)
    parser.add_argument("--burst", action="store_true", help="exit when the queue is empty")
    parser.add_argument("--queue", action="append", dest="queues", type=queue_name,
                        help=f"queue to work on (repeatable; default {QUEUE_NAME}; "
                        f"{NOTIFY_QUEUE_NAME} for the notifier)")
    args = parser.parse_args()
    queues = list(dict.fromkeys(args.queues or [QUEUE_NAME]))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    settings = settings_from_env(os.environ, base_dir=os.getcwd())
    engine = make_engine(settings.database_url)
    try:
        prepare(engine, mode=settings.db_upgrade)
    except MigrationError as exc:
        logger.error("%s", exc)
        raise SystemExit(1) from None
    finally:
        engine.dispose()
    if set(queues) - {NOTIFY_QUEUE_NAME}:  # it runs builds
        try:
            jobs.engine_api_version(settings.docker_host)
        except Exception as exc:  # noqa: BLE001 - each build asks again (and fails clearly)
            logger.warning("the Docker engine at %s does not answer yet: %s",
                           settings.docker_host, exc)
        threading.Thread(target=sweep_lost_builds, args=(settings,), name="lost-build-sweeper",
                         daemon=True).start()
    if NOTIFY_QUEUE_NAME in queues:
        start_sweeper(settings, threading.Event())
    redis = Redis.from_url(settings.redis_url)
    worker = Worker([Queue(name, connection=redis) for name in queues], connection=redis,
                    worker_ttl=WORKER_TTL)
    worker.work(with_scheduler=True, burst=args.burst)


if __name__ == "__main__":
    main()
