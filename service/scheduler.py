"""`python -m service.scheduler`: registry polling and rebuild schedules, every few seconds.

The Procfile's `scheduler:` process. Each round checks the bases that are due
(service/polling.py) and runs the schedules that are due (service/schedules.py), with "now"
from an injectable clock, so tests make a schedule due without waiting for it. Run as many as
you like: every check and run is claimed in the database, so exactly one of them does it.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import FrameType

from flask import Flask

from records.rebuild_log import RebuildEvent
from service.polling import poll_due
from service.registry_client import ManifestClient, RegistryClient
from service.schedules import run_due_schedules

logger = logging.getLogger(__name__)
Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Round:
    """What one round did: the events of the base changes found and of the schedules run."""

    polled: list[RebuildEvent] = field(default_factory=list)
    scheduled: list[RebuildEvent] = field(default_factory=list)


def run_once(app: Flask, *, now: datetime, client: ManifestClient) -> Round:
    """One round at `now`: poll the due bases, run the due schedules."""
    with app.app_context():
        return Round(polled=poll_due(client, now=now), scheduled=run_due_schedules(now=now))


def run_forever(app: Flask, *, client: ManifestClient, interval: float, stop: threading.Event,
                clock: Clock = lambda: datetime.now(UTC)) -> None:
    """Rounds every `interval` seconds until `stop` is set; a failed round is logged."""
    while not stop.is_set():
        try:
            done = run_once(app, now=clock(), client=client)
        except Exception:  # noqa: BLE001 - the database or a registry blipped: next round
            logger.exception("scheduler round failed")
        else:
            for event in done.polled + done.scheduled:
                logger.info("%s event %d: %s", event.kind, event.id, event.reason)
        stop.wait(interval)


def main(argv: list[str] | None = None) -> None:
    """Run the scheduler until SIGTERM or SIGINT."""
    parser = argparse.ArgumentParser(prog="python -m service.scheduler", description=__doc__)
    parser.add_argument("--once", action="store_true", help="run one round and exit")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    from service import create_app

    app = create_app({"JANITOR": False})
    client = RegistryClient()
    if args.once:
        run_once(app, now=datetime.now(UTC), client=client)
        return
    stop = threading.Event()

    def stopping(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, stopping)
    signal.signal(signal.SIGINT, stopping)
    interval = float(app.config["SCHEDULER_INTERVAL"])
    logger.info("scheduler: a round every %.0f s", interval)
    run_forever(app, client=client, interval=interval, stop=stop)


if __name__ == "__main__":
    main()
