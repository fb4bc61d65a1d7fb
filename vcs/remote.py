"""Resolve a branch or tag to its current commit with `git ls-remote` (network I/O)."""

from __future__ import annotations

from core.events import BRANCH_PREFIX, TAG_PREFIX
from vcs.gitcmd import GitError, check_clone_url, run_git


class RefNotFoundError(GitError):
    """The remote has no such branch or tag."""


def ls_remote(url: str, *, timeout: int, auth: dict[str, str] | None = None) -> dict[str, str]:
    """Every ref of the remote with its commit (annotated tags peeled to the commit)."""
    check_clone_url(url)
    out = run_git(["ls-remote", "--", url], timeout=timeout, extra_env=auth)
    refs: dict[str, str] = {}
    peeled: dict[str, str] = {}
    for line in out.splitlines():
        sha, _, name = line.partition("\t")
        if name.endswith("^{}"):
            peeled[name[:-3]] = sha
        elif name:
            refs[name] = sha
    refs.update(peeled)
    return refs


def resolve_ref(url: str, ref: str, *, timeout: int,
                auth: dict[str, str] | None = None) -> tuple[str, str]:
    """(full ref, commit) for `ref`; a bare name is tried as a branch, then as a tag."""
    refs = ls_remote(url, timeout=timeout, auth=auth)
    candidates = [ref] if ref.startswith("refs/") else [BRANCH_PREFIX + ref, TAG_PREFIX + ref]
    for candidate in candidates:
        if candidate in refs:
            return candidate, refs[candidate]
    tried = " or ".join(candidates)
    raise RefNotFoundError(f"no {tried} in the repository")
