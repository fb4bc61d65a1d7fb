"""GET /metrics: Prometheus text exposition, computed from the database at scrape time.

Every value is an aggregate query on the system of record, so any web process answers the same.
- autobuild_builds_total{status,repository}: counter of builds that ENDED, by final status. Only
  terminal statuses appear: a counter must never go down, and a queued build moves on to cloning.
  In-flight builds are the gauges autobuild_queue_depth and autobuild_running_builds.
- autobuild_build_duration_seconds{phase}: histogram of seconds per phase: clone (started_at to
  building_at), build (building_at to pushing_at), push (pushing_at to finished_at), total
  (started_at to finished_at). A phase ends when the next begins or the build ends, so a build
  that failed while building counts in clone and build (and total), not push.
- autobuild_webhook_deliveries_total{forge,outcome}: counter of recorded webhook deliveries.
- autobuild_queue_jobs{queue}, autobuild_queue_workers{queue}: jobs waiting on each RQ queue and
  the live workers listening on it, read from Redis (shared, so also the same everywhere).
- autobuild_webhook_refusals_unrecorded_total is the one per-process value: refusals this web
  process answered without recording them (over its budget).
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import Blueprint, Response

from core.status import RUNNING, TERMINAL, BuildStatus
from records import stats
from service.auth import check_read_access
from service.extensions import queue_snapshot, refusal_budget, store

bp = Blueprint("metrics", __name__)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
DURATION_BUCKETS = (5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0, 7200.0)


def escape_label(value: str) -> str:
    """A label value escaped for the text format (backslash, double quote, newline)."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(**labels: str) -> str:
    inner = ",".join(f'{key}="{escape_label(value)}"' for key, value in labels.items())
    return "{" + inner + "}" if inner else ""


def _number(value: float) -> str:
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def _family(name: str, kind: str, help_text: str, samples: Iterable[str]) -> list[str]:
    return [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}", *samples]


def exposition() -> str:
    """The whole /metrics body."""
    engine = store().engine
    lines: list[str] = []
    ended = stats.builds_by_repository_and_status(engine, sorted(TERMINAL))
    lines += _family(
        "autobuild_builds_total", "counter",
        "Builds that ended, by final status and repository.",
        (f"autobuild_builds_total{_labels(status=s, repository=r)} {n}" for r, s, n in ended),
    )
    name = "autobuild_build_duration_seconds"
    samples: list[str] = []
    for phase in stats.PHASES:
        buckets, count, total = stats.duration_histogram(engine, DURATION_BUCKETS, phase)
        samples += [
            f"{name}_bucket{_labels(phase=phase, le=_number(b))} {n}"
            for b, n in zip(DURATION_BUCKETS, buckets, strict=True)
        ]
        samples += [
            f"{name}_bucket{_labels(phase=phase, le='+Inf')} {count}",
            f"{name}_sum{_labels(phase=phase)} {_number(total)}",
            f"{name}_count{_labels(phase=phase)} {count}",
        ]
    lines += _family(name, "histogram",
                     "Seconds builds spent per phase (clone, build, push) and in all (total).",
                     samples)
    queued = stats.count_with_status(engine, [BuildStatus.QUEUED])
    lines += _family("autobuild_queue_depth", "gauge", "Builds waiting in status queued.",
                     [f"autobuild_queue_depth {queued}"])
    running = stats.count_with_status(engine, sorted(RUNNING))
    lines += _family("autobuild_running_builds", "gauge", "Builds cloning, building or pushing.",
                     [f"autobuild_running_builds {running}"])
    delivered = stats.deliveries_by_forge_and_outcome(engine)
    lines += _family(
        "autobuild_webhook_deliveries_total", "counter",
        "Webhook deliveries received, by forge and outcome.",
        (f"autobuild_webhook_deliveries_total{_labels(forge=f, outcome=o)} {n}"
         for f, o, n in delivered),
    )
    live = queue_snapshot()
    if live is not None:
        lines += _family("autobuild_queue_jobs", "gauge", "Jobs waiting on each RQ queue.",
                         (f"autobuild_queue_jobs{_labels(queue=q.name)} {q.depth}"
                          for q in live.queues))
        lines += _family("autobuild_queue_workers", "gauge",
                         "Live workers listening on each RQ queue.",
                         (f"autobuild_queue_workers{_labels(queue=q.name)} {len(q.workers)}"
                          for q in live.queues))
    lines += _family(
        "autobuild_webhook_refusals_unrecorded_total", "counter",
        "Refused deliveries this web process answered without recording (over its budget).",
        [f"autobuild_webhook_refusals_unrecorded_total {refusal_budget().unrecorded}"])
    return "\n".join(lines) + "\n"


@bp.get("/metrics")
def metrics() -> Response:
    """Prometheus metrics; with AUTOBUILD_READ_ACCESS=login, scrape with the API token."""
    check_read_access()
    response = Response(exposition(), content_type=CONTENT_TYPE)
    response.headers["Cache-Control"] = "no-store"
    return response
