"""Settings read from the environment, parsed purely (no I/O).

`settings_from_env` is the only reader of Autobuild's own variables (AUTOBUILD_*, DATABASE_URL,
REDIS_URL, DOCKER_HOST). The rules file's `${VAR}` references are the user's own names; the
rules loader reads those from the environment mapping it is given.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from core import defaults
from core.build_limits import BuildLimits, parse_cpus, parse_memory
from core.build_options import builder_problem, network_problem


@dataclass(frozen=True)
class Settings:
    """Everything the web and worker processes are configured with."""

    var_dir: str
    database_url: str
    redis_url: str
    rules_path: str
    api_token: str
    secret_key: str
    max_body_bytes: int = defaults.MAX_BODY_BYTES
    log_cap_bytes: int = defaults.LOG_CAP_BYTES
    git_timeout: int = defaults.GIT_TIMEOUT
    engine_timeout: int = defaults.ENGINE_TIMEOUT
    ls_remote_timeout: int = defaults.LS_REMOTE_TIMEOUT
    read_access: str = "public"
    prune_images: bool = False
    docker_host: str = defaults.DOCKER_HOST
    users: str = ""
    users_file: str = ""
    db_upgrade: str = "check"
    trusted_proxies: int = 0
    streams_per_process: int = defaults.STREAMS_PER_PROCESS
    public_url: str = ""
    notify_backoff: int = defaults.NOTIFY_BACKOFF
    builder: str = defaults.BUILDER
    build_network: str = defaults.BUILD_NETWORK
    build_limits: BuildLimits = BuildLimits()
    buildkit_cgroup: str = defaults.BUILDKIT_CGROUP
    registry_token: str = ""
    scheduler_interval: int = defaults.SCHEDULER_INTERVAL
    retention_days: int = defaults.RETENTION_DAYS

    @property
    def workspace_dir(self) -> str:
        """Where workers check out commits (one temporary folder per build)."""
        return os.path.join(self.var_dir, "work")

    @property
    def mirror_dir(self) -> str:
        """Where workers keep one bare mirror per repository."""
        return os.path.join(self.var_dir, "mirrors")


class ConfigError(ValueError):
    """An environment variable has a value we cannot use."""


def _int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{name} must be positive, got {value}")
    return value


def _count(environ: Mapping[str, str], name: str) -> int:
    """A whole number that may be 0; 0 when unset."""
    raw = environ.get(name, "").strip()
    if not raw:
        return 0
    if not raw.isdecimal() or not raw.isascii():
        raise ConfigError(f"{name} must be a whole number (0 or more), got {raw!r}")
    return int(raw)


def _days(environ: Mapping[str, str], name: str, default: int) -> int:
    """A whole number of days, 0 allowed; `default` when unset."""
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdecimal() or not raw.isascii():
        raise ConfigError(f"{name} must be a whole number of days (0 keeps forever), got {raw!r}")
    return int(raw)


def _flag(environ: Mapping[str, str], name: str) -> bool:
    raw = environ.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no"):
        return False
    if raw in ("1", "true", "yes"):
        return True
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def _public_url(environ: Mapping[str, str]) -> str:
    """AUTOBUILD_PUBLIC_URL without a trailing slash; "" when unset."""
    raw = environ.get("AUTOBUILD_PUBLIC_URL", "").strip().rstrip("/")
    if not raw:
        return ""
    scheme, _, rest = raw.partition("://")
    if scheme not in ("http", "https") or not rest or any(c in rest for c in "?#@ "):
        raise ConfigError("AUTOBUILD_PUBLIC_URL must be the http(s):// address the status "
                          f"pages are reached at, without query or credentials, got {raw!r}")
    return raw


def settings_from_env(environ: Mapping[str, str], *, base_dir: str) -> Settings:
    """Settings from AUTOBUILD_*, DATABASE_URL and REDIS_URL; paths are relative to base_dir."""
    var_dir = os.path.abspath(os.path.join(base_dir, environ.get("AUTOBUILD_VAR_DIR", "var")))
    database_url = environ.get("DATABASE_URL") or f"sqlite:///{var_dir}/autobuild.db"
    rules = environ.get("AUTOBUILD_RULES") or os.path.join(base_dir, "build_rules.example.yaml")
    read_access = environ.get("AUTOBUILD_READ_ACCESS", "public")
    if read_access not in ("public", "login"):
        raise ConfigError(f"AUTOBUILD_READ_ACCESS must be public or login, got {read_access!r}")
    db_upgrade = environ.get("AUTOBUILD_DB_UPGRADE", "").strip() or "check"
    if db_upgrade not in ("check", "auto"):
        raise ConfigError(f"AUTOBUILD_DB_UPGRADE must be check or auto, got {db_upgrade!r}")
    builder = environ.get("AUTOBUILD_BUILDER", "").strip() or defaults.BUILDER
    if problem := builder_problem(builder):
        raise ConfigError(f"AUTOBUILD_BUILDER: {problem}")
    network = environ.get("AUTOBUILD_BUILD_NETWORK", "").strip() or defaults.BUILD_NETWORK
    if problem := network_problem(network):
        raise ConfigError(f"AUTOBUILD_BUILD_NETWORK {problem}")
    return Settings(
        var_dir=var_dir,
        database_url=database_url,
        redis_url=environ.get("REDIS_URL") or defaults.REDIS_URL,
        rules_path=os.path.abspath(os.path.join(base_dir, rules)),
        api_token=environ.get("AUTOBUILD_API_TOKEN", ""),
        secret_key=environ.get("AUTOBUILD_SECRET_KEY", ""),
        max_body_bytes=_int(environ, "AUTOBUILD_MAX_BODY_BYTES", defaults.MAX_BODY_BYTES),
        log_cap_bytes=_int(environ, "AUTOBUILD_LOG_CAP_BYTES", defaults.LOG_CAP_BYTES),
        git_timeout=_int(environ, "AUTOBUILD_GIT_TIMEOUT", defaults.GIT_TIMEOUT),
        engine_timeout=_int(environ, "AUTOBUILD_ENGINE_TIMEOUT", defaults.ENGINE_TIMEOUT),
        ls_remote_timeout=_int(environ, "AUTOBUILD_LS_REMOTE_TIMEOUT",
                               defaults.LS_REMOTE_TIMEOUT),
        read_access=read_access,
        prune_images=_flag(environ, "AUTOBUILD_PRUNE_IMAGES"),
        docker_host=environ.get("DOCKER_HOST") or defaults.DOCKER_HOST,
        users=environ.get("AUTOBUILD_USERS", ""),
        users_file=environ.get("AUTOBUILD_USERS_FILE", "").strip(),
        db_upgrade=db_upgrade,
        trusted_proxies=_count(environ, "AUTOBUILD_TRUSTED_PROXIES"),
        streams_per_process=_int(environ, "AUTOBUILD_STREAMS_PER_PROCESS",
                                 defaults.STREAMS_PER_PROCESS),
        public_url=_public_url(environ),
        notify_backoff=_int(environ, "AUTOBUILD_NOTIFY_BACKOFF", defaults.NOTIFY_BACKOFF),
        builder=builder,
        build_network=network,
        build_limits=_limits(environ),
        buildkit_cgroup=_cgroup(environ),
        registry_token=environ.get("AUTOBUILD_REGISTRY_TOKEN", "").strip(),
        scheduler_interval=_int(environ, "AUTOBUILD_SCHEDULER_INTERVAL",
                                defaults.SCHEDULER_INTERVAL),
        retention_days=_days(environ, "AUTOBUILD_RETENTION_DAYS", defaults.RETENTION_DAYS),
    )


def _limits(environ: Mapping[str, str]) -> BuildLimits:
    """The worker's default build limits: AUTOBUILD_BUILD_MEMORY and AUTOBUILD_BUILD_CPUS."""
    found: dict[str, int | None] = {}
    for name, parse in (("AUTOBUILD_BUILD_MEMORY", parse_memory),
                        ("AUTOBUILD_BUILD_CPUS", parse_cpus)):
        raw = environ.get(name, "").strip()
        try:
            found[name] = parse(raw) if raw else None
        except ValueError as exc:
            raise ConfigError(f"{name}: {exc}") from None
    return BuildLimits(memory=found["AUTOBUILD_BUILD_MEMORY"],
                       millicpus=found["AUTOBUILD_BUILD_CPUS"])


def _cgroup(environ: Mapping[str, str]) -> str:
    """AUTOBUILD_BUILDKIT_CGROUP: the engine's BuildKit cgroup, relative to a hierarchy's root."""
    value = environ.get("AUTOBUILD_BUILDKIT_CGROUP", "").strip().strip("/")
    value = value or defaults.BUILDKIT_CGROUP
    if ".." in value.split("/") or not all(part.strip() for part in value.split("/")):
        raise ConfigError(f"AUTOBUILD_BUILDKIT_CGROUP must be a cgroup path such as "
                          f"docker/buildkit, got {value!r}")
    return value
