"""The notifier's HTTP port and its `requests` adapter (network I/O).

Everything a receiver controls is bounded: connect and read timeouts, a total deadline, the
bytes of the answer read (the rest is dropped unread), and redirects, which are never followed
(a 3xx is a final answer: following it could carry a token to another host).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import requests

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 10.0
TOTAL_DEADLINE = 20.0
MAX_ANSWER_BYTES = 4096


@dataclass(frozen=True)
class HttpAnswer:
    """A receiver's answer: status, the Retry-After header, and the start of the body."""

    status: int
    reason: str = ""
    retry_after: str | None = None
    excerpt: str = ""


class HttpFailure(Exception):
    """No answer: a timeout, a refused or dropped connection; the message says which."""


class HttpClient(Protocol):
    """POSTs one body and returns the answer; raises HttpFailure when there is none."""

    def post(self, url: str, *, headers: Mapping[str, str], body: bytes) -> HttpAnswer:
        """Send `body` to `url`."""
        ...


class RequestsClient:
    """The real client: one requests.Session, bounded as the module docstring says."""

    def __init__(self, session: requests.Session | None = None) -> None:
        self.session = session or requests.Session()

    def post(self, url: str, *, headers: Mapping[str, str], body: bytes) -> HttpAnswer:
        """POST without following redirects; read at most MAX_ANSWER_BYTES of the answer."""
        started = time.monotonic()
        try:
            response = self.session.post(url, data=body, headers=dict(headers), stream=True,
                                         allow_redirects=False,
                                         timeout=(CONNECT_TIMEOUT, READ_TIMEOUT))
            try:
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_content(1024):
                    chunks.append(chunk)
                    size += len(chunk)
                    if size >= MAX_ANSWER_BYTES or time.monotonic() - started > TOTAL_DEADLINE:
                        break
                excerpt = b"".join(chunks)[:MAX_ANSWER_BYTES].decode("utf-8", "replace")
                return HttpAnswer(response.status_code, response.reason or "",
                                  response.headers.get("Retry-After"), excerpt)
            finally:
                response.close()
        except requests.Timeout:
            raise HttpFailure("timed out waiting for the receiver") from None
        except requests.ConnectionError as exc:
            raise HttpFailure(f"connection failed: {_short(exc)}") from None
        except requests.RequestException as exc:
            raise HttpFailure(f"request failed: {_short(exc)}") from None


def _short(exc: Exception) -> str:
    """The innermost reason of a requests error, on one line (no URL with its query)."""
    reason: BaseException = exc
    while reason.__context__ is not None and reason.__context__ is not reason:
        reason = reason.__context__
    text = " ".join(str(reason).split()) or type(reason).__name__
    return text[:300]
