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
    reason = str(exc).strip() or type(exc).__name__
    return f"the connection to the Docker engine at {engine} failed: {reason}"
