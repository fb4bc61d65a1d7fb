"""Write the previous release's database samples with that release's own code (789ca48).

Release 789ca48 is the last one without schema migrations: its processes made the tables with
`metadata.create_all`. This script runs that release's records/ code on a fixed clock to write
builds in every kind of state, their logs and deliveries of each outcome, then saves:

    previous_release.sqlite.sql      sqlite3's iterdump of the SQLite database
    previous_release.postgresql.sql  pg_dump --column-inserts of the same rows on PostgreSQL
    previous_release.<backend>.json  what that release's read functions returned for each row
                                     (delivery ids differ: PostgreSQL's sequence also counts
                                     the refused redelivery)

Run it on a checkout of 789ca48, so that later changes to records/ cannot leak in (it refuses
a checkout whose core/ or records/ differ from that release):

    git clone -q --no-checkout . /tmp/autobuild-789ca48
    git -C /tmp/autobuild-789ca48 checkout -q 789ca48
    TEST_DATABASE_URL=$(bash scripts/postgres.sh) var/venv/bin/python \
        tests/samples/db/make_previous_release_db.py --code /tmp/autobuild-789ca48
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RELEASE = "789ca48"
START = datetime(2025, 3, 14, 9, 26, 53, 589793, tzinfo=UTC)
STEP = timedelta(seconds=41, microseconds=250001)
NON_ASCII = "Grüße aus Zürich · 日本語のログ · Ελληνικά · emoji 🐳✅ · right-to-left שלום\n"


@contextmanager
def fixed_clock(modules: list[Any]) -> Iterator[None]:
    """Every utcnow() of the release's records/ advances STEP from START; build ids follow it."""
    ticks = iter(range(1, 10_000))
    counter = iter(range(1, 10_000))

    def utcnow() -> datetime:
        return START + STEP * next(ticks)

    class Secrets:
        @staticmethod
        def token_hex(_n: int) -> str:
            return f"{next(counter):08x}"

    saved = [(m, name, getattr(m, name)) for m in modules for name in ("utcnow", "secrets")
             if hasattr(m, name)]
    for module, name, _ in saved:
        setattr(module, name, utcnow if name == "utcnow" else Secrets)
    try:
        yield
    finally:
        for module, name, value in saved:
            setattr(module, name, value)


