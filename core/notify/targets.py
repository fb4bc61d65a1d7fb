"""Where a build's news goes: a forge's commit-status API and outgoing webhooks (no I/O).

A repository's `status:` and `notify:` keys become a StatusTarget and WebhookTargets; they travel
in every BuildPlan, so the notifier never re-reads the rules file. Tokens, webhook secrets and
URLs that carry a credential are SecretRefs (core/credentials.py): only their names are stored.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from core.credentials import SecretRef
from core.notify.urls import describe_url

STATUS_FORGES = ("github", "gitlab", "gitea", "bitbucket-cloud", "bitbucket-server")
DEFAULT_API_URLS = {
    "github": "https://api.github.com",
    "gitlab": "https://gitlab.com/api/v4",
    "bitbucket-cloud": "https://api.bitbucket.org",
}
"""The API base of each hosted forge; Gitea and Bitbucket Server are self-hosted (api_url)."""
BITBUCKET_CLOUD_HOST = "api.bitbucket.org"
WEBHOOK_EVENTS = ("success", "failed", "cancelled", "timed_out")
WEBHOOK_FORMATS = ("dockerhub", "slack")
DEFAULT_EVENTS = ("success",)
DEFAULT_FORMAT = "dockerhub"
KIND_COMMIT_STATUS = "commit_status"
KIND_WEBHOOK = "webhook"
KIND_CHAT = "chat"


@dataclass(frozen=True)
class StatusTarget:
    """A forge's commit-status API: its flavour, base URL, credentials and this rule's context."""

    forge: str
    api_url: str
    token: SecretRef
    username: str | None = None
    context: str = "autobuild"

    def __post_init__(self) -> None:
        if self.forge not in STATUS_FORGES:
            raise ValueError(f"unknown commit status forge {self.forge!r}")

    def with_context(self, context: str) -> StatusTarget:
        """The same target reporting under `context` (one per rule)."""
        return replace(self, context=context)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (the token as its reference)."""
        return {"forge": self.forge, "api_url": self.api_url, "token": self.token.to_dict(),
                "username": self.username, "context": self.context}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StatusTarget:
        """The target `to_dict` produced."""
        return cls(forge=str(data["forge"]), api_url=str(data["api_url"]),
                   token=SecretRef.from_dict(data["token"]), username=data.get("username"),
                   context=str(data.get("context") or "autobuild"))


@dataclass(frozen=True)
class WebhookTarget:
    """One `notify:` entry: a URL (literal, or a reference when it carries a credential), an
    optional signing secret, the build endings it wants, and the payload format."""

    url: str | None = None
    url_ref: SecretRef | None = None
    secret: SecretRef | None = None
    events: tuple[str, ...] = DEFAULT_EVENTS
    format: str = DEFAULT_FORMAT
    insecure: bool = False

    def __post_init__(self) -> None:
        if (self.url is None) == (self.url_ref is None):
            raise ValueError("a webhook target has exactly one of url or url_ref")
        if self.format not in WEBHOOK_FORMATS:
            raise ValueError(f"unknown webhook format {self.format!r}")
        unknown = set(self.events) - set(WEBHOOK_EVENTS)
        if unknown:
            raise ValueError(f"unknown webhook events {sorted(unknown)}")

    @property
    def kind(self) -> str:
        """"chat" for Slack-compatible messages, else "webhook"."""
        return KIND_CHAT if self.format == "slack" else KIND_WEBHOOK

    def describe(self) -> str:
        """Where it goes, safe to show anywhere: the URL, or `${NAME}`."""
        return describe_url(self.url, self.url_ref)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (secrets as references)."""
        return {"url": self.url, "url_ref": self.url_ref.to_dict() if self.url_ref else None,
                "secret": self.secret.to_dict() if self.secret else None,
                "events": list(self.events), "format": self.format, "insecure": self.insecure}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WebhookTarget:
        """The target `to_dict` produced."""
        url_ref, secret = data.get("url_ref"), data.get("secret")
        return cls(url=data.get("url"), url_ref=SecretRef.from_dict(url_ref) if url_ref else None,
                   secret=SecretRef.from_dict(secret) if secret else None,
                   events=tuple(data.get("events") or DEFAULT_EVENTS),
                   format=str(data.get("format") or DEFAULT_FORMAT),
                   insecure=bool(data.get("insecure", False)))


def status_context(template: str) -> str:
    """The status context of a rule with this tag template: stable across its builds."""
    return f"autobuild/{template}"
