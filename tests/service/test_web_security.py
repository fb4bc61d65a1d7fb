"""Sessions and logins: Secure cookies over HTTPS (also behind a proxy), rate-limited logins,
no framing, and one session key for every web process of an installation."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from werkzeug.test import TestResponse

from service.login_limits import LoginLimiter, SharedLoginLimiter
from tests.conftest import API_TOKEN
from tests.service.test_pages import csrf_from


def post_login(client: FlaskClient, user: str, password: str, **kwargs: Any) -> TestResponse:
    """Log in through the form (with its CSRF token); `kwargs` go to both requests."""
    token = csrf_from(client.get("/login", **kwargs).get_data(as_text=True))
    return client.post("/login", data={"username": user, "password": password,
                                       "csrf_token": token}, **kwargs)


def session_cookie(response: TestResponse) -> str:
    cookies = [v for k, v in response.headers.items()
               if k == "Set-Cookie" and v.startswith("session=")]
    assert cookies, "no session cookie was set"
    return cookies[-1]


def test_the_session_cookie_is_secure_over_https_only(app_factory: Callable[..., Flask]) -> None:
    app = app_factory()
    over_https = post_login(app.test_client(), "", API_TOKEN, base_url="https://localhost")
    over_http = post_login(app.test_client(), "", API_TOKEN)
    assert "; Secure" in session_cookie(over_https)
    assert "; Secure" not in session_cookie(over_http)
    assert "; HttpOnly" in session_cookie(over_http) and "SameSite=Lax" in session_cookie(over_http)


def test_behind_a_trusted_proxy_forwarded_https_makes_the_cookie_secure(
        app_factory: Callable[..., Flask]) -> None:
    proxied = app_factory(TRUSTED_PROXIES=1).test_client()
    direct = app_factory().test_client()
    forwarded = {"headers": {"X-Forwarded-Proto": "https"}}
    assert "; Secure" in session_cookie(post_login(proxied, "", API_TOKEN, **forwarded))
    assert "; Secure" not in session_cookie(post_login(direct, "", API_TOKEN, **forwarded)), \
        "without AUTOBUILD_TRUSTED_PROXIES a forged header changes nothing"


def test_failed_logins_are_limited_per_user_and_per_address(
        app_factory: Callable[..., Flask]) -> None:
    client = app_factory().test_client()
    for _ in range(5):
        assert post_login(client, "admin", "wrong").status_code == 401
    refused = post_login(client, "admin", API_TOKEN)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert "Too many failed logins" in refused.get_data(as_text=True)
    assert post_login(client, "alice", "wrong").status_code == 401


def test_the_limiter_forgets_failures_after_its_window() -> None:
    now = [1000.0]
    limiter = LoginLimiter(window=60, per_user=2, per_address=3, clock=lambda: now[0])
    limiter.failed("bob", "10.0.0.1")
    limiter.failed("bob", "10.0.0.1")
    assert limiter.retry_after("bob", "10.0.0.2") == 60
    limiter.failed("carol", "10.0.0.1")
    assert limiter.retry_after("dave", "10.0.0.1") == 60, "the address is spent too"
    now[0] += 61
    assert limiter.retry_after("bob", "10.0.0.1") == 0
    limiter.failed("bob", "10.0.0.1")
    limiter.succeeded("bob")
    assert limiter.retry_after("bob", "10.0.0.9") == 0


def test_without_redis_each_process_still_limits_logins() -> None:
    down = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    limiter = SharedLoginLimiter(down, window=60, per_user=2, per_address=3)
    limiter.failed("bob", "10.0.0.1")
    limiter.failed("bob", "10.0.0.1")
    assert 59 < limiter.retry_after("bob", "10.0.0.2") <= 60
    limiter.succeeded("bob")
    assert limiter.retry_after("bob", "10.0.0.2") == 0


@pytest.mark.parametrize("path", ["/", "/login", "/api/builds", "/healthz"])
def test_pages_cannot_be_framed(client: FlaskClient, path: str) -> None:
    headers = client.get(path).headers
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Content-Security-Policy"] == "frame-ancestors 'none'"


def test_web_processes_without_a_configured_key_share_one_persisted_key(
        app_factory: Callable[..., Flask], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTOBUILD_VAR_DIR", str(tmp_path / "var"))
    first, second = app_factory(SECRET_KEY=""), app_factory(SECRET_KEY="")
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    key_file = tmp_path / "var" / "session-key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    client = first.test_client()
    post_login(client, "", API_TOKEN)
    cookie = client.get_cookie("session")
    assert cookie is not None
    other = second.test_client()
    other.set_cookie("session", cookie.value)
    assert 'title="logged in">admin<' in other.get("/").get_data(as_text=True)
