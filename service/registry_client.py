"""Manifest HEADs against registries: a tag's current digest, for polling (network I/O).

`RegistryClient.head(reference, login=…)` asks the registry the Distribution API way
(`HEAD /v2/<path>/manifests/<tag>`, accepting manifest lists and OCI indexes, so the digest is
the one a pull resolves), answering token (Docker Hub's) and basic challenges with `login`
where given. Loopback registries are spoken to over plain HTTP, as the engine does; every
other over HTTPS. Redirects are never followed, every read is bounded and timed out; a 429
answer is RateLimited with its Retry-After. `ManifestClient` is the port tests fake.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol
from urllib.parse import urlencode, urlsplit

import requests

from core.credentials import DOCKER_HUB_REGISTRY
from core.image_refs import parse_image
from core.notify.retry import parse_retry_after

TIMEOUT = (5.0, 10.0)
MAX_MANIFEST_BYTES = 4 * 1024 * 1024
MAX_TOKEN_BYTES = 64 * 1024
ACCEPT = ", ".join((
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
))
_CHALLENGE = re.compile(r'(\w+)="([^"]*)"')
LOOPBACK = ("127.", "localhost", "[::1]")
INSECURE_REALM = "the registry's token service is not HTTPS; no login is sent there"


@dataclass(frozen=True)
class ManifestAnswer:
    """A digest, or why there is none: `status` (0: no answer), and Retry-After on a 429."""

    digest: str | None = None
    status: int = 200
    message: str = ""
    retry_after: float | None = None

    @property
    def rate_limited(self) -> bool:
        """Whether the registry said to slow down (429)."""
        return self.status == 429


class ManifestClient(Protocol):
    """Asks a registry for a tag's current manifest digest."""

    def head(self, reference: str, *, login: tuple[str, str] | None = None) -> ManifestAnswer:
        """The registry's answer for `reference`."""
        ...


def manifest_url(reference: str) -> str | None:
    """The manifest URL of a tag reference (Docker Hub's API host for docker.io)."""
    parsed = parse_image(reference)
    if parsed is None or parsed.pinned:
        return None
    host = "registry-1.docker.io" if parsed.host == DOCKER_HUB_REGISTRY else parsed.host
    scheme = "http" if host.startswith(LOOPBACK) else "https"
    return f"{scheme}://{host}/v2/{parsed.path}/manifests/{parsed.tag or 'latest'}"


class RegistryClient:
    """The real client, on one requests.Session."""

    def __init__(self, session: requests.Session | None = None) -> None:
        self.session = session or requests.Session()

    def head(self, reference: str, *, login: tuple[str, str] | None = None) -> ManifestAnswer:
        """HEAD the tag's manifest, logging in when the registry asks."""
        url = manifest_url(reference)
        if url is None:
            return ManifestAnswer(status=0, message=f"{reference} is not a tag reference")
        try:
            answer = self._request("HEAD", url, {})
            if answer.status_code == 401:
                auth = self._authorization(answer, login)
                if auth is None:
                    return ManifestAnswer(status=401, message=_unauthorized(login))
                if auth == INSECURE_REALM:
                    return ManifestAnswer(status=401, message=INSECURE_REALM)
                answer = self._request("HEAD", url, {"Authorization": auth})
                if answer.status_code == 401:
                    return ManifestAnswer(status=401, message=_unauthorized(login))
            return self._read(answer, url)
        except requests.RequestException as exc:
            return ManifestAnswer(status=0, message=f"no answer from the registry: "
                                  f"{type(exc).__name__}")

    def _request(self, method: str, url: str, headers: dict[str, str]) -> requests.Response:
        return self.session.request(method, url, headers={"Accept": ACCEPT, **headers},
                                    timeout=TIMEOUT, allow_redirects=False)

    def _read(self, answer: requests.Response, url: str) -> ManifestAnswer:
        if answer.status_code == 429:
            wait = parse_retry_after(answer.headers.get("Retry-After"), now=datetime.now(UTC))
            return ManifestAnswer(status=429, retry_after=wait,
                                  message="the registry's rate limit (429 Too Many Requests)")
        if answer.status_code != 200:
            return ManifestAnswer(status=answer.status_code,
                                  message=f"HTTP {answer.status_code} for {url}")
        digest = answer.headers.get("Docker-Content-Digest")
        if digest:
            return ManifestAnswer(digest=digest.strip())
        return self._digest_of_body(url, answer.request.headers.get("Authorization"))

    def _digest_of_body(self, url: str, auth: str | None) -> ManifestAnswer:
        """Some registries send no Docker-Content-Digest on HEAD: hash the manifest itself."""
        response = self.session.get(url, headers={"Accept": ACCEPT, **(
            {"Authorization": auth} if auth else {})}, timeout=TIMEOUT, allow_redirects=False,
            stream=True)
        try:
            if response.status_code != 200:
                return ManifestAnswer(status=response.status_code,
                                      message=f"HTTP {response.status_code} for {url}")
            body = response.raw.read(MAX_MANIFEST_BYTES + 1)
        finally:
            response.close()
        if len(body) > MAX_MANIFEST_BYTES:
            return ManifestAnswer(status=0, message="the manifest is larger than 4 MiB")
        return ManifestAnswer(digest="sha256:" + hashlib.sha256(body).hexdigest())

    def _authorization(self, answer: requests.Response, login: tuple[str, str] | None
                       ) -> str | None:
        """The Authorization header the registry's challenge asks for, None when there is
        none to give, or INSECURE_REALM."""
        challenge = answer.headers.get("WWW-Authenticate", "")
        scheme, _, rest = challenge.partition(" ")
        if scheme.lower() == "basic":
            return _basic(login) if login else None
        if scheme.lower() != "bearer":
            return None
        fields = dict(_CHALLENGE.findall(rest))
        realm = fields.pop("realm", "")
        target = urlsplit(realm)
        if target.scheme != "https" and not (target.scheme == "http" and
                                             target.netloc.startswith(LOOPBACK)):
            return INSECURE_REALM  # a token realm over plain HTTP would expose the login
        query = urlencode({k: v for k, v in fields.items() if k in ("service", "scope")})
        response = self.session.get(f"{realm}?{query}", auth=login, timeout=TIMEOUT,
                                    allow_redirects=False, stream=True)
        try:
            body = (response.raw.read(MAX_TOKEN_BYTES + 1, decode_content=True)
                    if response.status_code == 200 else b"")
        finally:
            response.close()
        try:
            data = json.loads(body) if 0 < len(body) <= MAX_TOKEN_BYTES else {}
        except ValueError:
            data = {}
        token = (data.get("token") or data.get("access_token")) if isinstance(data, dict) else None
        return f"Bearer {token}" if isinstance(token, str) and token else None


def _basic(login: tuple[str, str]) -> str:
    encoded = base64.b64encode(f"{login[0]}:{login[1]}".encode()).decode("ascii")
    return f"Basic {encoded}"


def _unauthorized(login: tuple[str, str] | None) -> str:
    if login is None:
        return "the registry asks for a login (401): set pull_auth for it"
    return "the registry refused the pull_auth login (401)"
