"""`autobuild doctor`: check the database, Redis, the Docker engines, each registry the rules
name and each forge webhook secret; print what is wrong and how to fix it, and exit 1 when
anything is an error (warnings alone exit 0). Secret values are never printed."""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from urllib.parse import urlsplit, urlunsplit

from redis import Redis
from sqlalchemy.engine import make_url

from core.config import ConfigError, Settings, settings_from_env
from core.errors import RulesError
from core.rules import RuleSet
from service import doctor_checks, registry_probe
from service.doctor_checks import Finding, Level
from service.rules_state import read_rules_file

MIN_API_TOKEN = 16


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `doctor` on the `autobuild` command's subparsers."""
    doctor = subparsers.add_parser("doctor", help="check the database, Redis, engines, "
                                   "registries and webhook secrets; say how to fix problems")
    doctor.add_argument("--rules", help="the rules file (default: AUTOBUILD_RULES)")
    doctor.add_argument("--docker-host", action="append", dest="docker_hosts", default=[],
                        metavar="URL", help="an engine to check besides DOCKER_HOST "
                        "(repeatable), e.g. unix:///run/docker-b.sock or tcp://10.0.0.5:2375")


def _rules(path: str, settings: Settings) -> tuple[RuleSet | None, list[Finding]]:
    try:
        ruleset = read_rules_file(path, environ=os.environ, builder=settings.builder)
    except RulesError as exc:
        return None, [Finding(Level.ERROR, "rules", f"{path}: {len(exc.errors)} problem(s): "
                              + "; ".join(exc.errors[:5]),
                              f"fix the file (autobuild rules check {path} lists every problem)")]
    count = sum(len(repo.rules) for repo in ruleset.repositories)
    return ruleset, [Finding(Level.OK, "rules", f"{path}: {len(ruleset.repositories)} "
                             f"repositories, {count} rules")]


def _tokens(settings: Settings) -> list[Finding]:
    if not settings.api_token:
        return [Finding(Level.WARNING, "api token", "AUTOBUILD_API_TOKEN is not set: nobody "
                        "can log in with it, Build now and the API's actions are closed",
                        "set AUTOBUILD_API_TOKEN for the web processes")]
    if len(settings.api_token) < MIN_API_TOKEN:
        return [Finding(Level.ERROR, "api token", f"AUTOBUILD_API_TOKEN is shorter than "
                        f"{MIN_API_TOKEN} characters", "use python3 -c 'import secrets; "
                        "print(secrets.token_urlsafe(32))'")]
    return [Finding(Level.OK, "api token", "set")]


def diagnose(settings: Settings, environ: Mapping[str, str], *, rules_path: str,
             docker_hosts: list[str]) -> list[Finding]:
    """Every finding, in the order the checks run."""
    shown = make_url(settings.database_url).render_as_string(hide_password=True)
    found = doctor_checks.database(settings.database_url, shown)
    redis = Redis.from_url(settings.redis_url, socket_timeout=5, socket_connect_timeout=5)
    try:
        found += doctor_checks.redis_server(redis, _without_password(settings.redis_url))
        found += doctor_checks.engines(dict.fromkeys([settings.docker_host, *docker_hosts]))
        ruleset, rule_findings = _rules(rules_path, settings)
        found += rule_findings
        if ruleset is not None:
            for host, logins in registry_probe.registries(ruleset).items():
                for result in registry_probe.probe(host, logins, environ):
                    level = Level.OK if result.ok and not result.warning else (
                        Level.WARNING if result.ok else Level.ERROR)
                    found.append(Finding(level, f"registry {host}", result.message, result.fix))
            found += doctor_checks.webhook_secrets(ruleset)
            if any(f.subject == "redis" and f.level is Level.OK for f in found):
                found += doctor_checks.queues(ruleset, redis)
    finally:
        redis.close()
    return found + _tokens(settings)


def _without_password(url: str) -> str:
    """A URL fit to print: its password replaced by ***."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def report(findings: list[Finding]) -> str:
    """The printed report: one line per finding (and its fix), then the verdict."""
    lines = []
    for finding in findings:
        lines.append(f"{finding.level.value:<8} {finding.subject}: {finding.message}")
        if finding.fix and finding.level is not Level.OK:
            lines.append(f"         fix: {finding.fix}")
    errors = sum(f.level is Level.ERROR for f in findings)
    warnings = sum(f.level is Level.WARNING for f in findings)
    lines.append(f"autobuild doctor: {errors} error(s), {warnings} warning(s)")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Run the checks, print the report; 1 when any check is an error."""
    try:
        settings = settings_from_env(os.environ, base_dir=os.getcwd())
    except ConfigError as exc:
        print(f"error    settings: {exc}\nautobuild doctor: 1 error(s), 0 warning(s)")
        return 1
    findings = diagnose(settings, os.environ, rules_path=args.rules or settings.rules_path,
                        docker_hosts=args.docker_hosts)
    print(report(findings))
    return 1 if any(f.level is Level.ERROR for f in findings) else 0