def write_rows(engine: Any) -> None:
    """The scenario: pushes, a redelivery, Build now, and builds ending every way."""
    from core.plan import TRIGGER_MANUAL, TRIGGER_RETRY, BuildPlan, PathFilter
    from core.status import BuildStatus as S
    from records.builds import BuildStore
    from records.coordination import heartbeat
    from records.deliveries import DeliveryLog

    store = BuildStore(engine)
    log = DeliveryLog(engine, store)

    def plan(ref: str, commit: str, **changes: Any) -> BuildPlan:
        values: dict[str, Any] = {
            "repository": "acme/webapp", "provider": "github", "rule_index": 0, "ref": ref,
            "commit": commit, "clone_url": "https://github.com/acme/webapp.git",
            "image": "registry.example.com/acme/webapp",
            "tags": ("registry.example.com/acme/webapp:latest",),
        }
        values.update(changes)
        return BuildPlan(**values)

    def push(delivery: str, p: BuildPlan, **kw: Any) -> str:
        recorded = log.record_delivery(
            forge=p.provider, delivery_id=delivery, event=kw.get("event", "push"),
            repository=p.repository, refs=[p.ref], outcome="queued", reason=kw.get("reason"),
            status_code=202, plans=[p], accepted=True)
        assert recorded is not None
        return recorded[1][0].id

    def walk(build_id: str, *steps: S, **end: Any) -> None:
        for step in steps[:-1]:
            assert store.set_status(build_id, step)
        assert store.set_status(build_id, steps[-1], **end)

    main = push("d-0001", plan("refs/heads/main", "1" * 40))
    store.append_log(main, "Step 1/3 : FROM local/busybox:latest\n")
    store.append_log(main, "Step 2/3 : COPY . /app\n")
    store.append_log(main, "Successfully built 0123456789ab\n")
    walk(main, S.CLONING, S.BUILDING, S.PUSHING, S.SUCCESS, digest="sha256:" + "ab" * 32)
    assert log.record_delivery(  # a redelivery of d-0001: refused by the dedupe key, no row
        forge="github", delivery_id="d-0001", event="push", repository="acme/webapp",
        refs=["refs/heads/main"], outcome="queued", reason=None, status_code=202,
        plans=[plan("refs/heads/main", "1" * 40)], accepted=True) is None

    tag = push("6f1c2b7e-gitlab", plan(
        "refs/tags/v1.2.3", "2" * 40, provider="gitlab", rule_index=1,
        tags=("registry.example.com/acme/webapp:1.2.3", "registry.example.com/acme/webapp:1.2"),
        build_args=(("VERSION", "1.2.3"), ("API_TOKEN", "s3cr3t")),
        secret_build_args=("API_TOKEN",), labels=(("org.example.team", "web"),),
        target="runtime", cache=False, pull=True, timeout=900, before="0" * 40,
        commit_message="Release 1.2.3 — „quoted“ ✨"), event="Tag Push Hook")
    store.append_log(tag, "Step 3/7 : RUN make\nmake: *** [all] Error 2\n")
    walk(tag, S.CLONING, S.BUILDING, S.FAILED,
         error="docker build failed at step 3/7 (RUN make): exit code 2")

    older = push("d-0003", plan("refs/heads/develop", "3" * 40, rule_index=2))
    newer = push("d-0004", plan("refs/heads/develop", "4" * 40, rule_index=2,
                                path_filter=PathFilter(("src/**",), ("**/*.md",))))
    assert store.get_build(older).superseded_by == newer  # type: ignore[union-attr]

    manual = store.create_builds([plan("refs/heads/main", "5" * 40, trigger=TRIGGER_MANUAL)])[0].id
    assert store.set_status(manual, S.CLONING) and store.set_status(manual, S.BUILDING)
    for n in range(1, 41):
        store.append_log(manual, f"\x1b[36m[{n:02d}/40]\x1b[0m\tcompiling module_{n}.py\r\n")
        if n % 8 == 0:
            store.append_log(manual, NON_ASCII * 3)
    walk(manual, S.PUSHING, S.SUCCESS, digest="sha256:" + "cd" * 32)

    small = BuildStore(engine, log_cap=300)  # a log that reached the cap: truncation marker
    capped = small.create_builds([plan("refs/heads/main", "6" * 40, trigger=TRIGGER_RETRY)])[0].id
    small.append_log(capped, "x" * 250 + "\n")
    small.append_log(capped, "this line crosses the cap " * 4 + "\n")
    small.append_log(capped, "never stored\n")
    walk(capped, S.CLONING, S.BUILDING, S.TIMED_OUT, error="the build took longer than 900 s")

    running = store.create_builds([plan("refs/heads/feature/login", "7" * 40)])[0].id
    walk(running, S.CLONING, S.BUILDING)
    heartbeat(store, running)
    store.append_log(running, "Step 1/9 : FROM local/busybox:latest\n")

    skipped = store.create_builds([plan("refs/heads/docs", "8" * 40, rule_index=3)])[0].id
    walk(skipped, S.CLONING, S.SKIPPED, error="no changed file matches included_files")
    cancelled = store.create_builds([plan("refs/heads/main", "9" * 40)])[0].id
    walk(cancelled, S.CANCELLED, error="cancelled by admin")

    for forge, delivery, repository, outcome, status, reason, accepted in [
        ("github", "d-0005", "acme/webapp", "ping", 200, "Keep it logically awesome.", True),
        ("github", "d-0006", "acme/webapp", "ignored", 202,
         "rule 1: branch ‘feature/x’ does not match main", True),
        ("github", "d-0007", "acme/webapp", "rejected", 401,
         "signature check failed: wrong signature", False),
        ("gitea", None, "acme/other", "rejected", 404,
         "repository 'acme/other' is not configured for gitea", False),
        ("bitbucket", "{4b1e-dup}", "acme/webapp", "duplicate", 200,
         "delivery already received", False),
    ]:
        assert log.record_delivery(
            forge=forge, delivery_id=delivery, event="push", repository=repository,
            refs=["refs/heads/feature/x"] if outcome == "ignored" else [], outcome=outcome,
            reason=reason, status_code=status, accepted=accepted) is not None


