"""Credentials a build uses, as references to where their values live, never the values (no I/O).

Build plans are stored in the database and travel through the queue, so every secret in them
is a SecretRef: the name of an environment variable, or a file, on the worker. The worker
resolves them when the build runs (workers/credentials.py), masks what it resolved in the
build log, and forgets them when the build ends.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from core.errors import SecretUnavailableError

ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*", re.ASCII)
ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", re.ASCII)
MIN_SECRET_LENGTH = 3
"""Shorter secrets are refused: masking them would hide every such run of characters."""
SECRET_LOOKING_NAMES = ("TOKEN", "PASSWORD", "SECRET", "KEY")
"""Plain values (build arguments, build environment variables) whose names contain one of
these are treated as secrets: masked in logs, and imported from Docker Hub as references."""
DOCKER_HUB_REGISTRY = "docker.io"
DOCKER_HUB_ALIASES = ("docker.io", "index.docker.io", "registry-1.docker.io",
                      "registry.hub.docker.com")


@dataclass(frozen=True)
class SecretRef:
    """Where one secret value comes from at build time: an environment variable or a file."""

    env: str | None = None
    file: str | None = None

    def __post_init__(self) -> None:
        if (self.env is None) == (self.file is None):
            raise ValueError("a secret reference names exactly one of env or file")
        if self.env is not None and not ENV_NAME.fullmatch(self.env):
            raise ValueError(f"{self.env!r} is not an environment variable name")
        if self.file is not None and not self.file.startswith("/"):
            raise ValueError(f"secret file {self.file!r} must be an absolute path")

    def describe(self) -> str:
        """`${NAME}` or `file /path`: what the user wrote, safe to show anywhere."""
        return f"${{{self.env}}}" if self.env is not None else f"file {self.file}"

    def to_dict(self) -> dict[str, str]:
        """{"env": NAME} or {"file": PATH}."""
        return {"env": self.env} if self.env is not None else {"file": str(self.file)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SecretRef:
        """The reference `to_dict` produced."""
        return cls(env=data.get("env"), file=data.get("file"))


def env_reference(text: str) -> SecretRef | None:
    """The reference when `text` is exactly `${NAME}`, else None."""
    found = ENV_REFERENCE.fullmatch(text.strip())
    return SecretRef(env=found.group(1)) if found else None


@dataclass(frozen=True)
class RegistryAuth:
    """Credentials for pushing to the image's registry."""

    username: str
    password: SecretRef

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"username": self.username, "password": self.password.to_dict()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RegistryAuth:
        """The credentials `to_dict` produced."""
        return cls(str(data["username"]), SecretRef.from_dict(data["password"]))


@dataclass(frozen=True)
class PullAuth:
    """Credentials for pulling base images from one registry host (`docker.io` for Hub)."""

    registry: str
    username: str
    password: SecretRef

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"registry": self.registry, "username": self.username,
                "password": self.password.to_dict()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PullAuth:
        """The credentials `to_dict` produced."""
        return cls(str(data["registry"]), str(data["username"]),
                   SecretRef.from_dict(data["password"]))


def looks_secret(name: str) -> bool:
    """Whether a variable's name says it holds a secret (NPM_TOKEN, DB_PASSWORD, API_KEY)."""
    upper = name.upper()
    return any(word in upper for word in SECRET_LOOKING_NAMES)


def registry_name(host: str) -> str:
    """A registry host as Autobuild keys it: Docker Hub's aliases become docker.io."""
    lowered = host.lower()
    return DOCKER_HUB_REGISTRY if lowered in DOCKER_HUB_ALIASES else lowered


def image_registry(image: str) -> str:
    """The registry host an image repository lives on, as docker reads the name: the first
    component when it has a "." or ":" or is "localhost", else Docker Hub (docker.io)."""
    first, slash, _ = image.partition("/")
    if slash and (any(c in first for c in ".:") or first == "localhost"):
        return registry_name(first)
    return DOCKER_HUB_REGISTRY


@dataclass(frozen=True)
class GitAuth:
    """Credentials for cloning a private repository: an HTTPS token or an SSH deploy key file."""

    username: str = "git"
    token: SecretRef | None = None
    ssh_key_file: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"username": self.username, "ssh_key_file": self.ssh_key_file,
                "token": self.token.to_dict() if self.token else None}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GitAuth:
        """The credentials `to_dict` produced."""
        token = data.get("token")
        return cls(str(data.get("username") or "git"),
                   SecretRef.from_dict(token) if token else None, data.get("ssh_key_file"))


def resolve_secret(ref: SecretRef, *, environ: Mapping[str, str],
                   read_file: Callable[[str], str], what: str) -> str:
    """The value `ref` points at, read through `environ` or `read_file`; `what` names the
    secret in the error (e.g. "secret build argument NPM_TOKEN")."""
    if ref.env is not None:
        value = environ.get(ref.env)
        if value is None:
            raise SecretUnavailableError(f"{what}: environment variable {ref.env} is not set")
    else:
        assert ref.file is not None
        try:
            value = read_file(ref.file).rstrip("\r\n")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "unreadable"
            raise SecretUnavailableError(f"{what}: cannot read {ref.file}: {reason}") from None
    if len(value) < MIN_SECRET_LENGTH:
        raise SecretUnavailableError(f"{what}: the value of {ref.describe()} is shorter than "
                                     f"{MIN_SECRET_LENGTH} characters")
    return value
