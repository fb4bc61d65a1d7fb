"""Probes: /healthz (the process is up) and /readyz (database, Redis, Docker engine reachable)."""

from __future__ import annotations

import socket
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, jsonify
from sqlalchemy import text

from service.extensions import store

bp = Blueprint("health", __name__)
CHECK_TIMEOUT = 2.0
OK = "ok"
NOT_USED = "not used"


def docker_address(docker_host: str) -> str:
    """The engine's UNIX socket path, or its tcp:// URL, from a DOCKER_HOST value."""
    if docker_host.startswith("unix://"):
        return docker_host[len("unix://"):]
    return docker_host


def docker_ping(address: str, *, timeout: float = CHECK_TIMEOUT) -> str:
    """"ok" when the engine at `address` answers GET /_ping with 200 OK; else why not."""
    if "://" in address and not address.startswith("tcp://"):
        return f"unreachable: cannot check {address} (only unix sockets and tcp:// are checked)"
    try:
        if address.startswith("tcp://"):
            parts = urlsplit(address)
            sock = socket.create_connection((parts.hostname or "localhost", parts.port or 2375),
                                            timeout=timeout)
        else:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(timeout)
            try:
                sock.connect(address)
            except BaseException:
                sock.close()
                raise
        with sock:
            sock.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            answer = _read_all(sock, limit=65536)
    except OSError as exc:
        return f"unreachable: {exc}"
    head, _, body = answer.partition(b"\r\n\r\n")
    status = head.split(b"\r\n", 1)[0].decode("latin-1", "replace")
    if " 200 " not in status + " " or body.strip() != b"OK":
        return f"unhealthy: GET /_ping answered {status!r}"
    return OK


def _read_all(sock: socket.socket, *, limit: int) -> bytes:
    data = b""
    while len(data) < limit:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def _database() -> str:
    with store().engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return OK


def _redis() -> str:
    client = current_app.extensions.get("redis")
    if client is None:
        return NOT_USED
    client.ping()
    return OK


def _run_checks(checks: dict[str, Callable[[], str]]) -> dict[str, str]:
    """Run the checks in parallel, each bounded by CHECK_TIMEOUT; a failure says why."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def in_app(check: Callable[[], str]) -> str:
        with app.app_context():
            return check()

    pool = ThreadPoolExecutor(max_workers=len(checks), thread_name_prefix="readyz")
    try:
        futures = {name: pool.submit(in_app, check) for name, check in checks.items()}
        results: dict[str, str] = {}
        for name, future in futures.items():
            try:
                results[name] = future.result(timeout=CHECK_TIMEOUT)
            except FutureTimeout:
                results[name] = f"unreachable: no answer within {CHECK_TIMEOUT:g} s"
            except Exception as exc:  # noqa: BLE001 - the probe reports any failure
                results[name] = f"unreachable: {exc}"
        return results
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


@bp.get("/healthz")
def healthz() -> Response:
    """Liveness: 200 while the process can answer."""
    return jsonify(status=OK)


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    """Readiness: 200 when database, Redis and Docker answer; 503 naming those that do not."""
    address = docker_address(str(current_app.config["DOCKER_HOST"]))
    results = _run_checks({
        "database": _database,
        "redis": _redis,
        "docker": lambda: docker_ping(address),
    })
    ready = all(value in (OK, NOT_USED) for value in results.values())
    response = jsonify(results)
    response.headers["Cache-Control"] = "no-store"
    return response, 200 if ready else 503
