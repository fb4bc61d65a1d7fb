"""`autobuild notify test REPOSITORY`: send a test event to every target the repository
configures, and print each answer (rules file, git and network I/O)."""

from __future__ import annotations

import argparse
import os
import re
import sys
from dataclasses import replace
from datetime import UTC, datetime

from core.config import ConfigError, settings_from_env
from core.errors import RulesError, SecretUnavailableError
from core.notify.facts import BuildFacts
from core.notify.request import OutgoingRequest
from core.notify.statuses import status_request
from core.notify.targets import KIND_COMMIT_STATUS
from core.notify.webhooks import webhook_request
from core.rules import RepositoryConfig
from core.status import BuildStatus
from notify.http import HttpClient, RequestsClient
from notify.sender import send
from records.notify_fanout import build_url
from service.rules_state import read_rules_file
from vcs.gitcmd import GitError, credentials_env
from vcs.remote import ls_remote

TEST_EVENT = "test"
TEST_CONTEXT = "autobuild/test"
TEST_SUMMARY = "test notification from `autobuild notify test`"


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `notify test` on the `autobuild` command's subparsers."""
    notify = subparsers.add_parser("notify", help="try a repository's notification targets")
    commands = notify.add_subparsers(dest="notify_command", required=True)
    test = commands.add_parser("test", help="send a test event to every target of a "
                               "repository and print each answer")
    test.add_argument("repository", help="owner/name as in the rules file")
    test.add_argument("--provider", help="when two forges have a repository of that name")
    test.add_argument("--commit", help="the commit a test status is set on (default: the "
                      "repository's HEAD, from git ls-remote)")
    test.add_argument("--rules", help="the rules file (default: AUTOBUILD_RULES)")


def run(args: argparse.Namespace, *, client: HttpClient | None = None) -> int:
    """Send the test event; 0 when every target answered 2xx, 1 otherwise."""
    try:
        settings = settings_from_env(os.environ, base_dir=os.getcwd())
        ruleset = read_rules_file(args.rules or settings.rules_path, environ=os.environ)
    except (ConfigError, RulesError) as exc:
        print(f"autobuild notify test: {exc}", file=sys.stderr)
        return 1
    repo = (ruleset.find(args.provider, args.repository) if args.provider
            else ruleset.by_name(args.repository))
    if repo is None:
        print(f"autobuild notify test: repository {args.repository!r} is not configured",
              file=sys.stderr)
        return 1
    if repo.status is None and not repo.notify:
        print(f"{repo.name}: no status: or notify: targets are configured")
        return 1
    commit = args.commit or _head(repo)
    requests = _requests(repo, commit, public_url=settings.public_url)
    client = client or RequestsClient()
    ok = True
    for kind, request in requests:
        if request is None:
            ok = False
            print(f"{kind} {repo.status.api_url if repo.status else ''}: not sent: give "
                  "--commit SHA (git ls-remote could not tell the repository's HEAD)")
            continue
        attempt = send(request, client=client, environ=os.environ)
        ok = ok and attempt.status is not None and 200 <= attempt.status < 300
        print(f"{kind} {request.describe()}: {attempt.answer}")
    return 0 if ok else 1


def _head(repo: RepositoryConfig) -> str | None:
    """The commit HEAD names on the remote, or None when git cannot tell."""
    try:
        auth, _ = credentials_env(repo.git_auth, os.environ, url=repo.clone_url)
        found = ls_remote(repo.clone_url, timeout=30, auth=auth).get("HEAD")
    except (GitError, SecretUnavailableError):
        return None
    return found if found and re.fullmatch(r"[0-9a-f]{40}", found) else None


def _requests(repo: RepositoryConfig, commit: str | None, *, public_url: str
              ) -> list[tuple[str, OutgoingRequest | None]]:
    """(kind, request) for each target; a status target without a commit gets None."""
    now = datetime.now(UTC)
    facts = BuildFacts(
        build_id=TEST_EVENT, repository=repo.name, provider=repo.provider,
        ref="refs/heads/test", commit=commit or "0" * 40, status=BuildStatus.SUCCESS,
        tags=(f"{repo.image}:{TEST_EVENT}",), at=now, created_at=now, image=repo.image,
        build_url=build_url(public_url, TEST_EVENT), summary=TEST_SUMMARY,
    )
    found: list[tuple[str, OutgoingRequest | None]] = []
    if repo.status is not None:
        request = status_request(replace(repo.status, context=TEST_CONTEXT), facts)
        found.append((KIND_COMMIT_STATUS, request if commit else None))
    for target in repo.notify:
        found.append((target.kind, webhook_request(target, facts, event=TEST_EVENT,
                                                   delivery_id=f"test-{int(now.timestamp())}")))
    return found
