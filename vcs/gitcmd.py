"""Run git through GitPython with safe defaults: no prompts, no hooks, no ext::, a timeout."""

from __future__ import annotations

import base64
import os
import re
import shlex
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

import git

from core.credentials import GitAuth, resolve_secret

# Applied to every git command we run: never run repository hooks, never allow ext:: or fd::.
SAFE_CONFIG = (
    "-c", "core.hooksPath=/dev/null",
    "-c", "protocol.ext.allow=never",
    "-c", "protocol.fd.allow=never",
    "-c", "core.askPass=",
    "-c", "credential.helper=",
)  # fmt: skip

_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@")


class GitError(Exception):
    """A git command failed; the message is safe to show (credentials redacted)."""


def redact(text: str) -> str:
    """Remove user:password@ from every URL in text."""
    return _USERINFO.sub(r"\g<scheme>***@", text)


def git_env() -> dict[str, str]:
    """The environment git runs with: no terminal prompts, batch-mode ssh, no system config."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_TERMINAL_PROMPT="0",
        GIT_SSH_COMMAND="ssh -oBatchMode=yes -oStrictHostKeyChecking=accept-new",
        GIT_CONFIG_NOSYSTEM="1",
        GIT_HTTP_LOW_SPEED_LIMIT="1000",
        GIT_HTTP_LOW_SPEED_TIME="60",
        LC_ALL="C",
    )
    return env


def origin_of(url: str) -> str | None:
    """`scheme://host[:port]/` of an http(s) URL (no user name), or None for other URLs."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}/"


def auth_env(*, url: str, username: str = "git", token: str | None = None,
             ssh_key_file: str | None = None) -> dict[str, str]:
    """Environment that makes git authenticate without the secret ever being in a URL,
    a command line or a repository's .git/config (git reads GIT_CONFIG_* at run time).

    The token's header is scoped to the clone URL's scheme, host and port
    (`http.<origin>.extraHeader`), so git and git-lfs send it to that origin only: never to
    a submodule, an LFS server or a redirect on another host.
    """
    env: dict[str, str] = {}
    origin = origin_of(url)
    if token and origin:
        basic = base64.b64encode(f"{username}:{token}".encode()).decode()
        env.update(GIT_CONFIG_COUNT="1", GIT_CONFIG_KEY_0=f"http.{origin}.extraHeader",
                   GIT_CONFIG_VALUE_0=f"Authorization: Basic {basic}")
    if ssh_key_file:
        env["GIT_SSH_COMMAND"] = (f"ssh -i {shlex.quote(ssh_key_file)} -oIdentitiesOnly=yes "
                                  "-oBatchMode=yes -oStrictHostKeyChecking=accept-new")
    return env


def credentials_env(auth: GitAuth | None, environ: Mapping[str, str], *, url: str
                    ) -> tuple[dict[str, str], tuple[str, ...]]:
    """(git environment, strings to mask) for a repository's git_auth on clone URL `url`,
    resolving its token from `environ` or its file; raises SecretUnavailableError naming what
    is missing."""
    if auth is None:
        return {}, ()
    token = None
    if auth.token is not None:
        token = resolve_secret(auth.token, environ=environ, what="git_auth.token",
                               read_file=lambda path: Path(path).read_text())
    env = auth_env(url=url, username=auth.username, token=token,
                   ssh_key_file=auth.ssh_key_file)
    header = env.get("GIT_CONFIG_VALUE_0", "").rpartition(" ")[2]
    return env, tuple(value for value in (token, header) if value)


def check_clone_url(url: str) -> None:
    """Refuse URLs git would treat as options or as a helper transport (ext::, fd::)."""
    if not url or url.startswith("-") or "::" in url or any(ord(c) < 32 for c in url):
        raise GitError(f"refusing unsafe clone URL {redact(url)!r}")


def run_git(args: list[str], *, cwd: Path | None = None, timeout: int,
            extra_env: dict[str, str] | None = None) -> str:
    """Run `git <SAFE_CONFIG> <args>` and return stdout; GitError with git's message on failure."""
    runner = git.cmd.Git(str(cwd) if cwd else None)
    try:
        out = runner.execute(  # type: ignore[call-overload]
            ["git", *SAFE_CONFIG, *args],
            kill_after_timeout=timeout,
            env={**git_env(), **(extra_env or {})},
            stdout_as_string=True,
        )
    except git.GitCommandError as exc:
        stderr = str(exc.stderr or "").strip().removeprefix("stderr:").strip(" '\n")
        message = stderr or f"git {args[0]} failed with exit code {exc.status}"
        if exc.status == -9 or "timeout" in str(exc).lower():
            message = f"git {args[0]} did not finish within {timeout} s"
        raise GitError(redact(message)) from None
    return str(out)
