"""Check out an exact commit through a per-repository bare mirror cache (git I/O)."""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from core.clone_urls import url_host
from core.errors import CloneError
from vcs.gitcmd import GitError, check_clone_url, redact, run_git

Log = Callable[[str], None]
LFS_FILTER = ("-c", "filter.lfs.smudge=git-lfs smudge -- %f",
              "-c", "filter.lfs.process=git-lfs filter-process",
              "-c", "filter.lfs.clean=git-lfs clean -- %f", "-c", "filter.lfs.required=true")
"""git-lfs's filters, given on the command line: git runs without the system config (where
Debian's git-lfs installs them), so LFS files stay pointers unless a rule sets lfs: true."""


_DISK_FULL = re.compile(r"No space left on device|Out of diskspace")  # git's two wordings


class MirrorCheckout:
    """Keeps one bare mirror per clone URL; a build fetches new objects, then checks out a copy."""

    def __init__(self, mirror_dir: Path, *, timeout: int, log: Log,
                 auth: dict[str, str] | None = None) -> None:
        self.mirror_dir = mirror_dir
        self.timeout = timeout
        self.log = log
        self.auth = auth or {}
        self._fetched: set[str] = set()  # URLs whose refs this checkout fetched afresh
        self._heads: dict[Path, str] = {}

    def mirror_path(self, url: str) -> Path:
        """Where the mirror of `url` lives (named by a hash: URLs may carry credentials)."""
        return self.mirror_dir / (hashlib.sha256(url.encode()).hexdigest()[:24] + ".git")

    @contextmanager
    def _locked(self, url: str) -> Iterator[Path]:
        self.mirror_dir.mkdir(parents=True, exist_ok=True)
        mirror = self.mirror_path(url)
        with open(str(mirror) + ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield mirror
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _has_commit(self, mirror: Path, commit: str) -> bool:
        try:
            run_git(["cat-file", "-e", f"{commit}^{{commit}}"], cwd=mirror, timeout=self.timeout)
        except GitError:
            return False
        return True

    def _fetch(self, mirror: Path, *args: str) -> None:
        run_git(["fetch", "--quiet", *args], cwd=mirror, timeout=self.timeout,
                extra_env=self.auth)
        if "--prune" in args:
            self._fetched.add(str(mirror))

    def _fetch_commit(self, mirror: Path, commit: str) -> bool:
        """Fetch a commit no branch or tag holds (where the server allows it); whether the
        mirror has it then."""
        try:
            self._fetch(mirror, "origin", commit)
        except GitError:
            return False
        return self._has_commit(mirror, commit)

    def _create_mirror(self, url: str, mirror: Path) -> None:
        self.log(f"Cloning {redact(url)} into a new mirror (first build of this repository)\n")
        partial = mirror.with_name(mirror.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        try:
            run_git(["init", "--quiet", "--bare", str(partial)], timeout=self.timeout)
            run_git(["remote", "add", "--mirror=fetch", "origin", url], cwd=partial, timeout=60)
            self._fetch(partial, "--prune", "origin")
        except GitError:
            shutil.rmtree(partial, ignore_errors=True)  # a failed first clone leaves nothing
            raise
        os.replace(partial, mirror)
        self._fetched.add(str(mirror))

    def update(self, url: str, commit: str) -> Path:
        """Make sure the mirror holds `commit`, fetching only what is new; returns the mirror."""
        try:
            check_clone_url(url)
            with self._locked(url) as mirror:
                if not mirror.exists():
                    self._create_mirror(url, mirror)
                elif not self._has_commit(mirror, commit):
                    self.log(f"Fetching new commits from {redact(url)} into the mirror\n")
                    self._fetch(mirror, "--prune", "origin")
                else:
                    self.log("The mirror already has this commit; nothing to fetch\n")
                if not self._has_commit(mirror, commit) and not self._fetch_commit(mirror,
                                                                                 commit):
                    raise CloneError(f"commit {commit} is not in {redact(url)}")
                return mirror
        except GitError as exc:
            raise CloneError(f"could not fetch {redact(url)}: "
                             f"{disk_full_hint(exc, self.mirror_dir)}") from None

    def checkout(self, url: str, commit: str, dest: Path, *, submodules: bool = False,
                 lfs: bool = False) -> Path:
        """Check out `commit` into the new folder `dest` (no credentials in its .git/config);
        with `lfs`, Git LFS files get their content instead of pointers."""
        mirror = self.update(url, commit)
        try:
            with self._locked(url):
                run_git(["clone", "--quiet", "--no-checkout", "--no-hardlinks", "--",
                         str(mirror), str(dest)], timeout=self.timeout)
            run_git(["checkout", "--quiet", "--detach", commit], cwd=dest, timeout=self.timeout)
            run_git(["remote", "set-url", "origin", redact(url)], cwd=dest, timeout=60)
            if submodules:
                self.check_submodule_hosts(url, dest)
                self.log("Updating submodules (the rule sets submodules: true)\n")
                run_git(["-c", "protocol.file.allow=never", "submodule", "update", "--init",
                         "--recursive", "--depth", "1"], cwd=dest, timeout=self.timeout,
                        extra_env=self.auth)
            if lfs:
                self._lfs_checkout(url, commit, dest)
        except GitError as exc:
            raise CloneError(f"could not check out {commit[:12]}: "
                             f"{disk_full_hint(exc, dest.parent)}") from None
        head = self._heads[dest] = self.head_commit(dest)
        if head != commit:
            self.log(f"{commit} is an annotated tag; it points to commit {head}\n")
        self.log(f"Checked out {head}\n")
        return dest

    def check_submodule_hosts(self, url: str, checkout: Path) -> None:
        """Refuse submodules from any host but the repository's own (the repository's
        credentials, and trust, stop at its host)."""
        if not (checkout / ".gitmodules").is_file():
            return
        try:
            listed = run_git(["config", "--file", ".gitmodules", "--get-regexp",
                              r"^submodule\..*\.url$"], cwd=checkout, timeout=60)
        except GitError:
            return  # no url entries
        own = url_host(url)
        for line in listed.splitlines():
            key, _, submodule_url = line.partition(" ")
            host = url_host(submodule_url.strip())
            if host is not None and host != own:
                name = key.removeprefix("submodule.").removesuffix(".url")
                raise CloneError(f"submodule {name} comes from {host or 'a local path'}, not "
                                 f"from {own or 'this repository'}'s host; only submodules "
                                 "on the repository's own host are fetched")

    def _lfs_checkout(self, url: str, commit: str, dest: Path) -> None:
        """Fetch the commit's LFS objects into the mirror (kept for later builds), then write
        them into the checkout from there."""
        if shutil.which("git-lfs") is None:
            raise CloneError("the rule sets lfs: true but git-lfs is not installed on this "
                             "worker (Debian's git-lfs package; scripts/setup.sh installs it)")
        self.log("Fetching Git LFS objects (the rule sets lfs: true)\n")
        with self._locked(url) as mirror:
            run_git(["lfs", "fetch", "origin", commit], cwd=mirror, timeout=self.timeout,
                    extra_env=self.auth)
            run_git([*LFS_FILTER, "-c", f"lfs.storage={mirror / 'lfs'}", "lfs", "checkout"],
                    cwd=dest, timeout=self.timeout)

    def head_commit(self, checkout: Path) -> str:
        """The commit a checkout is at (an annotated tag's target, not the tag object)."""
        if checkout in self._heads:  # known since checkout() made it
            return self._heads[checkout]
        return run_git(["rev-parse", "HEAD"], cwd=checkout, timeout=60).strip()

    def has_commit(self, url: str, commit: str) -> bool:
        """Whether the mirror of `url` holds `commit`."""
        mirror = self.mirror_path(url)
        return mirror.exists() and self._has_commit(mirror, commit)

    def refresh(self, url: str, commits: set[str]) -> None:
        """Make the mirror's refs current (their heads decide which build is newest), and hold
        `commits` if the forge still has them; fetches only when this checkout has not."""
        mirror = self.mirror_path(url)
        if str(mirror) in self._fetched and all(self.has_commit(url, c) for c in commits):
            return
        try:
            with self._locked(url) as locked:
                self.log("Fetching the repository's current branches and tags into the mirror\n")
                self._fetch(locked, "--prune", "origin")
        except GitError as exc:
            raise CloneError(f"could not fetch {redact(url)}: {exc}") from None

    def ref_head(self, url: str, ref: str) -> str | None:
        """The commit `ref` points at in the mirror (a tag peeled), or None when it is gone."""
        try:
            out = run_git(["rev-parse", "--verify", "--quiet", "--end-of-options",
                           f"{ref}^{{commit}}"], cwd=self.mirror_path(url), timeout=60)
        except GitError:
            return None
        return out.strip() or None

    def is_ancestor(self, url: str, ancestor: str, descendant: str) -> bool:
        """Whether `ancestor` is a proper ancestor of `descendant` in the mirror."""
        if ancestor == descendant:
            return False
        try:
            run_git(["merge-base", "--is-ancestor", ancestor, descendant],
                    cwd=self.mirror_path(url), timeout=self.timeout)
        except GitError:
            return False
        return True

    def changed_files(self, url: str, before: str, after: str) -> list[str] | None:
        """Files changed between two commits, from the mirror; None when `before` is unknown."""
        mirror = self.mirror_path(url)
        if not self._has_commit(mirror, before):
            return None
        out = run_git(["diff", "--name-only", "--no-renames", before, after, "--"],
                      cwd=mirror, timeout=self.timeout)
        return [line for line in out.splitlines() if line]


def disk_full_hint(exc: GitError, folder: Path) -> str:
    """git's message, led by the folder whose disk is full when that is what went wrong."""
    if _DISK_FULL.search(str(exc)):
        return f"the worker's disk is full (no space left under {folder}): {exc}"
    return str(exc)
