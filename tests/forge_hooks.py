"""Real forge deliveries rewritten, re-signed and posted: the helpers of the per-forge tests.

Fixture files are never modified: each is loaded, rewritten as a parsed object, dumped and
signed afresh, so the signature is over the exact bytes posted.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from core.events import ZERO_SHA, short_ref
from core.signatures import sign_bitbucket, sign_gitea, sign_github
from tests.conftest import API_TOKEN, SECRET, repo_yaml
from tests.core.fixtures import fixture

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
TAG = "v1.2.3"
ANNOTATED_TAG = "v2.0.0"
FORM = "application/x-www-form-urlencoded"
RULES = ("      - source_type: branch\n        source: main\n        tag: latest\n"
         "      - source_type: tag\n        source: '/^v[0-9]/'\n        tag: '{sourceref}'\n")

# One configured repository per forge flavour, named as that forge's parser reads it.
NAMES = {
    "github": "it-forges/gh-app",
    "gitea": "it-forges/gitea-app",
    "gitlab": "it-group/sub-group/gl-app",  # path_with_namespace, with a subgroup
    "bitbucket-cloud": "it-ws/bbc-app",  # repository.full_name
    "bitbucket-server": "ITPROJ/bbs-app",  # PROJECT_KEY/slug as the payload spells it
}
PROVIDER = {"github": "github", "gitea": "gitea", "gitlab": "gitlab",
            "bitbucket-cloud": "bitbucket", "bitbucket-server": "bitbucket"}
# A repository configured under another forge than each flavour's endpoint.
OTHER_FORGE = {"github": "gitlab", "gitea": "github", "gitlab": "gitea",
               "bitbucket-cloud": "github", "bitbucket-server": "gitea"}


# --- rewriting and signing real payloads ------------------------------------------------------

def rename(flavour: str, payload: dict[str, Any], name: str) -> None:
    """Make `payload` name repository `name` in the field the forge's parser reads."""
    if flavour == "gitlab":
        payload["project"]["path_with_namespace"] = name
    elif flavour == "bitbucket-server":
        key, slug = name.split("/")
        payload["repository"]["project"]["key"] = key
        payload["repository"]["slug"] = slug
    else:
        payload["repository"]["full_name"] = name


def retarget(flavour: str, payload: dict[str, Any], ref: str, commit: str,
             before: str = ZERO_SHA) -> None:
    """Make `payload` push `commit` to `ref` (before = 40 zeros: the ref is created there)."""
    short = short_ref(ref)
    is_tag = ref.startswith("refs/tags/")
    if flavour in ("github", "gitea", "gitlab"):
        payload.update(ref=ref, before=before, after=commit)
        if flavour == "gitlab":
            payload["checkout_sha"] = commit
        if "created" in payload:
            payload["created"] = before == ZERO_SHA
        if payload.get("head_commit"):
            payload["head_commit"]["id"] = commit
        if payload.get("commits"):
            payload["commits"][0]["id"] = commit
    elif flavour == "bitbucket-cloud":
        change = payload["push"]["changes"][0]
        change["new"].update(type="tag" if is_tag else "branch", name=short)
        change["new"]["target"]["hash"] = commit
        if before == ZERO_SHA:  # Cloud has no zero SHAs: a created ref has no old side
            change.update(old=None, created=True)
        else:
            change["old"].update(type="tag" if is_tag else "branch", name=short)
            change["old"]["target"]["hash"] = before
    elif flavour == "bitbucket-server":
        change = payload["changes"][0]
        change["ref"].update(id=ref, displayId=short, type="TAG" if is_tag else "BRANCH")
        change.update(refId=ref, fromHash=before, toHash=commit,
                      type="ADD" if before == ZERO_SHA else "UPDATE")
        if payload.get("toCommit"):
            payload["toCommit"].update(id=commit, displayId=commit[:11])
    else:
        raise AssertionError(flavour)


