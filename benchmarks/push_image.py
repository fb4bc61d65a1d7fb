"""Scenario 2, push → image, cold and warm: from the webhook POST until the tag's new digest is
in the registry, for a small repository with a few RUN and COPY steps.

- cold: the first build of a repository (no mirror, no layer cache: its deps.txt is unique);
  baseline: the same kind of commit by hand, `git clone --depth 1`, BuildKit through Debian's
  docker CLI, `docker push`, also uncached. Target ≤ 1.15 × by hand.
- warm: a second commit touching one file of a repository built before (mirror and layer
  cache in place); target ≤ 0.7 × the cold hand-run.

Autobuild's end is the build's recorded finish (after its push); each run's new digest is then
checked against the registry. Where the seconds go comes from the build's phase times and RQ's
job times (enqueued, picked up in the work-horse)."""

from __future__ import annotations

import statistics
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from redis import Redis
from rq.job import Job

from benchmarks import stack
from benchmarks.gitrepos import DOCKERFILE, INSTALL_DOCKERFILE, Repo, by_hand
from benchmarks.harness import Service, phases, service
from benchmarks.hooks import repository_entry
from benchmarks.suite import Context, Outcome, Row, Target, alternate

STAGES = (("POST → recorded (web)", "posted", "queued"),
          ("recorded → enqueued", "queued", "enqueued"),
          ("enqueued → work-horse started (pickup + fork)", "enqueued", "horse"),
          ("work-horse → cloning (run_build setup, DB, turn)", "horse", "cloning"),
          ("mirror + checkout", "cloning", "building"), ("build", "building", "pushing"),
          ("push + record", "pushing", "finished"))


def marks_of(svc: Service, build_id: str, posted: float) -> dict[str, datetime | float]:
    build = svc.finished(build_id)
    job = Job.fetch(build_id, connection=Redis.from_url(svc.env["REDIS_URL"]))
    marks: dict[str, Any] = dict(phases(build), posted=posted)
    marks["enqueued"], marks["horse"] = job.enqueued_at, job.started_at
    return marks


def breakdown(samples: list[dict[str, Any]]) -> dict[str, str]:
    """Median milliseconds of each stage."""
    out = {}
    for name, start, end in STAGES:
        values = [_seconds(m[end]) - _seconds(m[start]) for m in samples
                  if m.get(start) is not None and m.get(end) is not None]
        if values:
            out[name] = f"{statistics.median(values) * 1000:.0f} ms"
    return out


def _seconds(value: datetime | float) -> float:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    return value


KINDS = {"small": DOCKERFILE, "with a 1 s install step": INSTALL_DOCKERFILE}
"""The repositories measured: the small one as it is, and the same with its dependency step
taking a second (standing for an npm/pip install), which the layer cache skips when warm."""


def run(ctx: Context) -> Outcome:
    outcome = Outcome()
    for kind, dockerfile in KINDS.items():
        measure(ctx, kind, dockerfile, outcome)
    return outcome


def measure(ctx: Context, kind: str, dockerfile: str, outcome: Outcome) -> None:
    reps = ctx.count(5)
    folder = ctx.scratch / kind.replace(" ", "-")
    folder.mkdir()

    def files() -> dict[str, str]:
        return {"Dockerfile": dockerfile, "deps.txt": f"deps {uuid.uuid4().hex}\n",
                "app.txt": "hello\n"}

    cold = [Repo.create(folder, f"cold{n}", files()) for n in range(reps + 1)]
    warm = Repo.create(folder, "warm", files())
    hand = [Repo.create(folder, f"hand{n}", files()) for n in range(reps + 1)]
    tag = uuid.uuid4().hex[:8]
    image = {name: f"{stack.REGISTRY}/bench-{tag}/{name}" for name in
             [f"cold{n}" for n in range(reps + 1)] + ["warm"]}
    entries = [repository_entry(f"bench/cold{n}", cold[n].clone_url, image[f"cold{n}"])
               for n in range(reps + 1)]
    entries.append(repository_entry("bench/warm", warm.clone_url, image["warm"]))
    samples: dict[str, list[dict[str, Any]]] = {"cold": [], "warm": []}
    with service(folder, entries) as svc:
        def autobuild(name: str, repo: Repo, which: str) -> float:
            before = repo.head()
            commit = repo.change("app.txt") if which == "warm" else before
            previous = svc.digest(image[name])
            posted = time.time()
            (build_id,) = svc.push(f"bench/{name}", commit, before=before)
            marks = marks_of(svc, build_id, posted)
            if svc.digest(image[name]) in (None, previous):
                raise RuntimeError(f"{name}: the registry does not have the new image")
            samples[which].append(marks)
            return _seconds(marks["finished"]) - posted

        counters = {"cold": 0, "hand": 0}

        def next_cold() -> float:
            n = counters["cold"]
            counters["cold"] += 1
            return autobuild(f"cold{n}", cold[n], "cold")

        def next_hand() -> float:
            n = counters["hand"]
            counters["hand"] += 1
            start = time.time()
            by_hand(hand[n], f"{stack.REGISTRY}/bench-{tag}/hand{n}:latest", folder)
            return time.time() - start

        svc.finished(svc.push("bench/warm", warm.head())[0])  # the warm repository's first
        runs = alternate({"hand": next_hand, "cold": next_cold,
                          "warm": lambda: autobuild("warm", warm, "warm")},
                         repetitions=reps, warmup=1)
    outcome.rows += [
        Row("push → image", f"{kind}, cold: first build of a repository", "s", runs["cold"],
            "by hand, cold", runs["hand"], Target("ratio", "<=", 1.15)),
        Row("push → image", f"{kind}, warm: a commit touching one file", "s", runs["warm"],
            "by hand, cold", runs["hand"], Target("ratio", "<=", 0.7))]
    outcome.notes[f"{kind}, cold: where the seconds go (medians)"] = breakdown(
        samples["cold"][1:])
    outcome.notes[f"{kind}, warm: where the seconds go (medians)"] = breakdown(
        samples["warm"][1:])
