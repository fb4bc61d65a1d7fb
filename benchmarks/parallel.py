"""Scenario 5, parallel: 4 repositories pushed at once, with 1, 2 and 4 workers: the total time
until all 4 images are pushed, and how it scales. Three installations (one per worker count)
run side by side and take turns, so each round of each is measured under the same load."""

from __future__ import annotations

import time
from contextlib import ExitStack

from benchmarks import stack
from benchmarks.gitrepos import Repo, append_commits
from benchmarks.harness import Service, service
from benchmarks.hooks import repository_entry
from benchmarks.suite import Context, Outcome, Row, alternate

REPOSITORIES = 4
WORKERS = (1, 2, 4)


def round_of(svc: Service, repos: list[Repo]) -> float:
    """Push a new commit to every repository at once; seconds until all four are pushed."""
    heads = [repo.bare_head() for repo in repos]
    commits = [append_commits(repo.bare, 1)[0] for repo in repos]
    start = time.time()
    ids = [svc.push(f"bench/par{n}", commit, before=head)[0]
           for n, (commit, head) in enumerate(zip(commits, heads, strict=True))]
    ends = [svc.finished(build_id).finished_at for build_id in ids]
    return max(end.timestamp() for end in ends if end) - start


def run(ctx: Context) -> Outcome:
    tag = str(int(time.time()))
    with ExitStack() as stack_:
        installs: dict[int, tuple[Service, list[Repo]]] = {}
        for workers in WORKERS:
            folder = ctx.scratch / f"w{workers}"
            folder.mkdir()
            repos = [Repo.create(folder, f"par{n}") for n in range(REPOSITORIES)]
            entries = [repository_entry(f"bench/par{n}", repo.clone_url,
                                        f"{stack.REGISTRY}/bench-{tag}/w{workers}-par{n}")
                       for n, repo in enumerate(repos)]
            svc = stack_.enter_context(service(folder, entries, workers=workers))
            installs[workers] = (svc, repos)
        runs = alternate({f"{w} workers": (lambda w=w: round_of(*installs[w])) for w in WORKERS},
                         repetitions=ctx.count(3), warmup=1)
    base = runs["1 workers"]
    rows = [Row("parallel", f"4 repositories, {w} worker{'s' if w > 1 else ''}", "s",
                runs[f"{w} workers"], "1 worker" if w > 1 else None, base if w > 1 else None)
            for w in WORKERS]
    notes = {f"speed-up with {w} workers": f"{1 / r.ratio:.2f} ×" for w, r in
             zip(WORKERS[1:], rows[1:], strict=True) if r.ratio}
    return Outcome(rows=rows, notes=notes)
