"""Webhook authentication: HMAC-SHA256 signatures and GitLab's token (no I/O).

Every check runs over the raw request body, compares bytes with hmac.compare_digest, accepts any
of several secrets (rotation: oldest to newest) and fails closed: no secret configured, a missing
header, or a header that is not exactly what the forge sends all raise SignatureError, whose
message never contains a secret.

    github     X-Hub-Signature-256: sha256=<hex>   (the SHA-1 X-Hub-Signature is never used)
    gitea      X-Gitea-Signature: <hex>            (else X-Hub-Signature-256: sha256=<hex>)
    bitbucket  X-Hub-Signature: sha256=<hex>       (Cloud and Server/Data Center)
    gitlab     X-Gitlab-Token: <the secret itself>
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence

from core.errors import SignatureError
from core.forges.common import header, header_or_none

_HEX_RE = re.compile(r"[0-9a-fA-F]{64}", re.ASCII)
_PREFIX = "sha256="

# forge -> ((header name, required prefix), ...) in order of preference
_SCHEMES: dict[str, tuple[tuple[str, str], ...]] = {
    "github": (("X-Hub-Signature-256", _PREFIX),),
    "gitea": (("X-Gitea-Signature", ""), ("X-Hub-Signature-256", _PREFIX)),
    "bitbucket": (("X-Hub-Signature", _PREFIX),),
}
GITLAB_TOKEN_HEADER = "X-Gitlab-Token"


def verify_signature(
    forge: str, body: bytes, *, headers: Mapping[str, str], secrets: Sequence[str]
) -> None:
    """Return if `body` is authenticated by one of `secrets`; raise SignatureError otherwise."""
    if isinstance(secrets, str):
        raise TypeError("secrets must be a sequence of strings, not a string")
    keys = [secret.encode("utf-8") for secret in secrets if secret]
    if not keys:
        raise SignatureError("no webhook secret is configured")
    if forge == "gitlab":
        _verify_token(headers, keys)
        return
    schemes = _SCHEMES.get(forge)
    if schemes is None:
        raise SignatureError(f"no signature scheme for forge {forge!r}")
    digest = _sent_digest(headers, schemes)
    results = [hmac.compare_digest(_hmac_hex(key, body), digest) for key in keys]
    if not any(results):
        raise SignatureError("signature does not match")


def sign_github(body: bytes, secret: str) -> str:
    """The X-Hub-Signature-256 value GitHub sends for `body`."""
    return _PREFIX + _hmac_hex(secret.encode("utf-8"), body).decode("ascii")


def sign_gitea(body: bytes, secret: str) -> str:
    """The X-Gitea-Signature value (bare hex) Gitea sends for `body`."""
    return _hmac_hex(secret.encode("utf-8"), body).decode("ascii")


def sign_bitbucket(body: bytes, secret: str) -> str:
    """The X-Hub-Signature value Bitbucket Cloud and Server send for `body`."""
    return _PREFIX + _hmac_hex(secret.encode("utf-8"), body).decode("ascii")


def _hmac_hex(key: bytes, body: bytes) -> bytes:
    """Lower-case hex HMAC-SHA256 of `body`, as ASCII bytes."""
    return hmac.new(key, body, hashlib.sha256).hexdigest().encode("ascii")


def _sent_digest(headers: Mapping[str, str], schemes: tuple[tuple[str, str], ...]) -> bytes:
    """The digest in the first signature header present, or SignatureError."""
    for name, prefix in schemes:
        value = header_or_none(headers, name)
        if value is not None:
            return _hex_digest(value, prefix)
    raise SignatureError(f"missing {schemes[0][0]} header")


def _hex_digest(value: str, prefix: str) -> bytes:
    """The hex digest in a header value, lower-cased, or SignatureError if it is malformed."""
    if not value.startswith(prefix):
        raise SignatureError("malformed signature header")
    digest = value[len(prefix) :]
    if not _HEX_RE.fullmatch(digest):
        raise SignatureError("malformed signature header")
    return digest.lower().encode("ascii")


def _header_bytes(value: str) -> bytes:
    """The bytes a header value was sent as: WSGI servers decode header bytes as latin-1
    (PEP 3333), so a UTF-8 token arrives as one character per byte."""
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:  # not from a WSGI server: already decoded text
        return value.encode("utf-8", "backslashreplace")


def _verify_token(headers: Mapping[str, str], keys: list[bytes]) -> None:
    """GitLab sends the secret itself; compare it in constant time with each secret."""
    token = header(headers, GITLAB_TOKEN_HEADER)
    if not token:
        raise SignatureError(f"missing {GITLAB_TOKEN_HEADER} header")
    sent = _header_bytes(token)
    if not any([hmac.compare_digest(sent, key) for key in keys]):
        raise SignatureError("token does not match")
