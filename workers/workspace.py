"""A build's workspace: the checkout folders under var/work, and the paths a rule may build
from inside them (filesystem I/O)."""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

from core.errors import ImageBuildError
from records.builds import BuildStore


def resolve_build_paths(checkout: Path, context: str, dockerfile: str) -> tuple[Path, str]:
    """(context folder, Dockerfile path relative to it), refusing anything outside the checkout."""
    root = checkout.resolve()
    for what, given in (("context", context), ("dockerfile", dockerfile)):
        path = (root / given).resolve()
        if path != root and root not in path.parents:
            raise ImageBuildError(f"{what} {given!r} resolves outside the repository checkout "
                                  "(through '..' or a symbolic link); refusing to build")
    context_dir, dockerfile_path = (root / context).resolve(), (root / dockerfile).resolve()
    if not context_dir.is_dir():
        raise ImageBuildError(f"context {context!r} is not a folder in the repository")
    if not dockerfile_path.is_file():
        raise ImageBuildError(f"Dockerfile not found at {dockerfile!r}")
    return context_dir, os.path.relpath(dockerfile_path, context_dir)


def sweep_workspaces(store: BuildStore, workspace: Path) -> None:
    """Remove checkouts left behind by builds that ended without cleaning up (killed)."""
    for entry in workspace.iterdir() if workspace.is_dir() else []:
        build = store.get_build(entry.name.split("-", 1)[0])
        if build is None or build.status.is_terminal():
            shutil.rmtree(entry, ignore_errors=True)


def describe_crash(exc: Exception) -> str:
    """What an unexpected exception says: a full disk by name, anything else as an internal
    error."""
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        where = f" writing {exc.filename}" if exc.filename else ""
        return f"the worker's disk is full (no space left on device{where})"
    return f"internal error: {type(exc).__name__}: {exc}"
