"""When the database cannot answer (SQLite busy past its timeout, PostgreSQL restarting):
503 with Retry-After, never a 500, so forges redeliver and browsers try again.

Nothing is half-recorded: a delivery and its builds are one transaction, so a delivery that
got a 503 was not recorded and is processed in full when the forge sends it again.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from sqlalchemy.exc import InterfaceError, OperationalError

logger = logging.getLogger(__name__)
RETRY_AFTER = "5"


def database_unavailable(error: Exception) -> tuple[Response | str, int, dict[str, str]]:
    """The answer while the database is unavailable."""
    logger.warning("database unavailable for %s %s: %s", request.method, request.path,
                   str(error).splitlines()[0][:200])
    headers = {"Retry-After": RETRY_AFTER}
    message = "the database is unavailable right now; try again shortly"
    if request.path.startswith(("/hooks/", "/api/")) or request.accept_mimetypes.best == (
            "application/json"):
        return jsonify(error=message), 503, headers
    return render_template("error.html", title="Try again shortly",
                           message=message[0].upper() + message[1:] + "."), 503, headers


def init_app(app: Flask) -> None:
    """Answer 503 for lost connections and busy databases, wherever they happen."""
    for error in (OperationalError, InterfaceError):
        app.register_error_handler(error, database_unavailable)
