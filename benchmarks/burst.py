"""Scenario 4, burst: 100 signed pushes to one branch within 2 s, each a new commit (all in the
repository before the first webhook), sent concurrently. Targets: every answer < 1 s; ≤ 3
builds run (the worker coalesces by git); the last commit's image ends in the registry. Also
how long until it is there, against one warm push → image of the same repository."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from benchmarks import stack
from benchmarks.gitrepos import Repo, append_commits
from benchmarks.harness import Service, service
from benchmarks.hooks import PushTemplate, headers, repository_entry
from benchmarks.suite import Context, Outcome, Row, Target

PUSHES = 100
SENDERS = 16
LABEL = "org.opencontainers.image.revision"


def image_revision(svc: Service, image: str) -> str | None:
    """The commit the registry's `image:latest` was built from (its OCI revision label)."""
    repository = image.removeprefix(f"{stack.REGISTRY}/")
    base = f"http://{stack.REGISTRY}/v2/{repository}"
    answer = svc.session.get(f"{base}/manifests/latest", timeout=10, headers={
        "Accept": "application/vnd.docker.distribution.manifest.v2+json, "
                  "application/vnd.oci.image.manifest.v1+json"})
    if not answer.ok:
        return None
    config = svc.session.get(f"{base}/blobs/{answer.json()['config']['digest']}", timeout=10)
    labels = json.loads(config.content).get("config", {}).get("Labels") or {}
    return labels.get(LABEL)


def burst(svc: Service, image: str, commits: list[str], before: str) -> dict[str, float]:
    """Send the pushes concurrently; wait until no build of the repository is left to run."""
    previous = [before, *commits[:-1]]
    bodies = [PushTemplate.for_repository("bench/burst", before=prev).body(commit)
              for commit, prev in zip(commits, previous, strict=True)]
    url = f"http://127.0.0.1:{svc.port}/hooks/github"

    def send(body: bytes) -> tuple[float, float, int]:
        sent = time.perf_counter()
        with requests.post(url, data=body, headers=headers(body), timeout=30) as answer:
            return sent, time.perf_counter() - sent, answer.status_code

    began = time.time()
    with ThreadPoolExecutor(SENDERS) as pool:
        results = list(pool.map(send, bodies))
    if any(code != 202 for _, _, code in results):
        raise RuntimeError(f"answers: {sorted({code for _, _, code in results})}")
    spread = max(s for s, _, _ in results) - min(s for s, _, _ in results)
    end = time.monotonic() + 300
    while True:
        mine = [b for b in svc.store.list_builds(limit=1000) if b.repository == "bench/burst"
                and b.created_at.timestamp() >= began - 1]
        if len(mine) >= PUSHES and all(b.status.is_terminal() for b in mine):
            break
        if time.monotonic() > end:
            raise RuntimeError("the burst's builds did not end within 300 s")
        time.sleep(0.1)
    last = max((b.finished_at for b in mine if b.finished_at), default=None)
    return {"slowest answer": max(d for _, d, _ in results) * 1000, "sent within": spread,
            "builds run": sum(1 for b in mine if b.building_at is not None),
            "until the last image": (last.timestamp() - began) if last else float("nan"),
            "last image is the last commit": float(image_revision(svc, image) == commits[-1])}


def run(ctx: Context) -> Outcome:
    repo = Repo.create(ctx.scratch, "burst")
    image = f"{stack.REGISTRY}/bench-{int(time.time())}/burst"
    reps = ctx.count(3)
    rows: dict[str, list[float]] = {}
    single: list[float] = []
    with service(ctx.scratch, [repository_entry("bench/burst", repo.clone_url, image)]) as svc:
        head = repo.head()
        svc.finished(svc.push("bench/burst", head)[0])  # mirror and cache in place
        for _ in range(reps):
            before = head
            (head,) = append_commits(repo.bare, 1)
            start = time.time()
            finished = svc.finished(svc.push("bench/burst", head, before=before)[0])
            assert finished.finished_at is not None
            single.append(finished.finished_at.timestamp() - start)
            commits = append_commits(repo.bare, PUSHES)
            for name, value in burst(svc, image, commits, head).items():
                rows.setdefault(name, []).append(value)
            head = commits[-1]
    return Outcome(rows=[
        Row("burst", f"slowest of {PUSHES} concurrent answers", "ms", rows["slowest answer"],
            target=Target("max", "<", 1000)),
        Row("burst", f"{PUSHES} pushes sent within", "s", rows["sent within"],
            target=Target("max", "<=", 2)),
        Row("burst", "builds that ran", "builds", rows["builds run"],
            target=Target("max", "<=", 3)),
        Row("burst", "the last commit's image is in the registry", "1 = yes",
            rows["last image is the last commit"], target=Target("min", ">=", 1)),
        Row("burst", "until the last commit's image is in the registry", "s",
            rows["until the last image"], "one warm push → image", single),
    ])
