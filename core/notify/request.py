"""One HTTP request the notifier will send, as a stored value without secret values (no I/O).

The body is the exact bytes to send (signatures are computed over them when sending). Headers
hold nothing secret; `auth` and `signing_secret` name the secrets the sender resolves from its
own environment, and `url_ref` names a URL that is itself a credential.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.credentials import SecretRef
from core.notify.urls import describe_url

AUTH_SCHEMES = ("bearer", "token", "private-token", "basic")
"""Authorization: Bearer T · Authorization: token T (Gitea) · PRIVATE-TOKEN: T (GitLab) ·
Authorization: Basic base64(username:T) (Bitbucket app passwords)."""


@dataclass(frozen=True)
class Auth:
    """How the request authenticates: a scheme and the token's reference."""

    scheme: str
    token: SecretRef
    username: str | None = None

    def __post_init__(self) -> None:
        if self.scheme not in AUTH_SCHEMES:
            raise ValueError(f"unknown auth scheme {self.scheme!r}")
        if self.scheme == "basic" and not self.username:
            raise ValueError("basic auth needs a username")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (the token as its reference)."""
        return {"scheme": self.scheme, "token": self.token.to_dict(), "username": self.username}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Auth:
        """The auth `to_dict` produced."""
        return cls(str(data["scheme"]), SecretRef.from_dict(data["token"]), data.get("username"))


@dataclass(frozen=True)
class OutgoingRequest:
    """A POST of a JSON body to a URL, with the secrets it needs named, never included."""

    body: bytes
    url: str | None = None
    url_ref: SecretRef | None = None
    headers: tuple[tuple[str, str], ...] = ()
    auth: Auth | None = None
    signing_secret: SecretRef | None = None
    insecure: bool = False

    def __post_init__(self) -> None:
        if (self.url is None) == (self.url_ref is None):
            raise ValueError("a request has exactly one of url or url_ref")

    def describe(self) -> str:
        """Where it goes, safe to show anywhere: the URL, or `${NAME}`."""
        return describe_url(self.url, self.url_ref)

    def to_dict(self) -> dict[str, Any]:
        """Everything but the body, JSON-ready (the body is stored as text beside it)."""
        return {
            "url": self.url,
            "url_ref": self.url_ref.to_dict() if self.url_ref else None,
            "headers": [list(pair) for pair in self.headers],
            "auth": self.auth.to_dict() if self.auth else None,
            "signing_secret": self.signing_secret.to_dict() if self.signing_secret else None,
            "insecure": self.insecure,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], body: bytes) -> OutgoingRequest:
        """The request `to_dict` produced, with its body."""
        url_ref, auth, signing = data.get("url_ref"), data.get("auth"), data.get("signing_secret")
        return cls(
            body=body, url=data.get("url"),
            url_ref=SecretRef.from_dict(url_ref) if url_ref else None,
            headers=tuple((str(k), str(v)) for k, v in data.get("headers") or ()),
            auth=Auth.from_dict(auth) if auth else None,
            signing_secret=SecretRef.from_dict(signing) if signing else None,
            insecure=bool(data.get("insecure", False)),
        )
