"""gunicorn's access log without trigger tokens: `/trigger/<token>/` is logged as
`/trigger/***/` (the Procfile's `--logger-class`)."""

from __future__ import annotations

import re
from typing import Any

from gunicorn.glogging import Logger

_TOKEN_IN_PATH = re.compile(r"(/trigger/)[^/?\s]+")


def redact_path(text: str) -> str:
    """`text` with every trigger URL's token replaced by ***."""
    return _TOKEN_IN_PATH.sub(r"\1***", text)


class RedactingLogger(Logger):  # type: ignore[misc]  # gunicorn is untyped
    """gunicorn's logger, with trigger tokens masked in every access log field."""

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        """The access log's fields, tokens masked."""
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        return {key: redact_path(value) if isinstance(value, str) else value
                for key, value in atoms.items()}
