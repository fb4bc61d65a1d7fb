"""The intake baseline: a bare Flask app whose webhook endpoint answers 202 and does nothing,
served by the same gunicorn command as the real app (`benchmarks.bare_app:create_app()`)."""

from __future__ import annotations

from flask import Flask


def create_app() -> Flask:
    app = Flask(__name__)

    @app.post("/hooks/<forge>")
    def receive(forge: str) -> tuple[str, int]:
        return "", 202

    return app
