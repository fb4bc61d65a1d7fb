"""Registry credentials and secrets to mask for a build, read from the rules file (file I/O)."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field

from core.errors import RulesError
from core.plan import BuildPlan
from core.rules import load_rules_file
from vcs.gitcmd import auth_env

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BuildSecrets:
    """Push credentials (None: the worker's Docker config, as docker-py reads it) and masks."""

    auth_config: dict[str, str] | None = None
    masked: tuple[str, ...] = field(default_factory=tuple)
    git_env: dict[str, str] = field(default_factory=dict, repr=False)


def secrets_for(rules_path: str, plan: BuildPlan) -> BuildSecrets:
    """The repository's registry_auth and every secret of its entry, from the current rules."""
    try:
        ruleset = load_rules_file(rules_path, environ=os.environ)
    except RulesError as exc:
        logger.warning("cannot read credentials from %s: %s", rules_path, exc)
        return BuildSecrets()
    repo = ruleset.find(plan.provider, plan.repository)
    if repo is None:
        return BuildSecrets()
    masked = list(repo.secrets)
    auth = None
    if repo.registry_auth is not None:
        auth = {"username": repo.registry_auth.username,
                "password": repo.registry_auth.password}
        masked.append(repo.registry_auth.password)
    masked.extend(value for key, value in plan.build_args
                  if key in plan.secret_build_args or _looks_secret(key))
    git = {}
    if repo.git_auth is not None:
        git = auth_env(**vars(repo.git_auth))
        header = git.get("GIT_CONFIG_VALUE_0", "")
        masked.extend(v for v in (repo.git_auth.token, header.rpartition(" ")[2]) if v)
    return BuildSecrets(auth_config=auth, masked=tuple(masked), git_env=git)


def _looks_secret(name: str) -> bool:
    upper = name.upper()
    return any(word in upper for word in ("TOKEN", "PASSWORD", "SECRET", "KEY"))
