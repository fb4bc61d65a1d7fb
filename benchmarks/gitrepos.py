"""Git repositories for the scenarios: a working copy pushing to a bare repository that the
rules' clone URL (file://) points at, and the by-hand baseline's clone, build and push."""

from __future__ import annotations

import os
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

from workers.docker_cli import DOCKER_CLI

IDENTITY = ["-c", "user.name=Bench", "-c", "user.email=bench@autobuild.invalid"]
DOCKERFILE = """FROM local/busybox:latest
COPY deps.txt /deps/deps.txt
RUN cat /deps/deps.txt > /deps/installed.txt
RUN mkdir -p /app && echo built > /app/stamp
COPY app.txt /app/app.txt
RUN wc -c /app/app.txt > /app/size.txt
"""
"""A small repository with a few RUN and COPY steps; deps.txt changes rarely, app.txt often."""
INSTALL_DOCKERFILE = DOCKERFILE.replace("RUN cat /deps/deps.txt > /deps/installed.txt",
                                        "RUN sleep 1 && cat /deps/deps.txt > /deps/installed.txt")
"""The same, its dependency step taking a second like an install would."""


def git(*args: str, cwd: Path | None = None) -> str:
    done = subprocess.run(["git", *IDENTITY, *args], cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed: {done.stdout}{done.stderr}")
    return done.stdout.strip()


@dataclass(frozen=True)
class Repo:
    """A working copy and the bare repository it pushes to."""

    work: Path
    bare: Path

    @property
    def clone_url(self) -> str:
        return f"file://{self.bare}"

    @classmethod
    def create(cls, folder: Path, name: str, files: dict[str, str] | None = None) -> Repo:
        """A repository with the small Dockerfile (deps.txt unique to it: no layer cache)."""
        work, bare = folder / f"{name}-work", folder / f"{name}.git"
        work.mkdir(parents=True)
        git("init", "-q", "-b", "main", cwd=work)
        content = files or {"Dockerfile": DOCKERFILE, "deps.txt": f"deps {uuid.uuid4().hex}\n",
                            "app.txt": "hello\n"}
        for path, text in content.items():
            (work / path).write_text(text)
        git("add", "-A", cwd=work)
        git("commit", "-q", "-m", "init", cwd=work)
        git("clone", "-q", "--bare", str(work), str(bare))
        git("remote", "add", "origin", str(bare), cwd=work)
        return cls(work, bare)

    def head(self) -> str:
        return git("rev-parse", "HEAD", cwd=self.work)

    def bare_head(self) -> str:
        """The bare repository's main (append_commits moves it without the working copy)."""
        return git("rev-parse", "main", cwd=self.bare)

    def change(self, path: str = "app.txt", text: str | None = None) -> str:
        """Commit a change to one file and push it; the new head."""
        (self.work / path).write_text(text or f"change {uuid.uuid4().hex}\n")
        git("commit", "-q", "-am", f"change {path}", cwd=self.work)
        git("push", "-q", "origin", "main", cwd=self.work)
        return self.head()


def by_hand(repo: Repo, image: str, scratch: Path) -> None:
    """The baseline: clone the head shallowly, build it with BuildKit (Debian's CLI), push."""
    checkout = scratch / uuid.uuid4().hex
    git("clone", "-q", "--depth", "1", repo.clone_url, str(checkout))
    env = dict(os.environ, DOCKER_BUILDKIT="1")
    subprocess.run([DOCKER_CLI, "build", "-q", "--network", "none", "-t", image,
                    str(checkout)], env=env, check=True, stdout=subprocess.DEVNULL)
    subprocess.run([DOCKER_CLI, "push", "-q", image], check=True, stdout=subprocess.DEVNULL)


def append_commits(bare: Path, count: int, *, files: dict[str, bytes] | None = None,
                   changing: str = "app.txt", size: int = 0) -> list[str]:
    """`count` new commits on main of `bare` (git fast-import, no working copy), each changing
    `changing` (`size` random bytes, else a line); `files` go into the first. Their ids."""
    marks = bare.resolve() / "bench-marks"
    head = subprocess.run(["git", "rev-parse", "--verify", "-q", "refs/heads/main"], cwd=bare,
                          capture_output=True, text=True).stdout.strip()
    process = subprocess.Popen(["git", "fast-import", "--quiet", f"--export-marks={marks}"],
                               cwd=bare, stdin=subprocess.PIPE)
    assert process.stdin is not None
    out = process.stdin
    stamp = 1_700_000_000
    for n in range(count):
        content = os.urandom(size) if size else f"change {uuid.uuid4().hex}\n".encode()
        message = f"bench commit {n}\n".encode()
        out.write(b"commit refs/heads/main\nmark :%d\n" % (n + 1))
        out.write(b"committer Bench <bench@autobuild.invalid> %d +0000\n" % (stamp + n))
        out.write(b"data %d\n%s" % (len(message), message))
        if n == 0 and head:
            out.write(b"from %s\n" % head.encode())
        for path, data in ((files or {}).items() if n == 0 else ()):
            out.write(b"M 100644 inline %s\ndata %d\n%s\n" % (path.encode(), len(data), data))
        out.write(b"M 100644 inline %s\ndata %d\n%s\n" % (changing.encode(), len(content),
                                                         content))
    out.close()
    if process.wait() != 0:
        raise RuntimeError("git fast-import failed")
    ids = dict(line.split() for line in marks.read_text().splitlines())
    marks.unlink()
    return [ids[f":{n + 1}"] for n in range(count)]


def bare_repository(folder: Path, name: str) -> Path:
    bare = folder / f"{name}.git"
    git("init", "-q", "--bare", "-b", "main", str(bare))
    return bare
