"""A local HTTP server that plays each forge's commit-status API and webhook receivers.

It answers as each forge's API documentation shows (GitHub, GitLab, Gitea and Bitbucket
Cloud: 201 with the status object; Bitbucket Server's build-status 1.0: 204 No Content) and
records every request exactly as it arrived: method, raw path, headers and raw body. A path can
be scripted to fail first (a status code with headers, or a dropped connection).
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

DROP = "drop"


@dataclass(frozen=True)
class Seen:
    """One request as it arrived."""

    method: str
    path: str  # raw, percent-encoding kept
    headers: dict[str, str]  # names in lower case
    body: bytes
    at: float

    def json(self) -> Any:
        return json.loads(self.body)

    def header(self, name: str) -> str | None:
        """A header's value, whatever the case of its name."""
        return self.headers.get(name.lower())


@dataclass
class FakeForge:
    """Every request to the server, and scripted first answers per path prefix."""

    server: HTTPServer
    seen: list[Seen] = field(default_factory=list)
    script: dict[str, list[Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def install(self) -> None:
        self.server.expect_request(re.compile(".*")).respond_with_handler(self.answer)

    def url(self, path: str) -> str:
        return self.server.url_for(path)

    def under(self, prefix: str) -> list[Seen]:
        with self.lock:
            return [s for s in self.seen if s.path.startswith(prefix)]

    def answer(self, request: Request) -> Response:
        raw = request.environ.get("RAW_URI") or request.full_path
        with self.lock:
            self.seen.append(Seen(request.method, raw,
                                  {k.lower(): v for k, v in request.headers.items()},
                                  request.get_data(), time.monotonic()))
            prefix = next((p for p in self.script if raw.startswith(p)), None)
            scripted = self.script[prefix].pop(0) if prefix and self.script[prefix] else None
        if scripted == DROP:
            request.environ["werkzeug.socket"].shutdown(socket.SHUT_RDWR)
            return Response("")
        if scripted is not None:
            status, headers = scripted
            return Response("scripted failure", status=status, headers=headers)
        return documented_answer(raw, request.get_data())


def documented_answer(path: str, body: bytes) -> Response:
    """What the forge's documentation shows its status API answering."""
    if "/rest/build-status/1.0/commits/" in path:
        return Response(status=204)
    sent = json.loads(body) if body else {}
    if "/statuses/build" in path:  # Bitbucket Cloud: the commitstatus object
        answer = {"type": "commitstatus", "key": sent.get("key"), "state": sent.get("state"),
                  "url": sent.get("url"), "uuid": "{3b2c5f7e-0000-4000-8000-000000000000}"}
    elif "/projects/" in path:  # GitLab: the commit status object
        answer = {"id": 93, "sha": path.rsplit("/", 1)[1], "status": sent.get("state"),
                  "name": sent.get("name"), "ref": sent.get("ref")}
    elif "/statuses/" in path:  # GitHub and Gitea: the status object
        answer = {"id": 1, "state": sent.get("state"), "context": sent.get("context"),
                  "description": sent.get("description"), "target_url": sent.get("target_url")}
    else:  # a webhook receiver
        return Response("ok", status=200)
    return Response(json.dumps(answer), status=201, content_type="application/json")
