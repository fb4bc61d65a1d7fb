"""`autobuild rules check FILE`, `autobuild rules explain FILE --repository NAME REF`, the
`db`, `notify` and `import` command groups (service/db_command.py, service/notify_command.py,
service/import_command.py), `autobuild doctor` (service/doctor_command.py) and `autobuild gc`,
which runs the worker host's `python -m workers.gc` (the web process never imports workers/)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

from core.config import ConfigError, settings_from_env
from core.errors import RulesError
from core.events import BRANCH_PREFIX, TAG_PREFIX
from core.matching import explain_ref
from core.rules import BuildRule, RuleSet
from service import db_command, doctor_command, import_command, notify_command
from service.rules_state import read_rules_file


def _load(path: str) -> RuleSet | None:
    try:
        builder = settings_from_env(os.environ, base_dir=os.getcwd()).builder
        return read_rules_file(path, environ=os.environ, builder=builder)
    except ConfigError as exc:
        print(f"autobuild: {exc}", file=sys.stderr)
        return None
    except RulesError as exc:
        print(f"{path}: invalid rules ({len(exc.errors)} problem(s)):", file=sys.stderr)
        for error in exc.errors:
            print(f"  {error}", file=sys.stderr)
        return None


def check(path: str) -> int:
    """Validate a rules file; print every problem and return 1, or 0 when valid."""
    ruleset = _load(path)
    if ruleset is None:
        return 1
    count = sum(len(r.rules) for r in ruleset.repositories)
    print(f"{path}: OK ({len(ruleset.repositories)} repositories, {count} rules)")
    return 0


def build_settings(rule: BuildRule) -> str:
    """How a rule builds: its builder, platforms and build secret ids."""
    parts = [f"builder {rule.builder}"]
    if rule.platforms:
        parts.append(f"platforms {', '.join(rule.platforms)}")
    if rule.secrets:
        parts.append(f"secrets {', '.join(secret_id for secret_id, _ in rule.secrets)}")
    return "; ".join(parts)


def explain(path: str, repository: str, ref: str) -> int:
    """Print, per rule, whether a push of `ref` matches and the references it would push."""
    ruleset = _load(path)
    if ruleset is None:
        return 1
    repo = ruleset.by_name(repository)
    if repo is None:
        known = ", ".join(r.name for r in ruleset.repositories) or "none"
        print(f"repository {repository!r} is not in {path} (configured: {known})", file=sys.stderr)
        return 1
    refs = [ref] if ref.startswith("refs/") else [BRANCH_PREFIX + ref, TAG_PREFIX + ref]
    for full_ref in refs:
        result = explain_ref(repo, full_ref)
        print(f"{repo.name} {full_ref}:")
        for outcome in result.outcomes:
            mark = "builds" if outcome.matched and outcome.references else "no build"
            print(f"  [{mark}] {outcome.reason}")
            if outcome.matched and outcome.references:
                print(f"           {build_settings(outcome.rule)}")
        if result.skipped_reason:
            print(f"  [no build] {result.skipped_reason}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `autobuild` command."""
    parser = argparse.ArgumentParser(prog="autobuild")
    commands = parser.add_subparsers(dest="command", required=True)
    rules = commands.add_parser("rules", help="check or explain a rules file")
    rules_commands = rules.add_subparsers(dest="rules_command", required=True)
    check_parser = rules_commands.add_parser("check", help="validate a rules file")
    check_parser.add_argument("file")
    explain_parser = rules_commands.add_parser("explain", help="what a push of REF would build")
    explain_parser.add_argument("file")
    explain_parser.add_argument("--repository", required=True)
    explain_parser.add_argument("ref", help="refs/heads/NAME, refs/tags/NAME, or a bare name")
    db_command.add_parser(commands)
    notify_command.add_parser(commands)
    import_command.add_parser(commands)
    doctor_command.add_parser(commands)
    commands.add_parser("gc", help="remove old build logs, mirrors of unconfigured "
                        "repositories, leftover workspaces and dangling images (--dry-run "
                        "lists them; run it on each worker host)")
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["gc"]:  # the worker host's own command, with its own options
        return subprocess.call([sys.executable, "-m", "workers.gc", *argv[1:]])
    args = parser.parse_args(argv)
    if args.command == "doctor":
        return doctor_command.run(args)
    if args.command == "db":
        return db_command.run(args)
    if args.command == "notify":
        return notify_command.run(args)
    if args.command == "import":
        return import_command.run(args)
    if args.rules_command == "check":
        return check(args.file)
    return explain(args.file, args.repository, args.ref)


if __name__ == "__main__":
    sys.exit(main())
