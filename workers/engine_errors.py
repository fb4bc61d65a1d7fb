"""What to say when the connection to the Docker engine fails under docker-py (no I/O).

docker-py raises urllib3's and requests' own exceptions, not APIError, when the engine stops
answering in the middle of a stream (a push to a registry that hangs, an engine that stops).
They are described here in words that name the engine, and that the push retry
(workers/publish.py) recognises as transient: "timed out", "connection".
"""

from __future__ import annotations

import requests.exceptions
import urllib3.exceptions

CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    requests.exceptions.RequestException, urllib3.exceptions.HTTPError, ConnectionError)
"""What docker-py raises when the engine's socket times out, refuses or breaks."""


def describe_connection_error(exc: BaseException, *, engine: str, timeout: int) -> str:
    """One sentence for a CONNECTION_ERRORS exception, naming the engine."""
    if isinstance(exc, (requests.exceptions.Timeout, urllib3.exceptions.TimeoutError)):
        return (f"the Docker engine at {engine} sent nothing for {timeout} s (read timed out; "
                "AUTOBUILD_ENGINE_TIMEOUT)")
    return f"the connection to the Docker engine at {engine} failed: {_reason(exc)}"


def _reason(exc: BaseException) -> str:
    """The operating system's words when an OSError lies underneath (requests wraps it twice:
    'Connection aborted.', FileNotFoundError(2, ...)), else the exception's own message."""
    seen: list[BaseException] = [exc]
    while seen:
        current = seen.pop(0)
        if isinstance(current, OSError) and current.strerror:
            return current.strerror
        seen.extend(arg for arg in current.args if isinstance(arg, BaseException))
        seen.extend(e for e in (current.__cause__, current.__context__) if e is not None)
        if len(seen) > 20:
            break
    return str(exc).strip() or type(exc).__name__
