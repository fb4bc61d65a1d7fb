"""Sending one stored request: secrets resolved from this process's environment, the body
signed, the answer kept with every secret masked (environment/file and network I/O).

    resolve url (a `${VAR}` URL is a secret) → check its scheme → Authorization or PRIVATE-TOKEN
    from the token reference → X-Autobuild-Signature-256 over the exact body → POST
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from core.credentials import SecretRef, resolve_secret
from core.errors import SecretUnavailableError
from core.notify.request import OutgoingRequest
from core.notify.urls import scheme_problem
from core.notify.webhooks import SIGNATURE_HEADER, sign
from notify.http import HttpClient, HttpFailure

MASK = "***"


@dataclass(frozen=True)
class Attempt:
    """What one try got: the status (None: no answer), Retry-After, a line saying what
    happened, and whether trying again cannot help."""

    status: int | None
    answer: str
    retry_after: str | None = None
    final: bool = False
    error: str | None = None


def _read(path: str) -> str:
    return Path(path).read_text(encoding="utf-8")


def _auth_headers(request: OutgoingRequest, resolve: ResolveFn) -> dict[str, str]:
    auth = request.auth
    if auth is None:
        return {}
    token = resolve(auth.token, f"{auth.scheme} token")
    if auth.scheme == "basic":
        pair = f"{auth.username}:{token}".encode()
        return {"Authorization": "Basic " + base64.b64encode(pair).decode("ascii")}
    if auth.scheme == "private-token":
        return {"PRIVATE-TOKEN": token}
    word = "token" if auth.scheme == "token" else "Bearer"
    return {"Authorization": f"{word} {token}"}


class ResolveFn:
    """Resolves secret references and remembers every value, to mask them in answers."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ
        self.values: list[str] = []

    def __call__(self, ref: SecretRef, what: str) -> str:
        value = resolve_secret(ref, environ=self.environ, read_file=_read, what=what)
        self.values.append(value)
        return value

    def mask(self, text: str) -> str:
        """`text` with every resolved secret replaced by ***."""
        for value in sorted(self.values, key=len, reverse=True):
            text = text.replace(value, MASK)
        return text


def send(request: OutgoingRequest, *, client: HttpClient,
         environ: Mapping[str, str]) -> Attempt:
    """Send `request` once and say what happened (never raises for a receiver's doing)."""
    resolve = ResolveFn(environ)
    try:
        url = request.url if request.url_ref is None else resolve(request.url_ref, "webhook url")
        assert url is not None
        headers = dict(request.headers) | _auth_headers(request, resolve)
        if request.signing_secret is not None:
            headers[SIGNATURE_HEADER] = sign(request.body, resolve(request.signing_secret,
                                                                   "webhook secret"))
    except SecretUnavailableError as exc:
        return Attempt(None, f"not sent: {exc}", error=str(exc))
    problem = scheme_problem(url, insecure=request.insecure)
    if problem is not None:
        return Attempt(None, f"not sent: {request.describe()} {problem}", final=True)
    try:
        answer = client.post(url, headers=headers, body=request.body)
    except HttpFailure as exc:
        message = resolve.mask(str(exc))
        return Attempt(None, message, error=message)
    excerpt = resolve.mask(" ".join(answer.excerpt.split()))
    line = f"HTTP {answer.status} {answer.reason}".rstrip() + (f": {excerpt}" if excerpt else "")
    return Attempt(answer.status, line, retry_after=answer.retry_after)
