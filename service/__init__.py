"""The Flask web process: webhooks, API and status pages (HTTP in, enqueue out)."""

from __future__ import annotations

import logging
import os
import secrets
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from core.config import settings_from_env

logger = logging.getLogger(__name__)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """The app: settings from the environment, then `test_config`; rules are loaded at once."""
    app = Flask(__name__)
    settings = settings_from_env(os.environ, base_dir=os.getcwd())
    app.config.from_mapping(
        DATABASE_URL=settings.database_url,
        REDIS_URL=settings.redis_url,
        RULES_PATH=settings.rules_path,
        API_TOKEN=settings.api_token,
        SECRET_KEY=settings.secret_key or secrets.token_hex(32),
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        LOG_CAP_BYTES=settings.log_cap_bytes,
        LS_REMOTE_TIMEOUT=settings.ls_remote_timeout,
        READ_ACCESS=settings.read_access,
        DOCKER_HOST=settings.docker_host,
        USERS_TEXT=settings.users,
        USERS_FILE=settings.users_file,
        DB_UPGRADE=settings.db_upgrade,
        TRUSTED_PROXIES=settings.trusted_proxies,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
    )
    if test_config:
        app.config.update(test_config)
    if not settings.secret_key and not app.config.get("TESTING"):
        logger.warning("AUTOBUILD_SECRET_KEY is not set: logins last until this process restarts")

    from service import (
        action_views,
        api,
        auth,
        badges,
        extensions,
        health,
        janitor,
        metrics,
        openapi,
        pages,
        presentation,
        session_views,
        stream,
        trigger_views,
        webhooks,
    )

    extensions.init_app(app)
    app.register_blueprint(webhooks.bp)
    app.register_blueprint(trigger_views.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(presentation.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(session_views.bp)
    app.register_blueprint(action_views.bp)
    app.register_blueprint(stream.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(metrics.bp)
    app.register_blueprint(badges.bp)
    app.register_blueprint(openapi.bp)
    app.jinja_env.globals["csrf_token"] = auth.csrf_token
    hops = int(app.config.get("TRUSTED_PROXIES") or 0)
    if hops:  # X-Forwarded-For/-Proto/-Host of that many proxies in front are believed
        proxied = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
        app.wsgi_app = proxied  # type: ignore[method-assign]
    if not app.config.get("TESTING"):
        janitor.start(app)
    return app
