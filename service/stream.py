"""A build's log and status as Server-Sent Events: GET /builds/<id>/events.

Events (data is JSON):
- `log` with `id: <seq>`: {"text": "..."}, one per stored log chunk, in order. A reconnecting
  EventSource sends Last-Event-ID, so the stream resumes after the last chunk it got; the
  build page passes `?after=<seq>` for the chunks it already rendered.
- `status`: {"status", "phase", "digest", "error", "duration_seconds", "phases"} whenever the
  status changes (and once at the start).
- `end`: {"status"} once the build is terminal; the stream then closes (the page reloads its
  content to show the whole log with the failing step highlighted).

The stream polls the database every STREAM_POLL_SECONDS (0.5 s) for new chunks; it never reads
Redis. Under gunicorn's gthread workers each open stream holds a thread, so a stream lasts at
most STREAM_MAX_SECONDS (600 s) and then closes without `end`: EventSource reconnects on its
own (after `retry:` ms) and resumes from Last-Event-ID. A comment line every 10 s keeps proxies
from timing out and lets the server notice a client that went away.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, abort, current_app, request

from records.builds import BuildRecord, BuildStore
from service.auth import check_read_access
from service.extensions import store
from service.presentation import phase_of
from service.request_args import whole_number

bp = Blueprint("stream", __name__)
POLL_SECONDS = 0.5
MAX_SECONDS = 600.0
KEEPALIVE_SECONDS = 10.0
RETRY_MS = 1500


def _event(name: str, data: dict[str, Any], event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {name}\ndata: {json.dumps(data)}\n\n"


def _status_data(build: BuildRecord) -> dict[str, Any]:
    return {"status": build.status.value, "phase": phase_of(build), "digest": build.digest,
            "error": build.error, "duration_seconds": build.duration_seconds,
            "phases": build.phase_times()}


def _after_seq() -> int:
    for raw in (request.headers.get("Last-Event-ID", ""), request.args.get("after", "")):
        raw = raw.strip()
        number = whole_number(raw)
        if number is not None:
            return number
    return 0


def events(builds: BuildStore, build_id: str, *, after: int, poll: float,
           max_seconds: float, keepalive: float = KEEPALIVE_SECONDS) -> Iterator[str]:
    """The event stream of one build (a plain generator: it needs no request context)."""
    started = last_sent = time.monotonic()
    last_status: str | None = None
    yield f"retry: {RETRY_MS}\n\n"
    while True:
        build = builds.get_build(build_id)
        if build is None:
            yield _event("end", {"status": "gone"})
            return
        for seq, text in builds.log_chunks(build_id, after_seq=after):
            after = seq
            last_sent = time.monotonic()
            yield _event("log", {"text": text}, seq)
        if build.status.value != last_status:
            last_status = build.status.value
            last_sent = time.monotonic()
            yield _event("status", _status_data(build))
        if build.status.is_terminal():
            time.sleep(poll)  # a cancel writes its last log line just after the status
            for seq, text in builds.log_chunks(build_id, after_seq=after):
                yield _event("log", {"text": text}, seq)
            yield _event("end", {"status": build.status.value})
            return
        if time.monotonic() - started >= max_seconds:
            yield ": stream time limit reached; reconnect\n\n"
            return
        if time.monotonic() - last_sent >= keepalive:
            last_sent = time.monotonic()
            yield ": keepalive\n\n"
        time.sleep(poll)


def _released(slots: threading.BoundedSemaphore, stream: Iterator[str]) -> Iterator[str]:
    """`stream`, giving its slot back however it ends (the build ended, the time limit, or
    the client went away and the server closed the response)."""
    try:
        yield from stream
    finally:
        slots.release()


@bp.get("/builds/<build_id>/events")
def build_events(build_id: str) -> Response | tuple[Response, int]:
    """Stream a build's log chunks and status changes until it ends (text/event-stream).

    Each open stream holds a web thread, so a process serves at most STREAMS_PER_PROCESS of
    them; past that it answers 503 with Retry-After (the page then reloads itself instead),
    and the threads left keep answering webhooks and pages.
    """
    check_read_access()
    builds = store()
    if builds.get_build(build_id) is None:
        abort(404)
    slots: threading.BoundedSemaphore = current_app.extensions["stream_slots"]
    if not slots.acquire(blocking=False):
        busy = Response("every live-log slot of this web process is in use; the page reloads "
                        "instead\n", mimetype="text/plain")
        busy.headers["Retry-After"] = "10"
        return busy, 503
    stream = events(
        builds, build_id, after=_after_seq(),
        poll=float(current_app.config.get("STREAM_POLL_SECONDS", POLL_SECONDS)),
        max_seconds=float(current_app.config.get("STREAM_MAX_SECONDS", MAX_SECONDS)),
    )
    response = Response(_released(slots, stream), mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"
    return response
