"""`python -m workers.gc` (what `autobuild gc` runs): remove what this host no longer needs.

- the logs of builds that ended more than AUTOBUILD_RETENTION_DAYS ago (the builds stay), and
  the deliveries, trigger calls, rebuild events and finished notifications older than that;
- git mirrors of repositories the rules file no longer names (a mirror in use is kept);
- workspaces left by builds that ended without cleaning up (killed), never a running build's;
- dangling images on this worker's engine older than --image-min-age (default an hour).

`--dry-run` lists them and removes nothing. Mirrors, workspaces and images are this host's:
run it on every worker host (a systemd timer or cron); the database is shared, any host prunes it.
"""

from __future__ import annotations

import argparse
import fcntl
import logging
import os
import shutil
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import docker
from sqlalchemy import Engine

from core.config import ConfigError, Settings, settings_from_env
from core.errors import RulesError
from core.rules_load import load_rules
from records import retention
from records.builds import BuildStore
from records.db import make_engine
from records.migrate import MigrationError, check
from workers.checkout import MirrorCheckout
from workers.gc_images import DanglingImages, EngineImages

logger = logging.getLogger(__name__)
IMAGE_MIN_AGE = 3600
PLACEHOLDER = "autobuild-gc-unset-variable"
PLURALS = {"history": "histories"}


@dataclass(frozen=True)
class Candidate:
    """Something gc removes: its kind, what it is and why, and how to remove it (None when
    done, else why it was kept)."""

    kind: str
    what: str
    why: str
    remove: Callable[[], str | None]


def old_logs(engine: Engine, *, days: int, now: datetime) -> list[Candidate]:
    """Logs of builds that ended more than `days` ago (none when `days` is 0)."""
    if days == 0:
        return []
    found = retention.logs_to_prune(engine, ended_before=now - timedelta(days=days))
    return [Candidate("log", f"build {build_id}", f"{size:,} characters, ended over {days} days "
                      "ago", partial(_prune_log, engine, build_id)) for build_id, size in found]


def _prune_log(engine: Engine, build_id: str) -> None:
    retention.prune_logs(engine, [build_id])


def old_history(engine: Engine, *, days: int, now: datetime) -> list[Candidate]:
    """The rows of each history older than `days` (none when `days` is 0), one per kind."""
    if days == 0:
        return []
    before = now - timedelta(days=days)
    return [Candidate("history", f"{count:,} {kind}{'s' if count != 1 else ''}",
                      f"older than {days} days", partial(_prune_history, engine, kind, before))
            for kind, count in retention.history_to_prune(engine, before=before)]


def _prune_history(engine: Engine, kind: str, before: datetime) -> None:
    retention.prune_history(engine, kind, before=before)


