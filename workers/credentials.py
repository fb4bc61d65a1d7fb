"""The secrets one build uses, resolved on the worker from the plan's references (env/file I/O).

The plan names each secret (`${NAME}` or a file) and the worker reads the values from its own
environment when the build starts; the masks for the build log are exactly those values (and,
for a build secret read from a file, that file's content when it is small). A build secret from
a file stays a file: the builder hands it to BuildKit as it is.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from core.credentials import SecretRef, looks_secret, resolve_secret
from core.errors import BuildError, SecretUnavailableError
from core.plan import BuildPlan
from vcs.gitcmd import credentials_env
from workers.build_spec import SecretSource
from workers.buildkit import secret_values


class CredentialError(BuildError):
    """A secret the build needs is not available on this worker."""

    phase = "reading credentials"


@dataclass(frozen=True)
class BuildSecrets:
    """Push credentials (None: the worker's Docker config), git's environment, secret build
    arguments, build secrets, the hooks' build environment (secret values resolved), base-image
    pull credentials by registry host (docker.io for Hub), and every value to mask in the log."""

    auth_config: dict[str, str] | None = field(default=None, repr=False)
    masked: tuple[str, ...] = field(default=(), repr=False)
    git_env: dict[str, str] = field(default_factory=dict, repr=False)
    build_args: dict[str, str] = field(default_factory=dict, repr=False)
    build_secrets: tuple[SecretSource, ...] = field(default=(), repr=False)
    hook_env: dict[str, str] = field(default_factory=dict, repr=False)
    pull_auths: dict[str, tuple[str, str]] = field(default_factory=dict, repr=False)


def _read(path: str) -> str:
    return Path(path).read_text(encoding="utf-8")


def _resolve(ref: SecretRef, environ: Mapping[str, str], what: str) -> str:
    return resolve_secret(ref, environ=environ, read_file=_read, what=what)


def resolve_credentials(plan: BuildPlan, environ: Mapping[str, str]) -> BuildSecrets:
    """Every secret `plan` names, read from `environ` (or files); CredentialError naming the
    first one that is missing, never its value."""
    try:
        auth = None
        masked: list[str] = []
        if plan.registry_auth is not None:
            password = _resolve(plan.registry_auth.password, environ, "registry_auth.password")
            auth = {"username": plan.registry_auth.username, "password": password}
            masked.append(password)
        git_env, git_masks = credentials_env(plan.git_auth, environ, url=plan.clone_url)
        masked.extend(git_masks)
        build_args = {name: _resolve(ref, environ, f"secret build argument {name}")
                      for name, ref in plan.secret_build_args}
        sources = tuple(_build_secret(secret_id, ref, environ) for secret_id, ref in plan.secrets)
        secret_env = {name: _resolve(ref, environ, f"secret_env {name}")
                      for name, ref in plan.secret_env}
        pulls = {a.registry: (a.username, _resolve(a.password, environ,
                                                   f"pull_auth {a.registry} password"))
                 for a in plan.pull_auth}
    except SecretUnavailableError as exc:
        raise CredentialError(str(exc)) from None
    masked.extend(build_args.values())
    masked.extend(value for key, value in plan.build_args if looks_secret(key))
    masked.extend(secret_values(sources))
    masked.extend(secret_env.values())
    masked.extend(value for key, value in plan.env if looks_secret(key))
    masked.extend(password for _, password in pulls.values())
    return BuildSecrets(auth_config=auth, masked=tuple(masked), git_env=git_env,
                        build_args=build_args, build_secrets=sources,
                        hook_env=dict(plan.env) | secret_env, pull_auths=pulls)


def _build_secret(secret_id: str, ref: SecretRef, environ: Mapping[str, str]) -> SecretSource:
    """A build secret for BuildKit: the variable's value, or the file (checked readable)."""
    what = f"build secret {secret_id}"
    if ref.file is None:
        return SecretSource(secret_id, value=_resolve(ref, environ, what))
    if not os.path.isfile(ref.file) or not os.access(ref.file, os.R_OK):
        raise SecretUnavailableError(f"{what}: the file {ref.file} is missing or unreadable on "
                                     "this worker")
    return SecretSource(secret_id, file=ref.file)
