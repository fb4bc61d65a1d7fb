"""A real git smart-HTTP server for tests: `git http-backend` behind HTTP Basic auth."""

from __future__ import annotations

import base64
import subprocess
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from werkzeug.serving import make_server


class GitHTTPServer:
    """Serves every repository under `root`; only `username:token` may read, or anyone when
    `public` (it then only records what each request sent)."""

    def __init__(self, root: Path, username: str, token: str, *, public: bool = False) -> None:
        self.root = root
        self.public = public
        self.expected = "Basic " + base64.b64encode(f"{username}:{token}".encode()).decode()
        self.seen_authorization: list[str] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        authorization = environ.get("HTTP_AUTHORIZATION", "")
        self.seen_authorization.append(authorization)
        if authorization != self.expected and not self.public:
            start_response("401 Unauthorized", [("WWW-Authenticate", 'Basic realm="git"')])
            return [b"authentication required\n"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        cgi_env = {
            "GIT_PROJECT_ROOT": str(self.root), "GIT_HTTP_EXPORT_ALL": "1",
            "PATH_INFO": environ.get("PATH_INFO", ""),
            "QUERY_STRING": environ.get("QUERY_STRING", ""),
            "REQUEST_METHOD": environ["REQUEST_METHOD"],
            "CONTENT_TYPE": environ.get("CONTENT_TYPE", ""),
            "CONTENT_LENGTH": str(len(body)), "REMOTE_USER": "reader", "PATH": "/usr/bin:/bin",
        }
        if environ.get("HTTP_GIT_PROTOCOL"):
            cgi_env["GIT_PROTOCOL"] = environ["HTTP_GIT_PROTOCOL"]
        out = subprocess.run(["git", "http-backend"], input=body, env=cgi_env,
                             capture_output=True, check=False).stdout
        head, _, payload = out.partition(b"\r\n\r\n")
        status, headers = "200 OK", []
        for line in head.decode().split("\r\n"):
            name, _, value = line.partition(": ")
            if name.lower() == "status":
                status = value
            elif name:
                headers.append((name, value))
        start_response(status, headers)
        return [payload]


@contextmanager
def serve(app: GitHTTPServer) -> Iterator[str]:
    """Run the server on a free loopback port; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
