"""The web process's own defences: one session key for every process, Secure cookies over
HTTPS (also behind a proxy), and no framing of our pages (clickjacking of Build now)."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from flask import Flask, Response, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

logger = logging.getLogger(__name__)
KEY_FILE = "session-key"


def persistent_secret_key(var_dir: str) -> str:
    """The key in `var_dir`/session-key, made (0600, atomically) by whichever process comes
    first, so every web process of an installation signs sessions the same way."""
    path = Path(var_dir) / KEY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_text(encoding="ascii").strip()
        if len(key) < 32:
            raise RuntimeError(f"{path} holds no session key; remove it or set "
                               "AUTOBUILD_SECRET_KEY") from None
        return key
    key = secrets.token_hex(32)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(key + "\n")
    logger.info("made a session key in %s (set AUTOBUILD_SECRET_KEY to choose your own)", path)
    return key


class HttpsAwareSessions(SecureCookieSessionInterface):
    """Session cookies are Secure whenever the request came over HTTPS (as ProxyFix sees it
    behind a proxy), not only when SESSION_COOKIE_SECURE says so."""

    def get_cookie_secure(self, app: Flask) -> bool:
        """Secure when configured, or when this request is HTTPS."""
        return bool(app.config["SESSION_COOKIE_SECURE"] or request.is_secure)


def _no_framing(response: Response) -> Response:
    """Forbid other sites from framing our pages (their forms act with a login)."""
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Content-Security-Policy", "frame-ancestors 'none'")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response


def init_app(app: Flask, *, trusted_proxies: int) -> None:
    """Install the session interface, the framing headers and, behind `trusted_proxies`
    proxies, ProxyFix (X-Forwarded-For, -Proto, -Host, -Port from that many hops)."""
    app.session_interface = HttpsAwareSessions()
    app.after_request(_no_framing)
    if trusted_proxies > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=trusted_proxies,  # type: ignore[method-assign]
                                x_proto=trusted_proxies, x_host=trusted_proxies,
                                x_port=trusted_proxies)
