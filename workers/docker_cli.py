"""Running Debian's docker CLI (20.10) for BuildKit builds and manifest lists (process I/O).

Debian's /usr/bin/docker drives the engine's built-in BuildKit without buildx (a newer client
first on PATH fails with DOCKER_BUILDKIT=1), and has `docker manifest`. Every call is an argument
list, in its own process group (workers/process_groups.py: stopping a build ends the whole group,
and a work-horse killed outright takes its CLI along, so the engine cancels the build), with a
minimal environment. Start CLIs from the thread that waits for them (run/stream do).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from workers import process_groups

DOCKER_CLI = "/usr/bin/docker"
DOCKER_HUB_AUTH_KEY = "https://index.docker.io/v1/"
_KEEP = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "DOCKER_HOST", "DOCKER_CONFIG",
         "DOCKER_CERT_PATH", "DOCKER_TLS_VERIFY", "SSL_CERT_FILE", "SSL_CERT_DIR",
         "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy")


def cli_environment(environ: Mapping[str, str], *, docker_host: str | None = None,
                    docker_config: str | None = None) -> dict[str, str]:
    """The CLI's environment: only what it needs from `environ`, BuildKit on, and the given
    engine and DOCKER_CONFIG folder (None: those of `environ`)."""
    env = {key: value for key, value in environ.items() if key in _KEEP}
    env.setdefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
    env["DOCKER_BUILDKIT"] = "1"
    if docker_host is not None:
        env["DOCKER_HOST"] = docker_host
    if docker_config is not None:
        env["DOCKER_CONFIG"] = docker_config
    return env


def start(args: Sequence[str], *, env: Mapping[str, str], cwd: Path | None = None
          ) -> subprocess.Popen[bytes]:
    """Start the CLI in a process group of its own, output (stdout and stderr) on one pipe."""
    return process_groups.start(args, env=env, cwd=cwd)


def stream(process: subprocess.Popen[bytes], on_line: Callable[[str], None]) -> int:
    """Hand every output line to `on_line` as it is printed; the exit code at the end."""
    assert process.stdout is not None
    try:
        with process.stdout:
            for raw in process.stdout:
                on_line(raw.decode("utf-8", "replace"))
    except BaseException:
        process_groups.stop(process)  # the log failed: do not leave the CLI running
        raise
    return process_groups.finish(process)


def run(args: Sequence[str], *, env: Mapping[str, str], log: Callable[[str], None]
        ) -> tuple[int, list[str]]:
    """Run the CLI to its end, logging its output; (exit code, output lines)."""
    lines: list[str] = []

    def keep(line: str) -> None:
        lines.append(line.rstrip("\n"))
        log(line)

    return stream(start(args, env=env), keep), lines


def auth_key(registry: str) -> str:
    """The key `docker login` uses in config.json `auths` for a registry host."""
    if registry in ("docker.io", "index.docker.io", "registry-1.docker.io"):
        return DOCKER_HUB_AUTH_KEY
    return registry


def write_registry_config(folder: Path, credentials: Mapping[str, tuple[str, str]]) -> Path:
    """Write `folder`/config.json (0600) with `auths` for {registry host: (username, password)}."""
    auths = {auth_key(host): {"auth": base64.b64encode(f"{user}:{password}".encode()).decode()}
             for host, (user, password) in credentials.items()}
    path = folder / "config.json"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as config:
        json.dump({"auths": auths}, config)
    return path


@contextmanager
def registry_config(credentials: Mapping[str, tuple[str, str]]) -> Iterator[str]:
    """A private DOCKER_CONFIG folder holding only these registry credentials, removed after."""
    folder = Path(tempfile.mkdtemp(prefix="autobuild-docker-config-"))
    try:
        write_registry_config(folder, credentials)
        yield str(folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def default_config_dir(environ: Mapping[str, str]) -> Path:
    """The DOCKER_CONFIG folder the CLI reads when none is given."""
    if environ.get("DOCKER_CONFIG"):
        return Path(environ["DOCKER_CONFIG"])
    return Path(environ.get("HOME") or os.path.expanduser("~")) / ".docker"