def read_back(engine: Any) -> dict[str, Any]:
    """What the release's read functions return for every row (the expected JSON)."""
    from records.builds import BuildStore
    from records.db import iso
    from records.deliveries import DeliveryLog

    store = BuildStore(engine)
    builds = list(reversed(store.recent_builds(limit=1000)))
    deliveries = list(reversed(DeliveryLog(engine, store).recent_deliveries(limit=1000)))
    return {
        "release": RELEASE,
        "builds": [{"api": b.to_dict(), "plan": b.plan.to_dict(), "log": store.get_log(b.id),
                    "log_size": b.log_size, "heartbeat_at": iso(b.heartbeat_at)}
                   for b in builds],
        "deliveries": [d.to_dict() for d in deliveries],
    }


def generate(url: str) -> dict[str, Any]:
    """Create the release's schema at `url`, write the scenario, and read it back."""
    import records.builds
    import records.coordination
    import records.db
    import records.deliveries

    engine = records.db.make_engine(url)
    try:
        records.db.create_schema(engine)
        modules = [records.db, records.builds, records.deliveries, records.coordination]
        with fixed_clock(modules):
            write_rows(engine)
            return read_back(engine)
    finally:
        engine.dispose()


def save(out: Path, backend: str, dump: str, expected: dict[str, Any]) -> None:
    """Write the dump and the expected JSON of one backend."""
    (out / f"previous_release.{backend}.sql").write_text(dump, encoding="utf-8", newline="")
    text = json.dumps(expected, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    (out / f"previous_release.{backend}.json").write_text(text, encoding="utf-8")


def make_sqlite(out: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "previous.db"
        expected = generate(f"sqlite:///{path}")
        with sqlite3.connect(path) as conn:
            lines = list(conn.iterdump())
        conn.close()
    # the release creates indexes in set order: sort them so that the dump is reproducible
    spots = [n for n, line in enumerate(lines) if line.startswith("CREATE INDEX")]
    for n, line in zip(spots, sorted(lines[n] for n in spots), strict=True):
        lines[n] = line
    dump = "\n".join(lines) + "\n"
    save(out, "sqlite", dump, expected)


def make_postgresql(out: Path, admin_url: str) -> None:
    from sqlalchemy import create_engine, make_url, text

    name = f"autobuild_sample_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name)
    try:
        expected = generate(url.render_as_string(hide_password=False))
        libpq = url.set(drivername="postgresql").render_as_string(hide_password=False)
        dump = subprocess.run(  # bytes: text mode would turn the logs' "\r\n" into "\n"
            ["pg_dump", "--column-inserts", "--no-owner", "--no-privileges", libpq],
            check=True, capture_output=True, env={**os.environ, "PGTZ": "UTC"},
        ).stdout.decode("utf-8")
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()
    # newer pg_dump brackets the dump in psql's \restrict KEY (random), which is not SQL
    meta = ("\\restrict ", "\\unrestrict ")
    lines = [line for line in dump.split("\n") if not line.startswith(meta)]
    save(out, "postgresql", "\n".join(lines), expected)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code", default=str(HERE.parents[2]),
                        help="a checkout of release 789ca48 (default: this checkout)")
    parser.add_argument("--out", default=str(HERE), help="where to write the samples")
    args = parser.parse_args()
    code = Path(args.code).resolve()
    changed = subprocess.run(
        ["git", "-C", str(code), "diff", "--stat", "--diff-filter=MDRT", RELEASE, "--", "core",
         "records"], check=True, capture_output=True, text=True).stdout
    if changed:
        print(f"{code}: core/ or records/ differ from release {RELEASE}; run this on a checkout "
              f"of {RELEASE} (see --help):\n{changed}", file=sys.stderr)
        return 1
    sys.path.insert(0, str(code))
    import records

    assert Path(records.__file__).resolve().parents[1] == code, records.__file__
    admin_url = os.environ.get("TEST_DATABASE_URL")
    if not admin_url:
        print("TEST_DATABASE_URL is not set: run with TEST_DATABASE_URL=$(bash "
              "scripts/postgres.sh) to write the PostgreSQL sample too", file=sys.stderr)
        return 1
    out = Path(args.out)
    make_sqlite(out)
    make_postgresql(out, admin_url)
    print(f"wrote the SQLite and PostgreSQL samples of release {RELEASE} to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
