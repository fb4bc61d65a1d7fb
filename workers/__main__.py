"""`python -m workers`: an RQ worker on the builds queue (the Procfile's worker: line)."""

from __future__ import annotations

import argparse
import logging
import os

from redis import Redis
from rq import Queue, Worker

from core.config import QUEUE_NAME, settings_from_env


def main() -> None:
    """Run a worker until stopped (or until the queue is empty with --burst)."""
    parser = argparse.ArgumentParser(prog="python -m workers", description=__doc__)
    parser.add_argument("--burst", action="store_true", help="exit when the queue is empty")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    settings = settings_from_env(os.environ, base_dir=os.getcwd())
    redis = Redis.from_url(settings.redis_url)
    worker = Worker([Queue(QUEUE_NAME, connection=redis)], connection=redis)
    worker.work(with_scheduler=True, burst=args.burst)


if __name__ == "__main__":
    main()
