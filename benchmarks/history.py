"""Scenario 3, large history: a generated repository with ≥ 5,000 commits and ≥ 50 MB of
history (each commit rewrites a 10 KiB file of random bytes, so nothing compresses). The first
build clones it into the worker's mirror; the second, after one more commit, only fetches.
Target: the second build's clone phase (its recorded cloning → building) ≤ 0.1 × the first's."""

from __future__ import annotations

import shutil
import subprocess
import time

from benchmarks import stack
from benchmarks.gitrepos import append_commits, bare_repository
from benchmarks.harness import phases, seconds_between, service
from benchmarks.hooks import repository_entry
from benchmarks.suite import Context, Outcome, Row, Target

DOCKERFILE = b"FROM local/busybox:latest\nCOPY app.txt /app.txt\n"
BLOB = 10 * 1024


def history_size(bare: object) -> int:
    """Bytes of the bare repository's objects."""
    done = subprocess.run(["git", "count-objects", "-v"], cwd=bare, capture_output=True,
                          text=True, check=True).stdout
    fields = dict(line.split(": ") for line in done.splitlines())
    return (int(fields["size"]) + int(fields["size-pack"])) * 1024


def run(ctx: Context) -> Outcome:
    commits = ctx.count(5_000, 500)
    reps = ctx.count(3)
    began = time.perf_counter()
    source = bare_repository(ctx.scratch, "history")
    append_commits(source, commits, files={"Dockerfile": DOCKERFILE, "app.txt": b"hello\n"},
                   changing="data.bin", size=BLOB)
    made = time.perf_counter() - began
    size = history_size(source)
    copies = []
    for n in range(reps):
        copy = ctx.scratch / f"history{n}.git"
        shutil.copytree(source, copy)
        copies.append(copy)
    tag = str(int(time.time()))
    entries = [repository_entry(f"bench/history{n}", f"file://{copy}",
                                f"{stack.REGISTRY}/bench-{tag}/history{n}")
               for n, copy in enumerate(copies)]
    first, second = [], []
    with service(ctx.scratch, entries) as svc:
        for n, copy in enumerate(copies):
            head = subprocess.run(["git", "rev-parse", "main"], cwd=copy, capture_output=True,
                                  text=True, check=True).stdout.strip()
            (build_id,) = svc.push(f"bench/history{n}", head)
            marks = phases(svc.finished(build_id))
            first.append(seconds_between(marks, "cloning", "building"))
            (commit,) = append_commits(copy, 1)
            (build_id,) = svc.push(f"bench/history{n}", commit, before=head)
            marks = phases(svc.finished(build_id))
            second.append(seconds_between(marks, "cloning", "building"))
    return Outcome(
        rows=[Row("large history", "clone phase of the second build", "s", second,
                  "the first build's clone phase", first, Target("ratio", "<=", 0.1))],
        notes={"repository": f"{commits} commits, {size / 2**20:.0f} MiB of objects "
                             f"(generated in {made:.1f} s)"})
