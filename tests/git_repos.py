"""Git repositories for tests beyond tests.conftest.make_repo: with Git LFS files, and with
submodules (gitlinks written directly, so no submodule is ever cloned to make them)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import commit_files, git, make_repo
from tests.integration.git_http import GitHTTPServer, serve

LFS_POINTER_START = "version https://git-lfs.github.com/spec/v1"


def make_lfs_repo(root: Path, files: dict[str, str], lfs_files: dict[str, str],
                  *, branch: str = "main") -> tuple[Path, str]:
    """A bare repository whose `lfs_files` are stored with Git LFS; (bare path, commit).

    The push goes to a local path, so git-lfs keeps the objects in the bare repository's
    lfs/objects (its standalone file transfer); a file:// clone URL reads them back the same way.
    """
    bare = root / "repo.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    work = root / "work"
    work.mkdir(parents=True)
    git("init", "-q", "-b", branch, cwd=work)
    git("lfs", "install", "--local", cwd=work)
    for pattern in sorted({"*" + Path(name).suffix for name in lfs_files}):
        git("lfs", "track", pattern, cwd=work)
    commit = commit_files(work, {**files, **lfs_files}, "Files, some in Git LFS")
    git("remote", "add", "origin", str(bare), cwd=work)
    git("push", "-q", "origin", branch, cwd=work)
    return bare, commit


def add_submodules(work: Path, modules: dict[str, tuple[str, str]], message: str) -> str:
    """Commit gitlinks `path -> (url, commit)` and their .gitmodules in the working copy."""
    (work / ".gitmodules").write_text("".join(
        f'[submodule "{path}"]\n\tpath = {path}\n\turl = {url}\n'
        for path, (url, _) in modules.items()))
    git("add", ".gitmodules", cwd=work)
    for path, (_, commit) in modules.items():
        git("update-index", "--add", "--cacheinfo", f"160000,{commit},{path}", cwd=work)
    git("commit", "-q", "-m", message, cwd=work)  # not `add -A`: it would drop the gitlinks
    return git("rev-parse", "HEAD", cwd=work)


SubmoduleHosts = tuple[str, GitHTTPServer, GitHTTPServer, str]


@contextmanager
def submodule_hosts(root: Path, token: str, *, files: dict[str, str] | None = None
                    ) -> Iterator[SubmoduleHosts]:
    """A private superproject (with `files`) and a private submodule `lib` on one git HTTP
    server (x-access-token:`token`), and a public submodule `vendor` on another (its own
    port: another origin to git); yields (superproject URL, private, public, commit)."""
    _, lib_commit = make_repo(root / "lib", {"lib.txt": "private library\n"})
    _, vendor_commit = make_repo(root / "vendor", {"vendor.txt": "public vendor\n"})
    private = GitHTTPServer(root, "x-access-token", token)
    public = GitHTTPServer(root, "nobody", "unused", public=True)
    with serve(private) as private_url, serve(public) as public_url:
        make_repo(root / "app", files or {"Dockerfile": "FROM scratch\n"})
        work = root / "app" / "work"
        commit = add_submodules(work, {
            "lib": ("../../lib/repo.git", lib_commit),
            "vendor": (f"{public_url}/vendor/repo.git", vendor_commit)}, "Submodules")
        git("push", "-q", "origin", "main", cwd=work)
        yield f"{private_url}/app/repo.git", private, public, commit
