"""Scenario 1, webhook intake: signed GitHub pushes, each a new commit matching one rule, through
the whole path (signature, parse, match, record, enqueue) against the Procfile's web command at
1, 8 and 32 connections, on SQLite and on PostgreSQL; baseline: a bare Flask 202 endpoint under
the same gunicorn flags. The intake is also profiled in-process (pyinstrument)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from benchmarks import stack
from benchmarks.hooks import PushTemplate, repository_entry, write_deliveries, write_rules
from benchmarks.load import LoadResult, run_wrk, write_script
from benchmarks.profile_intake import profile
from benchmarks.suite import Context, Outcome, Row, Target, alternate

REPOSITORY = "bench/intake"
CONNECTIONS = (1, 8, 32)
RATE_CEILING = 8000
"""More deliveries per second than any run sends, so no run ever repeats a delivery."""


@contextmanager
def database(kind: str, folder: Path) -> Iterator[str]:
    if kind == "SQLite":
        yield f"sqlite:///{folder}/autobuild.db"
    else:
        with stack.postgres_database() as url:
            yield url


def builds_recorded(url: str) -> int:
    from records.db import make_engine
    from records.schema import builds

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(builds)).scalar_one())
    finally:
        engine.dispose()


def run(ctx: Context) -> Outcome:
    outcome = Outcome()
    kinds = ("SQLite",) if ctx.quick else ("SQLite", "PostgreSQL")
    for kind in kinds:
        measure_database(ctx, kind, outcome)
    return outcome


def measure_database(ctx: Context, kind: str, outcome: Outcome) -> None:
    folder = ctx.scratch / kind.lower()
    folder.mkdir()
    seconds = 1.0 if ctx.quick else 5.0
    connections = (8,) if ctx.quick else CONNECTIONS
    rules = write_rules(folder / "rules.yaml", [repository_entry(
        REPOSITORY, "https://github.com/bench/intake.git", f"{stack.REGISTRY}/bench/intake")])
    template = PushTemplate.for_repository(REPOSITORY)
    script = write_script(folder / "push.lua", template)
    bare_deliveries = folder / "bare.txt"
    write_deliveries(bare_deliveries, template, 10)
    with ExitStack() as stack_:
        redis_url = stack_.enter_context(stack.redis_server(folder))
        url = stack_.enter_context(database(kind, folder))
        env = stack.service_env(folder, redis_url=redis_url, database_url=url, rules=rules)
        stack.prepare_database(env)
        app_port = stack_.enter_context(stack.web(env, folder, name="autobuild-web"))
        bare_port = stack_.enter_context(stack.web(
            env, folder, app_spec="benchmarks.bare_app:create_app()", name="bare-web"))
        checks: list[str] = []

        def autobuild(conns: int) -> LoadResult:
            deliveries = folder / "deliveries.txt"
            write_deliveries(deliveries, template, int(RATE_CEILING * seconds))
            before = builds_recorded(url)
            result = run_wrk(app_port, script=script, deliveries=deliveries,
                             connections=conns, seconds=seconds)
            recorded = builds_recorded(url) - before
            if result.errors or abs(recorded - result.requests) > conns:
                checks.append(f"{conns} conn: {result.requests} answers, {result.errors} "
                              f"errors, {recorded} builds recorded")
            return result

        def bare(conns: int) -> LoadResult:
            return run_wrk(bare_port, script=script, deliveries=bare_deliveries,
                           connections=conns, seconds=seconds)

        for conns in connections:
            runs = alternate({"autobuild": lambda c=conns: autobuild(c),
                              "bare": lambda c=conns: bare(c)},
                             repetitions=ctx.count(3), warmup=1)
            outcome.rows += rows(kind, conns, runs["autobuild"], runs["bare"])
        outcome.notes[f"{kind}: every answer was 202 and recorded its build"] = (
            "; ".join(checks) if checks else "yes")
        app = in_process_app(env)
        outcome.notes[f"{kind}: where intake's time goes (ms per delivery, pyinstrument)"] = \
            profile(app, repository=REPOSITORY, count=ctx.count(400, 60),
                    out=ctx.scratch.parent / f"intake-profile-{kind.lower()}.txt")


def rows(kind: str, conns: int, app: list[LoadResult], bare: list[LoadResult]) -> list[Row]:
    where = f"{conns} conn, {kind}"
    return [
        Row("intake", f"req/s, {where}", "req/s", [r.rate for r in app], "bare Flask 202",
            [r.rate for r in bare], Target("ratio", ">=", 0.5) if conns == 8 else None),
        Row("intake", f"p99, {where}", "ms", [r.p99_ms for r in app], "bare Flask 202",
            [r.p99_ms for r in bare], Target("median", "<", 50)),
        Row("intake", f"p50, {where}", "ms", [r.p50_ms for r in app], "bare Flask 202",
            [r.p50_ms for r in bare]),
    ]


def in_process_app(env: dict[str, str]) -> Any:
    """The real app in this process, on the scenario's database and Redis (for profiling)."""
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        from service import create_app

        return create_app({"TESTING": True})
    finally:
        os.environ.clear()
        os.environ.update(saved)
