"""Who may act: the API token for scripts, a login session with a CSRF token for the pages."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, current_app, jsonify, request, session

F = TypeVar("F", bound=Callable[..., Any])


def _api_token() -> str:
    return str(current_app.config.get("API_TOKEN") or "")


def token_matches(candidate: str) -> bool:
    """Constant-time check of a presented token; no token configured means nobody matches."""
    expected = _api_token()
    if not expected or not candidate:
        return False
    return hmac.compare_digest(candidate.encode(), expected.encode())


def bearer_ok() -> bool:
    """Whether the request carries `Authorization: Bearer <the API token>`."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and token_matches(token.strip())


def logged_in() -> bool:
    """Whether the browser session has logged in."""
    return bool(session.get("user"))


def actor() -> str:
    """Who is acting, for build logs: the session's user, or "api" for the token."""
    return str(session.get("user") or "api")


def csrf_token() -> str:
    """The session's CSRF token (created on first use); forms post it back."""
    token = session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return str(token)


def csrf_ok() -> bool:
    """Whether the request echoes the session's CSRF token (form field or X-CSRF-Token header)."""
    sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
    expected = session.get("csrf") or ""
    return bool(sent and expected) and hmac.compare_digest(str(sent), str(expected))


def action_allowed() -> bool:
    """API token, or a logged-in session that sent its CSRF token."""
    return bearer_ok() or (logged_in() and csrf_ok())


def require_action(view: F) -> F:
    """Refuse the request with 401 JSON unless action_allowed()."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not action_allowed():
            response = jsonify(error="authentication required: send Authorization: Bearer "
                               "<AUTOBUILD_API_TOKEN>, or log in and send the CSRF token")
            response.status_code = 401
            response.headers["WWW-Authenticate"] = 'Bearer realm="autobuild"'
            return response
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def check_read_access() -> None:
    """With AUTOBUILD_READ_ACCESS=login, reading needs a session or the token."""
    if current_app.config.get("READ_ACCESS") == "login" and not (logged_in() or bearer_ok()):
        if request.path.startswith("/api/"):
            response = jsonify(error="reading needs a login or the API token "
                               "(AUTOBUILD_READ_ACCESS=login)")
            response.status_code = 401
            abort(response)
        abort(401)


def read_allowed() -> bool:
    """Whether this request may read (public reading, a session, or the token)."""
    return current_app.config.get("READ_ACCESS") != "login" or logged_in() or bearer_ok()


def start_session(user: str) -> None:
    """Log `user` in: a fresh session (no fixation) with a new CSRF token."""
    session.clear()
    session["user"] = user
    session["csrf"] = secrets.token_urlsafe(32)


def safe_next(target: str | None, default: str) -> str:
    """`target` when it is a path on this site, else `default` (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    if any(ord(c) < 32 for c in target):
        return default
    return target
