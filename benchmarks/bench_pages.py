"""Benchmark: the dashboard and a repository page with 10,000 builds in the database.

Seeds a temporary SQLite database with 10,000 builds (20 repositories x 3 rules, mixed statuses,
a few in progress, logs for some) and 2,000 webhook deliveries, then times GET / and
GET /repos/<name> (and a filtered, paginated repository page) with the Flask test client,
200 times each after a warm-up, and prints p50 / p95 / max in milliseconds. Not run by pytest.

    var/venv/bin/python -m benchmarks.bench_pages [--builds 10000] [--runs 200]

The target is p95 < 100 ms for both pages.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from core.plan import BuildPlan
from core.status import BuildStatus
from records.builds import build_rows
from records.schema import build_logs, builds, deliveries
from service import create_app

REPOSITORIES = 20
RULES = ("      - source_type: branch\n        source: main\n        tag: latest\n"
         "      - source_type: branch\n        source: /^release-.*$/\n"
         "        tag: \"{sourceref}\"\n"
         "      - source_type: tag\n        source: /^v([0-9.]+)$/\n        tag: \"{\\\\1}\"\n")
FINISHED = [BuildStatus.SUCCESS] * 6 + [BuildStatus.FAILED, BuildStatus.CANCELLED,
                                         BuildStatus.SUPERSEDED, BuildStatus.SKIPPED]


class NullQueue:
    """The pages never enqueue; a queue that does nothing keeps Redis out of the benchmark."""

    def enqueue(self, build: object) -> None:
        """Nothing."""

    def discard(self, build_id: str) -> None:
        """Nothing."""

    def has_job(self, build_id: str) -> bool:
        return True


def rules_text() -> str:
    entries = "".join(
        f"  - name: org{i}/app{i}\n    provider: github\n"
        f"    clone_url: https://github.com/org{i}/app{i}.git\n"
        f"    secret: bench-secret\n    image: 127.0.0.1:5000/org{i}/app{i}\n"
        f"    rules:\n{RULES}"
        for i in range(REPOSITORIES))
    return "repositories:\n" + entries


def seed(app_db_engine: object, count: int) -> None:
    """Insert `count` builds spread over the last 30 days, with logs and deliveries."""
    rng = random.Random(7)
    start = datetime.now(UTC) - timedelta(days=30)
    step = timedelta(days=30) / count
    rows = []
    for n in range(count):
        repo = n % REPOSITORIES
        rule = rng.choice((0, 0, 0, 1, 2))
        ref = ("refs/heads/main", f"refs/heads/release-{n % 7}", f"refs/tags/v1.{n % 50}")[rule]
        plan = BuildPlan(repository=f"org{repo}/app{repo}", provider="github", rule_index=rule,
                         ref=ref, commit=f"{rng.getrandbits(160):040x}",
                         clone_url=f"https://github.com/org{repo}/app{repo}.git",
                         image=f"127.0.0.1:5000/org{repo}/app{repo}",
                         tags=(f"127.0.0.1:5000/org{repo}/app{repo}:latest",),
                         commit_message=f"Commit number {n}\n\nwith a body")
        created = start + step * n
        (row,) = build_rows([f"{n:011x}{rng.getrandbits(32):08x}"], [plan], delivery_id=None,
                            now=created)
        active = n >= count - 5
        status = (BuildStatus.BUILDING if n >= count - 2 else BuildStatus.QUEUED) if active \
            else rng.choice(FINISHED)
        row["status"] = status.value
        row.update(started_at=None, building_at=None, pushing_at=None, finished_at=None,
                   digest=None, error=None)
        if status is not BuildStatus.QUEUED:
            row["started_at"] = created + timedelta(seconds=3)
            row["building_at"] = created + timedelta(seconds=8)
        if status.is_terminal():
            row["finished_at"] = created + timedelta(seconds=rng.randint(20, 300))
            if status is BuildStatus.SUCCESS:
                row["digest"] = f"sha256:{rng.getrandbits(256):064x}"
                row["pushing_at"] = created + timedelta(seconds=15)
            elif status is BuildStatus.FAILED:
                row["error"] = "Step 3/5 : RUN make: returned a non-zero code: 2"
        rows.append(row)
    with app_db_engine.begin() as conn:  # type: ignore[attr-defined]
        conn.execute(insert(builds), rows)
        conn.execute(insert(build_logs), [
            {"build_id": r["id"], "seq": s, "text": f"Step {s}/5 : RUN something\n" * 20}
            for r in rows[::10] for s in range(1, 6)])
        conn.execute(insert(deliveries), [
            {"forge": "github", "delivery_id": f"d{n}", "dedupe_key": f"github:d{n}",
             "event": "push", "repository": f"org{n % REPOSITORIES}/app{n % REPOSITORIES}",
             "refs": json.dumps(["refs/heads/feature"]),
             "outcome": rng.choice(("queued", "ignored", "rejected")),
             "reason": "no rule matches refs/heads/feature", "build_ids": "[]",
             "status_code": 200, "received_at": start + timedelta(minutes=n)}
            for n in range(2000)])


def timed(client: object, url: str, runs: int) -> list[float]:
    for _ in range(10):  # warm-up: templates compiled, caches filled
        client.get(url)  # type: ignore[attr-defined]
    samples = []
    for _ in range(runs):
        begin = time.perf_counter()
        response = client.get(url)  # type: ignore[attr-defined]
        samples.append((time.perf_counter() - begin) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return samples


def report(name: str, samples: list[float]) -> None:
    ordered = sorted(samples)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    print(f"{name:<45} p50 {statistics.median(ordered):6.1f} ms   p95 {p95:6.1f} ms   "
          f"max {ordered[-1]:6.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--builds", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        rules = Path(folder) / "rules.yaml"
        rules.write_text(rules_text())
        app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{folder}/bench.db",
                          "RULES_PATH": str(rules), "BUILD_QUEUE": NullQueue(),
                          "SECRET_KEY": "bench", "REDIS_URL": "redis://127.0.0.1:1/0",
                          "DB_UPGRADE": "auto"})
        began = time.perf_counter()
        seed(app.extensions["build_store"].engine, args.builds)
        print(f"seeded {args.builds} builds in {time.perf_counter() - began:.1f} s")
        client = app.test_client()
        for name, url in (("GET /", "/"),
                          ("GET /repos/org3/app3", "/repos/org3/app3"),
                          ("GET /repos/org3/app3?status=success&page=3",
                           "/repos/org3/app3?status=success&page=3"),
                          ("GET /deliveries", "/deliveries")):
            report(name, timed(client, url, args.runs))


if __name__ == "__main__":
    main()
