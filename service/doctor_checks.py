"""The checks of `autobuild doctor` (database, Redis, engine and RQ I/O): each looks at one
thing the service needs and says what is wrong and how to fix it. Values of secrets are never
part of a finding, only their names and lengths' verdicts."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, cast

from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from core.rules import RuleSet
from records import migrate
from records.db import make_engine
from service.health import OK, docker_address, docker_ping
from service.queue_watch import RQQueueWatch

MIN_WEBHOOK_SECRET = 16
"""Shorter webhook secrets are an error: the HMAC key is all that stops forged pushes."""
SAFE_EVICTION = ("noeviction",)


class Level(StrEnum):
    """How bad a finding is: errors make `autobuild doctor` exit 1."""

    OK = "ok"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True)
class Finding:
    """One thing doctor looked at: what, how it is, and how to fix it when it is not ok."""

    level: Level
    subject: str
    message: str
    fix: str = ""


def database(url: str, shown: str) -> list[Finding]:
    """Reachable, and its schema at this code's head."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        migrate.check(engine)
    except migrate.SchemaMismatchError as exc:
        return [Finding(Level.ERROR, "database", f"{shown}: {exc}",
                        "run `autobuild db upgrade` (back the database up first), or set "
                        "AUTOBUILD_DB_UPGRADE=auto")]
    except (SQLAlchemyError, migrate.MigrationError) as exc:
        first = str(exc).splitlines()[0][:300]
        return [Finding(Level.ERROR, "database", f"{shown}: cannot connect: {first}",
                        "start the database, or set DATABASE_URL to it")]
    finally:
        engine.dispose()
    return [Finding(Level.OK, "database", f"{shown}: reachable, schema at "
                    f"{migrate.head_revision()} (this code's head)")]


def redis_server(client: Redis, shown: str) -> list[Finding]:
    """Reachable, persistent, and never evicting the queue's keys."""
    try:
        client.ping()
        persistence = cast(dict[str, Any], client.info("persistence"))
        memory = cast(dict[str, Any], client.info("memory"))
        try:
            saves = str(cast(dict[str, Any], client.config_get("save")).get("save", ""))
        except RedisError:  # managed services may disable CONFIG
            saves = "unknown"
    except RedisError as exc:
        return [Finding(Level.ERROR, "redis", f"{shown}: cannot connect: {exc}",
                        "start redis-server, or set REDIS_URL to it")]
    found = [Finding(Level.OK, "redis", f"{shown}: reachable")]
    aof_fix = ("turn AOF on: `redis-cli CONFIG SET appendonly yes` and `appendonly yes` in "
               "redis.conf")
    if persistence.get("aof_enabled"):
        found.append(Finding(Level.OK, "redis", "persistence: AOF on"))
    elif saves == "unknown":
        found.append(Finding(Level.WARNING, "redis", "persistence: AOF is off and CONFIG is "
                             "disabled, so RDB snapshots cannot be checked", aof_fix))
    elif not saves.strip():
        found.append(Finding(
            Level.WARNING, "redis", "persistence is off (no AOF, no RDB snapshots): a restart "
            "empties the queue, and queued builds wait 30 s or more to be queued again",
            aof_fix))
    else:
        found.append(Finding(Level.OK, "redis", f"persistence: RDB snapshots ({saves})"))
    policy = str(memory.get("maxmemory_policy", "noeviction"))
    if policy not in SAFE_EVICTION:
        found.append(Finding(
            Level.WARNING, "redis", f"maxmemory-policy is {policy}: under memory pressure Redis "
            "may evict queued jobs and the workers' registrations",
            "`redis-cli CONFIG SET maxmemory-policy noeviction` and the same in redis.conf"))
    return found


def engines(hosts: Iterable[str]) -> list[Finding]:
    """Each Docker engine answers GET /_ping."""
    found = []
    for host in hosts:
        verdict = docker_ping(docker_address(host), timeout=5.0)
        found.append(Finding(Level.OK, f"engine {host}", "answers /_ping") if verdict == OK
                     else Finding(Level.ERROR, f"engine {host}", verdict,
                                  "start dockerd there, or point DOCKER_HOST at the worker's "
                                  "engine (run doctor on each worker host)"))
    return found


def webhook_secrets(ruleset: RuleSet) -> list[Finding]:
    """Every repository verifies its webhooks with a secret long enough to resist guessing."""
    found = []
    for repo in ruleset.repositories:
        subject = f"{repo.provider} {repo.name} webhook secret"
        lengths = sorted(len(secret) for secret in repo.secrets)
        if not lengths:
            found.append(Finding(Level.WARNING, subject, "none: unsigned deliveries are "
                                 "accepted (insecure_no_secret: true)",
                                 "set `secret:` here and in the forge's webhook"))
        elif lengths[0] < MIN_WEBHOOK_SECRET:
            found.append(Finding(Level.ERROR, subject, f"shorter than {MIN_WEBHOOK_SECRET} "
                                 "characters: guessable",
                                 "use a random one: python3 -c 'import secrets; "
                                 "print(secrets.token_urlsafe(32))'"))
        else:
            count = f"{len(lengths)} secrets" if len(lengths) > 1 else "set"
            found.append(Finding(Level.OK, subject, f"{count}, at least {lengths[0]} characters"))
    return found


def queues(ruleset: RuleSet, client: Redis) -> list[Finding]:
    """Every queue the rules use has a live worker listening on it."""
    live = RQQueueWatch(client).snapshot(ruleset.queues())
    if live is None:
        return []  # redis_server() says why
    found = []
    for queue in live.queues:
        if queue.name not in ruleset.queues():
            continue
        hosts = sorted({w.hostname for w in queue.workers})
        found.append(
            Finding(Level.OK, f"queue {queue.name}", f"{len(queue.workers)} live worker(s) on "
                    f"{', '.join(hosts)}; {queue.depth} job(s) waiting") if queue.workers else
            Finding(Level.WARNING, f"queue {queue.name}", f"no worker is listening; "
                    f"{queue.depth} job(s) waiting",
                    f"start `python -m workers --queue {queue.name}` on a machine that can "
                    "build them"))
    return found
