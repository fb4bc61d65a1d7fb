"""Commit statuses: each forge's documented request for one build transition (no I/O).

    github            POST {api}/repos/{owner}/{repo}/statuses/{sha}
                      {state, target_url, description, context}; Authorization: Bearer
    gitea             POST {api}/repos/{owner}/{repo}/statuses/{sha}
                      the same body (Gitea's CreateStatusOption); Authorization: token
    gitlab            POST {api}/projects/{url-encoded path}/statuses/{sha}
                      {state, name, ref, target_url, description}; PRIVATE-TOKEN
    bitbucket-cloud   POST {api}/2.0/repositories/{workspace}/{slug}/commit/{sha}/statuses/build
                      {key, state, name, url, description, refname}; Basic (app password) or
                      Bearer (access token)
    bitbucket-server  POST {api}/rest/build-status/1.0/commits/{sha}
                      {state, key, name, url, description}; Basic or Bearer (HTTP access token)

Sources: GitHub REST "Create a commit status" (description at most 140 characters, else 422),
GitLab "Set the pipeline status of a commit", Gitea's swagger CreateStatusOption, Bitbucket
Cloud "Create a build status for a commit", Bitbucket Data Center "Updating build status for
commits" (build-status 1.0, which requires `url` and answers 204).
"""

from __future__ import annotations

import hashlib
import json
from urllib.parse import quote

from core.notify.facts import BuildFacts, describe
from core.notify.request import Auth, OutgoingRequest
from core.notify.targets import StatusTarget
from core.status import BuildStatus

REPORTED = frozenset({
    BuildStatus.QUEUED, BuildStatus.CLONING, BuildStatus.SUCCESS, BuildStatus.FAILED,
    BuildStatus.CANCELLED, BuildStatus.TIMED_OUT, BuildStatus.SUPERSEDED, BuildStatus.SKIPPED,
})
"""The transitions a commit status is set for (building and pushing stay "started")."""

_ORDER = (BuildStatus.QUEUED, BuildStatus.CLONING, BuildStatus.SUCCESS, BuildStatus.FAILED,
          BuildStatus.TIMED_OUT, BuildStatus.CANCELLED, BuildStatus.SUPERSEDED,
          BuildStatus.SKIPPED)
_STATE_WORDS = {  # in _ORDER: queued started success failed timed_out cancelled superseded skipped
    "github": "pending pending success failure failure error error success",
    "gitea": "pending pending success failure failure error error success",
    "gitlab": "pending running success failed failed canceled canceled skipped",
    "bitbucket-cloud": "INPROGRESS INPROGRESS SUCCESSFUL FAILED FAILED STOPPED STOPPED SUCCESSFUL",
    "bitbucket-server": "INPROGRESS INPROGRESS SUCCESSFUL FAILED FAILED FAILED FAILED SUCCESSFUL",
}
STATES: dict[str, dict[BuildStatus, str]] = {
    forge: dict(zip(_ORDER, words.split(), strict=True)) for forge, words in _STATE_WORDS.items()}
"""Each forge's documented state for each reported transition."""
DESCRIPTION_LIMITS = {"github": 140, "gitea": 140, "gitlab": 255, "bitbucket-cloud": 255,
                      "bitbucket-server": 255}
KEY_LIMITS = {"github": 255, "gitea": 255, "gitlab": 255, "bitbucket-cloud": 40,
              "bitbucket-server": 255}
"""Our bounds on the context/key (Bitbucket keys are identifiers: kept short and stable)."""
USER_AGENT = "Autobuild-Notifier/1"


def bounded_key(context: str, limit: int) -> str:
    """`context` when it fits, else cut with a stable hash suffix (the same for every build)."""
    if len(context) <= limit:
        return context
    digest = hashlib.sha256(context.encode()).hexdigest()[:8]
    return context[: limit - 9] + "-" + digest


def _path_part(text: str) -> str:
    return quote(text, safe="")


def _auth(target: StatusTarget) -> Auth:
    if target.forge.startswith("bitbucket") and target.username:
        return Auth("basic", target.token, target.username)
    scheme = {"gitea": "token", "gitlab": "private-token"}.get(target.forge, "bearer")
    return Auth(scheme, target.token)


def status_request(target: StatusTarget, facts: BuildFacts) -> OutgoingRequest:
    """The request that sets `facts`' transition as the commit's status on `target`'s forge."""
    forge = target.forge
    state = STATES[forge][facts.status]
    description = describe(facts, DESCRIPTION_LIMITS[forge])
    key = bounded_key(target.context, KEY_LIMITS[forge])
    owner_repo = "/".join(_path_part(part) for part in facts.repository.split("/"))
    body: dict[str, object]
    if forge in ("github", "gitea"):
        path = f"/repos/{owner_repo}/statuses/{facts.commit}"
        body = {"state": state, "target_url": facts.build_url, "description": description,
                "context": key}
        if facts.build_url is None:
            del body["target_url"]
    elif forge == "gitlab":
        path = f"/projects/{_path_part(facts.repository)}/statuses/{facts.commit}"
        body = {"state": state, "name": key, "ref": facts.short_ref, "description": description}
        if facts.build_url is not None:
            body["target_url"] = facts.build_url
    elif forge == "bitbucket-cloud":
        path = f"/2.0/repositories/{owner_repo}/commit/{facts.commit}/statuses/build"
        body = {"key": key, "state": state, "name": key, "description": description,
                "refname": facts.short_ref}
        if facts.build_url is not None:
            body["url"] = facts.build_url
    else:  # bitbucket-server: `url` is mandatory; without a public URL, link the server itself
        path = f"/rest/build-status/1.0/commits/{facts.commit}"
        body = {"state": state, "key": key, "name": key,
                "url": facts.build_url or target.api_url, "description": description}
    headers = [("Content-Type", "application/json"), ("Accept", "application/json"),
               ("User-Agent", USER_AGENT)]
    if forge == "github":
        headers[1] = ("Accept", "application/vnd.github+json")
        headers.append(("X-GitHub-Api-Version", "2022-11-28"))
    return OutgoingRequest(body=json.dumps(body).encode(), url=target.api_url + path,
                           headers=tuple(headers), auth=_auth(target))
