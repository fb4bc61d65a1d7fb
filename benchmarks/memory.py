"""Scenario 7, memory: the resident memory of the web processes (gunicorn's master and
workers) and of each `python -m workers` process, at idle and after 500 and 1,000 builds (real
BuildKit builds of 4 small repositories on 2 workers). Target: no growth from the 500th to
the 1,000th build (≤ 5 %, the noise of Python's allocator)."""

from __future__ import annotations

import time

from benchmarks import stack
from benchmarks.gitrepos import Repo, append_commits
from benchmarks.harness import Service, service
from benchmarks.hooks import repository_entry
from benchmarks.suite import Context, Outcome, Row, Target

REPOSITORIES = 4
WORKERS = 2
DOCKERFILE = "FROM local/busybox:latest\nCOPY app.txt /app.txt\n"


def web_rss(svc: Service) -> float:
    return stack.rss_mib(svc.web_pid) + sum(map(stack.rss_mib, stack.children(svc.web_pid)))


def worker_rss(svc: Service) -> float:
    return max(map(stack.rss_mib, svc.worker_pids))


def build_many(svc: Service, repos: list[Repo], total: int,
               marks: dict[int, tuple[float, float]]) -> None:
    """Run `total` builds, one at a time per repository; sample memory at each count in
    `marks` (right when that many builds have ended)."""
    waiting: dict[int, str] = {}
    done = 0
    started = 0
    deadline = time.monotonic() + 60 + total * 10
    while done < total:
        for n, repo in enumerate(repos):
            if n not in waiting and started < total:
                before = repo.bare_head()
                (commit,) = append_commits(repo.bare, 1)
                waiting[n] = svc.push(f"bench/mem{n}", commit, before=before)[0]
                started += 1
        time.sleep(0.05)
        for n, build in zip(list(waiting), svc.store.get_builds(list(waiting.values())),
                            strict=True):
            if build.status.is_terminal():
                if build.status.value != "success":
                    raise RuntimeError(f"build {build.id} ended {build.status.value}")
                del waiting[n]
                done += 1
                if done in marks:
                    marks[done] = (web_rss(svc), worker_rss(svc))
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {done} of {total} builds ended in time")


def run(ctx: Context) -> Outcome:
    total = ctx.count(1000, 20)
    half = total // 2
    repos = [Repo.create(ctx.scratch, f"mem{n}", {"Dockerfile": DOCKERFILE,
                                                  "app.txt": "hello\n"})
             for n in range(REPOSITORIES)]
    tag = str(int(time.time()))
    entries = [repository_entry(f"bench/mem{n}", repo.clone_url,
                                f"{stack.REGISTRY}/bench-{tag}/mem{n}")
               for n, repo in enumerate(repos)]
    marks: dict[int, tuple[float, float]] = {half: (0.0, 0.0), total: (0.0, 0.0)}
    with service(ctx.scratch, entries, workers=WORKERS) as svc:
        time.sleep(2)
        idle = (web_rss(svc), worker_rss(svc))
        began = time.monotonic()
        build_many(svc, repos, total, marks)
        seconds = time.monotonic() - began
    return Outcome(
        rows=[Row("memory", f"web RSS after {total} builds", "MiB", [marks[total][0]],
                  f"after {half}", [marks[half][0]], Target("ratio", "<=", 1.05)),
              Row("memory", f"worker RSS after {total} builds", "MiB", [marks[total][1]],
                  f"after {half}", [marks[half][1]], Target("ratio", "<=", 1.05))],
        notes={"RSS in MiB (web: gunicorn master + 2 workers; worker: the larger of "
               f"{WORKERS} `python -m workers`)": {
                   "idle": f"web {idle[0]:.1f}, worker {idle[1]:.1f}",
                   f"after {half} builds": f"web {marks[half][0]:.1f}, "
                                           f"worker {marks[half][1]:.1f}",
                   f"after {total} builds": f"web {marks[total][0]:.1f}, "
                                            f"worker {marks[total][1]:.1f}"},
               "builds": f"{total} in {seconds:.0f} s"})