class _Placeholders(Mapping[str, str]):
    """The environment, with a placeholder for every variable it lacks: gc only needs the
    clone URLs, and a worker host has no webhook secrets."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ

    def __getitem__(self, key: str) -> str:
        return self.environ.get(key, PLACEHOLDER)

    def __contains__(self, key: object) -> bool:
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(self.environ)

    def __len__(self) -> int:
        return len(self.environ)


def configured_clone_urls(settings: Settings, environ: Mapping[str, str]) -> list[str] | str:
    """The clone URLs the rules file names, or why they cannot be known (then no mirror goes)."""
    try:
        with open(settings.rules_path, encoding="utf-8") as handle:
            ruleset = load_rules(handle.read(), environ=_Placeholders(environ),
                                 filename=settings.rules_path, builder=settings.builder)
    except (OSError, UnicodeDecodeError, RulesError) as exc:
        return f"cannot read the rules file, so every mirror is kept: {exc}"
    urls = [repo.clone_url for repo in ruleset.repositories]
    if any(PLACEHOLDER in url for url in urls):
        return "a clone URL uses a variable not set here, so every mirror is kept"
    return urls


def stale_mirrors(mirror_dir: Path, clone_urls: list[str]) -> list[Candidate]:
    """Mirrors (and half-made ones) of clone URLs no repository names any more."""
    namer = MirrorCheckout(mirror_dir, timeout=60, log=lambda _: None)
    keep = {namer.mirror_path(url).name for url in clone_urls}
    entries = sorted(mirror_dir.iterdir()) if mirror_dir.is_dir() else []
    return [Candidate("mirror", str(entry), "its repository is no longer configured",
                      partial(_remove_mirror, entry))
            for entry in entries if entry.is_dir()
            and entry.name.removesuffix(".partial") not in keep]


def _remove_mirror(mirror: Path) -> str | None:
    """Remove a mirror under its lock (a build fetching into it keeps it)."""
    lock_path = Path(str(mirror).removesuffix(".partial") + ".lock")
    with open(lock_path, "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return "a build is using it"
        shutil.rmtree(mirror, ignore_errors=True)
        if not Path(str(lock_path).removesuffix(".lock")).exists():
            lock_path.unlink(missing_ok=True)
    return None


def stale_workspaces(workspace_dir: Path, store: BuildStore) -> list[Candidate]:
    """Checkouts of builds that are not running (they ended, or are unknown here)."""
    found = []
    for entry in sorted(workspace_dir.iterdir()) if workspace_dir.is_dir() else []:
        build = store.get_build(entry.name.split("-", 1)[0])
        if build is None or build.status.is_terminal():
            why = f"build {build.status.value}" if build else "no such build"
            found.append(Candidate("workspace", str(entry), why,
                                   partial(shutil.rmtree, entry, ignore_errors=True)))
    return found


def dangling_images(images: DanglingImages, *, min_age: float, now: datetime
                    ) -> list[Candidate]:
    """Dangling images older than `min_age` seconds."""
    return [Candidate("image", image.id, f"dangling, {image.size / 1e6:.1f} MB, created "
                      f"{image.created:%Y-%m-%d %H:%M} UTC",
                      partial(images.remove, image.id))
            for image in images.dangling()
            if (now - image.created).total_seconds() >= min_age]


def collect(settings: Settings, environ: Mapping[str, str], store: BuildStore,
            images: DanglingImages | None, *, min_age: float, now: datetime
            ) -> tuple[list[Candidate], list[str]]:
    """Everything to remove, and notes on what could not be looked at."""
    notes: list[str] = []
    found = old_logs(store.engine, days=settings.retention_days, now=now)
    found += old_history(store.engine, days=settings.retention_days, now=now)
    urls = configured_clone_urls(settings, environ)
    if isinstance(urls, str):
        notes.append(urls)
    else:
        found += stale_mirrors(Path(settings.mirror_dir), urls)
    found += stale_workspaces(Path(settings.workspace_dir), store)
    if images is None:
        notes.append(f"the Docker engine at {settings.docker_host} does not answer: no image "
                     "was looked at")
    else:
        found += dangling_images(images, min_age=min_age, now=now)
    return found, notes


def run(candidates: list[Candidate], *, dry_run: bool, out: Callable[[str], None]) -> None:
    """Remove (or only list) every candidate, saying what happened to each."""
    removed: dict[str, int] = {}
    for item in candidates:
        kept = None if dry_run else item.remove()
        verb = "would remove" if dry_run else ("removed" if kept is None else "kept")
        out(f"{verb} {item.kind} {item.what} ({item.why}{f'; {kept}' if kept else ''})")
        if kept is None:
            removed[item.kind] = removed.get(item.kind, 0) + 1
    summary = ", ".join(f"{n} {kind if n == 1 else PLURALS.get(kind, kind + 's')}"
                        for kind, n in removed.items())
    out(f"autobuild gc: {'would remove' if dry_run else 'removed'} {summary or 'nothing'}")


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m workers.gc`."""
    parser = argparse.ArgumentParser(prog="autobuild gc", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dry-run", action="store_true", help="list, remove nothing")
    parser.add_argument("--image-min-age", type=int, default=IMAGE_MIN_AGE, metavar="SECONDS",
                        help=f"keep dangling images younger than this (default {IMAGE_MIN_AGE})")
    args = parser.parse_args(argv)
    try:
        settings = settings_from_env(os.environ, base_dir=os.getcwd())
        engine = make_engine(settings.database_url)
        check(engine)
    except (ConfigError, MigrationError) as exc:
        print(f"autobuild gc: {exc}", file=sys.stderr)
        return 1
    store = BuildStore(engine, log_cap=settings.log_cap_bytes)
    client = None
    try:
        client = docker.DockerClient(base_url=settings.docker_host, timeout=60)
        images: DanglingImages | None = EngineImages(client)
    except docker.errors.DockerException:
        images = None
    try:
        if args.dry_run:
            print("autobuild gc: dry run, nothing is removed")
        candidates, notes = collect(settings, os.environ, store, images,
                                    min_age=args.image_min_age, now=datetime.now(UTC))
        for note in notes:
            print(f"note: {note}")
        run(candidates, dry_run=args.dry_run, out=print)
    finally:
        if client is not None:
            client.close()
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
