"""The Flask web process: webhooks, API and status pages (HTTP in, enqueue out)."""

from __future__ import annotations

import logging
import os
from typing import Any

from flask import Flask

from core.config import settings_from_env
from service.web_security import persistent_secret_key

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
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        LOG_CAP_BYTES=settings.log_cap_bytes,
        LS_REMOTE_TIMEOUT=settings.ls_remote_timeout,
        READ_ACCESS=settings.read_access,
        DOCKER_HOST=settings.docker_host,
        USERS_TEXT=settings.users,
        USERS_FILE=settings.users_file,
        DB_UPGRADE=settings.db_upgrade,
        STREAMS_PER_PROCESS=settings.streams_per_process,
        BUILDER=settings.builder,
        TRUSTED_PROXIES=settings.trusted_proxies,
        REGISTRY_TOKEN=settings.registry_token,
        SCHEDULER_INTERVAL=settings.scheduler_interval,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
    )
    if test_config:
        app.config.update(test_config)
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = persistent_secret_key(settings.var_dir)
    app.config["SESSION_COOKIE_SECURE"] = bool(
        app.config.get("SESSION_COOKIE_SECURE") or settings.public_url.startswith("https://"))

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
        outages,
        pages,
        presentation,
        registry_hooks,
        session_views,
        stream,
        trigger_views,
        web_security,
        webhooks,
    )
    from service.login_limits import LoginLimiter, SharedLoginLimiter

    extensions.init_app(app)
    outages.init_app(app)
    web_security.init_app(app, trusted_proxies=int(app.config.get("TRUSTED_PROXIES") or 0))
    app.extensions["login_limiter"] = app.config.get("LOGIN_LIMITER") or (
        SharedLoginLimiter(app.extensions["redis"]) if "redis" in app.extensions
        else LoginLimiter())
    app.register_blueprint(webhooks.bp)
    app.register_blueprint(registry_hooks.bp)
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
    if not app.config.get("TESTING") and app.config.get("JANITOR", True):
        janitor.start(app)
    return app
