"""Checkouts from the mirror, on real git repositories: no shared objects, and submodules only
from the repository's own host."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import CloneError
from tests.conftest import commit_files, git, make_repo
from workers.checkout import MirrorCheckout


def mirror_checkout(tmp_path: Path) -> tuple[MirrorCheckout, list[str]]:
    logged: list[str] = []
    return MirrorCheckout(tmp_path / "mirrors", timeout=60, log=logged.append), logged


def test_a_checkout_shares_no_object_file_with_the_mirror(tmp_path: Path) -> None:
    bare, commit = make_repo(tmp_path / "src", {"Dockerfile": "FROM scratch\n"})
    checkout, _ = mirror_checkout(tmp_path)
    dest = checkout.checkout(f"file://{bare}", commit, tmp_path / "work" / "src")
    objects = [p for p in (dest / ".git" / "objects").rglob("*") if p.is_file()]
    assert objects and all(p.stat().st_nlink == 1 for p in objects)


@pytest.mark.parametrize(("submodule_url", "refused"), [
    pytest.param("https://elsewhere.example.com/x.git", True, id="another-host"),
    pytest.param("git@elsewhere.example.com:x.git", True, id="another-host-scp"),
    pytest.param("../sibling.git", False, id="relative"),
])
def test_submodules_must_come_from_the_repositorys_own_host(
        tmp_path: Path, submodule_url: str, refused: bool) -> None:
    bare, _ = make_repo(tmp_path / "src", {"Dockerfile": "FROM scratch\n"})
    work = tmp_path / "src" / "work"
    commit = commit_files(work, {".gitmodules": f'[submodule "lib"]\n\tpath = lib\n'
                                                f"\turl = {submodule_url}\n"}, "Add lib")
    git("push", "-q", "origin", "main", cwd=work)
    checkout, _ = mirror_checkout(tmp_path)
    url = f"file://{bare}"
    dest = checkout.checkout(url, commit, tmp_path / "plain")  # without submodules: fine
    if refused:
        with pytest.raises(CloneError, match=r"submodule lib comes from elsewhere\.example\.com"):
            checkout.check_submodule_hosts(url, dest)
    else:
        checkout.check_submodule_hosts(url, dest)


def test_the_https_repositorys_own_host_may_serve_submodules(tmp_path: Path) -> None:
    (tmp_path / ".gitmodules").write_text('[submodule "lib"]\n\tpath = lib\n'
                                          "\turl = https://git.example.com/lib.git\n")
    checkout, _ = mirror_checkout(tmp_path)
    checkout.check_submodule_hosts("https://git.example.com/app.git", tmp_path)
    with pytest.raises(CloneError, match="only submodules on the repository's own host"):
        checkout.check_submodule_hosts("https://other.example.com/app.git", tmp_path)
