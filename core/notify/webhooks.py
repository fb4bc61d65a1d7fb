"""Outgoing webhook payloads: Docker Hub's shape and a Slack-compatible message (no I/O).

`dockerhub` is Docker Hub's documented payload (docs.docker.com/docker-hub/webhooks, "Example
webhook payload": callback_url, push_data, repository), so an existing Docker Hub receiver works
unchanged, plus our own `autobuild` object. `slack` is an incoming-webhook message: `text`
(which Mattermost and Rocket.Chat show) and Block Kit `blocks` (which Slack shows).

Every request carries `X-Autobuild-Event`, `X-Autobuild-Delivery` and, when the target has a
secret, `X-Autobuild-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>` (GitHub's shape).
"""

from __future__ import annotations

import json
from typing import Any

from core.notify.facts import BuildFacts, describe, shorten
from core.notify.request import OutgoingRequest
from core.notify.targets import WebhookTarget
from core.signatures import sign_github

SIGNATURE_HEADER = "X-Autobuild-Signature-256"
DELIVERY_HEADER = "X-Autobuild-Delivery"
EVENT_HEADER = "X-Autobuild-Event"
USER_AGENT = "Autobuild-Hookshot/1"
PUSHER = "autobuild"


def sign(body: bytes, secret: str) -> str:
    """The X-Autobuild-Signature-256 value for `body`: sha256=<hex HMAC-SHA256>."""
    return sign_github(body, secret)


def _split_image(image: str) -> tuple[str, str]:
    """(namespace, name) of an image repository, without its registry host."""
    first, _, rest = image.partition("/")
    path = rest if rest and ("." in first or ":" in first or first == "localhost") else image
    namespace, _, name = path.rpartition("/")
    return namespace, name


def dockerhub_payload(facts: BuildFacts, event: str) -> dict[str, Any]:
    """Docker Hub's webhook payload for this build, plus `autobuild` with everything else."""
    namespace, name = _split_image(facts.image)
    tag = facts.tag_names[0] if facts.tag_names else ""
    return {
        "callback_url": facts.build_url or "",
        "push_data": {
            "pushed_at": int(facts.at.timestamp()),
            "pusher": facts.pusher or PUSHER,
            "tag": tag,
            "images": [facts.digest] if facts.digest else [],
        },
        "repository": {
            "comment_count": 0,
            "date_created": int(facts.created_at.timestamp()),
            "description": "",
            "dockerfile": "",
            "full_description": f"Built by Autobuild from {facts.repository}",
            "is_official": False,
            "is_private": False,
            "is_trusted": True,
            "name": name,
            "namespace": namespace,
            "owner": namespace,
            "repo_name": f"{namespace}/{name}" if namespace else name,
            "repo_url": facts.build_url or "",
            "star_count": 0,
            "status": "Active",
        },
        "autobuild": {
            "event": event,
            "build_id": facts.build_id,
            "status": facts.status.value,
            "description": describe(facts, 255),
            "repository": facts.repository,
            "provider": facts.provider,
            "ref": facts.ref,
            "commit": facts.commit,
            "image": facts.image,
            "tags": [{"reference": reference, "tag": reference.rpartition(":")[2],
                      "digest": facts.digest} for reference in facts.tags],
            "error": facts.error,
            "build_url": facts.build_url,
        },
    }


def slack_payload(facts: BuildFacts, event: str) -> dict[str, Any]:
    """A Slack-compatible incoming-webhook message: one `text` line and a few blocks."""
    what = describe(facts, 140)
    link = f" <{facts.build_url}|build {facts.build_id}>" if facts.build_url else ""
    text = (f"{facts.repository} {facts.short_ref}@{facts.commit[:7]}: "
            f"{facts.status.value.replace('_', ' ')} ({what}){link}")
    tags = ", ".join(f"`{tag}`" for tag in facts.tag_names) or "none"
    fields = [("Repository", facts.repository), ("Ref", f"`{facts.short_ref}`"),
              ("Commit", f"`{facts.commit[:7]}`"), ("Status", facts.status.value),
              ("Tags", shorten(tags, 1000))]
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": shorten(text, 3000)}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f"*{label}*\n{value}"}
                                        for label, value in fields]},
    ]
    if facts.build_url:
        blocks.append({"type": "context", "elements": [
            {"type": "mrkdwn", "text": f"<{facts.build_url}|Open build {facts.build_id}>"}]})
    return {"text": text, "blocks": blocks}


def webhook_request(target: WebhookTarget, facts: BuildFacts, *, event: str,
                    delivery_id: str) -> OutgoingRequest:
    """The POST of `facts` to one `notify:` target, in its format."""
    payload = slack_payload(facts, event) if target.format == "slack" else dockerhub_payload(
        facts, event)
    headers = (("Content-Type", "application/json"), ("User-Agent", USER_AGENT),
               (EVENT_HEADER, event), (DELIVERY_HEADER, delivery_id))
    return OutgoingRequest(body=json.dumps(payload).encode(), url=target.url,
                           url_ref=target.url_ref, headers=headers,
                           signing_secret=target.secret, insecure=target.insecure)
