"""Checkouts with real git, git-lfs and git HTTP servers: LFS contents, and submodules that get
the repository's credentials only on its own host."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from core.credentials import GitAuth, SecretRef
from tests.git_repos import LFS_POINTER_START, SubmoduleHosts, make_lfs_repo, submodule_hosts
from vcs.gitcmd import credentials_env
from workers.checkout import MirrorCheckout

TOKEN = "submodule-test-token-0123456789"
LFS_CONTENT = "real content kept in Git LFS\n" * 40


def checkout(tmp_path: Path, auth: dict[str, str] | None = None) -> MirrorCheckout:
    return MirrorCheckout(tmp_path / "mirrors", timeout=60, log=lambda _text: None, auth=auth)


@pytest.mark.parametrize(("lfs", "expected"), [(True, LFS_CONTENT), (False, LFS_POINTER_START)])
def test_lfs_files_get_their_content_only_with_lfs(tmp_path: Path, lfs: bool,
                                                   expected: str) -> None:
    bare, commit = make_lfs_repo(tmp_path / "src", {"Dockerfile": "FROM scratch\n"},
                                 {"data/model.bin": LFS_CONTENT})
    dest = checkout(tmp_path).checkout(f"file://{bare}", commit, tmp_path / "out", lfs=lfs)
    assert (dest / "data/model.bin").read_text().startswith(expected)
    assert (dest / "Dockerfile").read_text() == "FROM scratch\n"


def test_lfs_objects_are_kept_in_the_mirror_for_the_next_build(tmp_path: Path) -> None:
    bare, commit = make_lfs_repo(tmp_path / "src", {}, {"a.bin": LFS_CONTENT})
    mirrors = checkout(tmp_path)
    mirrors.checkout(f"file://{bare}", commit, tmp_path / "first", lfs=True)
    objects = list((mirrors.mirror_path(f"file://{bare}") / "lfs" / "objects").rglob("*"))
    assert any(path.is_file() for path in objects)
    assert not (tmp_path / "first" / ".git" / "lfs").exists()  # nothing copied per build


@pytest.fixture
def two_hosts(tmp_path: Path) -> Iterator[SubmoduleHosts]:
    with submodule_hosts(tmp_path, TOKEN) as hosts:
        yield hosts


def test_private_submodules_get_the_token_other_hosts_never(
    tmp_path: Path, two_hosts: SubmoduleHosts,
) -> None:
    url, private, public, commit = two_hosts
    env, _ = credentials_env(GitAuth("x-access-token", SecretRef(env="TOKEN")),
                             {"TOKEN": TOKEN}, url=url)

    dest = checkout(tmp_path, env).checkout(url, commit, tmp_path / "out", submodules=True)

    assert (dest / "lib" / "lib.txt").read_text() == "private library\n"
    assert (dest / "vendor" / "vendor.txt").read_text() == "public vendor\n"
    assert private.expected in private.seen_authorization
    assert public.seen_authorization and set(public.seen_authorization) == {""}
