"""Scenario 6, status pages at scale: 10,000 builds (20 repositories × 3 rules, mixed statuses,
a few in progress), 100,000 log lines, one build with a 10 MB log and 2,000 deliveries, then
the dashboard, a repository page, the 10 MB build page and the builds API, each timed over
HTTP against the Procfile's web command after a warm-up. Target: p95 < 100 ms each."""

from __future__ import annotations

import json
import random
import time
from datetime import UTC, datetime, timedelta

import requests
from sqlalchemy import insert

from benchmarks import stack
from benchmarks.suite import Context, Outcome, Row, Target
from core.plan import BuildPlan
from core.status import BuildStatus
from records.builds import build_rows
from records.db import make_engine
from records.schema import build_logs, builds, deliveries

REPOSITORIES = 20
RULES = ("      - source_type: branch\n        source: main\n        tag: latest\n"
         "      - source_type: branch\n        source: /^release-.*$/\n"
         "        tag: \"{sourceref}\"\n"
         "      - source_type: tag\n        source: /^v([0-9.]+)$/\n        tag: \"{\\\\1}\"\n")
FINISHED = [BuildStatus.SUCCESS] * 6 + [BuildStatus.FAILED, BuildStatus.CANCELLED,
                                         BuildStatus.SUPERSEDED, BuildStatus.SKIPPED]


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
                         dockerfile="Dockerfile", context=".",
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


BIG_LOG_BYTES = 10 * 1024 * 1024
BIG_LOG_CHUNK = 64 * 1024


def seed_big_log(engine: object, build_id: str, size: int) -> None:
    """`size` bytes of BuildKit-like output in the chunks the worker writes."""
    line = "#7 0.412 compiling module %06d of the build, with some output to make it long\n"
    text = "".join(line % n for n in range(BIG_LOG_CHUNK // len(line % 0) + 1))[:BIG_LOG_CHUNK]
    chunks = max(1, size // BIG_LOG_CHUNK)
    with engine.begin() as conn:  # type: ignore[attr-defined]
        conn.execute(insert(build_logs), [{"build_id": build_id, "seq": 1000 + n, "text": text}
                                          for n in range(chunks)])
        conn.execute(builds.update().where(builds.c.id == build_id)
                     .values(log_size=chunks * len(text)))


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, int(len(ordered) * 0.95) - 1)]


def timed(session: requests.Session, url: str, runs: int) -> list[float]:
    """Milliseconds of `runs` GETs of `url` after a warm-up (templates, caches)."""
    for _ in range(5):
        session.get(url, timeout=30)
    samples = []
    for _ in range(runs):
        begin = time.perf_counter()
        answer = session.get(url, timeout=30)
        samples.append((time.perf_counter() - begin) * 1000)
        if answer.status_code != 200:
            raise RuntimeError(f"GET {url} answered {answer.status_code}")
    return samples


def run(ctx: Context) -> Outcome:
    with stack.redis_server(ctx.scratch) as redis_url:
        return measure(ctx, redis_url)


def measure(ctx: Context, redis_url: str) -> Outcome:
    count = ctx.count(10_000, 2_000)
    runs = ctx.count(200, 20)
    url = f"sqlite:///{ctx.scratch}/autobuild.db"
    rules = ctx.scratch / "rules.yaml"
    rules.write_text(rules_text())
    env = stack.service_env(ctx.scratch, redis_url=redis_url, database_url=url, rules=rules)
    stack.prepare_database(env)
    engine = make_engine(url)
    began = time.perf_counter()
    seed(engine, count)
    with engine.connect() as conn:
        big = conn.execute(builds.select().where(builds.c.repository == "org3/app3")
                           .order_by(builds.c.created_at.desc()).limit(1)).mappings().one()["id"]
        lines = sum(t.count("\n") for (t,) in conn.execute(
            build_logs.select().with_only_columns(build_logs.c.text)))
    seed_big_log(engine, big, ctx.count(BIG_LOG_BYTES, BIG_LOG_BYTES // 10))
    engine.dispose()
    seeded = time.perf_counter() - began
    pages = {"dashboard /": "/", "repository page /repos/org3/app3": "/repos/org3/app3",
             "repository page, filtered, page 3": "/repos/org3/app3?status=success&page=3",
             "build page with a 10 MB log": f"/builds/{big}",
             "builds API /api/builds": "/api/builds",
             "deliveries /deliveries": "/deliveries"}
    outcome = Outcome(notes={"seeded": f"{count} builds, {lines} log lines besides the big "
                                       f"log, 2000 deliveries, in {seeded:.1f} s"})
    with stack.web(env, ctx.scratch) as port, requests.Session() as session:
        for name, path in pages.items():
            samples = timed(session, f"http://127.0.0.1:{port}{path}", runs)
            outcome.rows.append(Row("status pages", f"p95, {name}", "ms", [p95(samples)],
                                    target=Target("median", "<", 100)))
            outcome.notes[f"{name}: p50 / p95 / max ms"] = (
                f"{sorted(samples)[len(samples) // 2]:.1f} / {p95(samples):.1f} / "
                f"{max(samples):.1f}")
    return outcome