def auth_headers(flavour: str, body: bytes, secret: str) -> dict[str, str]:
    """The signature (or token) headers the forge sends for `body`."""
    if flavour == "github":
        return {"X-Hub-Signature-256": sign_github(body, secret)}
    if flavour == "gitea":  # Gitea sends its bare-hex header and GitHub's prefixed one
        return {"X-Gitea-Signature": sign_gitea(body, secret),
                "X-Hub-Signature-256": sign_github(body, secret)}
    if flavour == "gitlab":
        return {"X-Gitlab-Token": secret}
    return {"X-Hub-Signature": sign_bitbucket(body, secret)}


def delivery_headers(flavour: str, delivery: str) -> dict[str, str]:
    """The delivery id headers (and the extra headers) the forge sends."""
    return {
        "github": {"X-GitHub-Delivery": delivery, "User-Agent": "GitHub-Hookshot/it"},
        "gitea": {"X-Gitea-Delivery": delivery, "X-GitHub-Delivery": delivery,
                  "X-GitHub-Event": "push"},
        "gitlab": {"X-Gitlab-Event-UUID": delivery, "User-Agent": "GitLab/17.0.0"},
        "bitbucket-cloud": {"X-Request-UUID": delivery, "X-Attempt-Number": "1",
                            "User-Agent": "Bitbucket-Webhooks/2.0"},
        "bitbucket-server": {"X-Request-Id": delivery},
    }[flavour]


@dataclass(frozen=True)
class Hook:
    """One delivery ready to post: endpoint, exact body bytes and headers."""

    forge: str
    body: bytes
    headers: dict[str, str]
    delivery: str

    def post(self, client: FlaskClient) -> TestResponse:
        """POST it to /hooks/<forge>."""
        return client.post(f"/hooks/{self.forge}", data=self.body, headers=self.headers)


def make_hook(file: str, name: str, *, ref: str | None = None, commit: str | None = None,
              secret: str = SECRET, delivery: str | None = None, form: bool = False,
              edit: Callable[[dict[str, Any]], None] | None = None) -> Hook:
    """The fixture `file` rewritten to repository `name` (and `ref` at `commit`), signed."""
    row = fixture(file)
    flavour = row.provider
    payload = json.loads(row.body)
    rename(flavour, payload, name)
    if ref is not None:
        assert commit is not None
        retarget(flavour, payload, ref, commit)
    if edit is not None:
        edit(payload)
    text = json.dumps(payload)
    body = ("payload=" + quote_plus(text)).encode() if form else text.encode()
    content_type = FORM if form else (
        "application/json; charset=utf-8" if flavour == "bitbucket-server"
        else "application/json")
    delivery = delivery or f"it-{uuid.uuid4()}"
    headers = {**row.event_headers, **delivery_headers(flavour, delivery),
               **auth_headers(flavour, body, secret), "Content-Type": content_type}
    return Hook(row.forge, body, headers, delivery)


def rules_text(clone_url: str = "file:///nonexistent/repo.git",
               images: dict[str, str] | None = None,
               names: dict[str, str] | None = None) -> str:
    """A rules file configuring NAMES (or `names`), each under its own forge."""
    images = images or {}
    return "repositories:\n" + "".join(
        repo_yaml(name, provider=PROVIDER[flavour], clone_url=clone_url, rules=RULES,
                  image=images.get(flavour, f"127.0.0.1:5000/it-forges/{flavour}"))
        for flavour, name in {**NAMES, **(names or {})}.items())


PUSHES = {
    "github": "github/push-branch.json",
    "gitea": "gitea/push-branch.json",
    "gitlab": "gitlab/push-branch.json",
    "bitbucket-cloud": "bitbucket-cloud/push-branch.json",
    "bitbucket-server": "bitbucket-server/refs-changed-branch-update.json",
}
SOME_COMMIT = "4522cbcefc20728a5b72b3a86af35e608622c514"


def zero_after(payload: dict[str, Any]) -> None:
    """Gitea's deletion: a push whose `after` is 40 zeros (no Gitea deletion fixture exists)."""
    payload.update(after=ZERO_SHA, commits=[], head_commit=None)


def push_hook(flavour: str, **kwargs: Any) -> Hook:
    """The flavour's branch push fixture, rewritten to push SOME_COMMIT to main."""
    return make_hook(PUSHES[flavour], NAMES[flavour], ref="refs/heads/main",
                     commit=SOME_COMMIT, **kwargs)
