"""The build log writer: output reaches the database as it is printed, secrets masked."""

from __future__ import annotations

from collections.abc import Iterable

from records.builds import BuildStore

MASK = "***"


class BuildLog:
    """Appends build output to the store; every known secret is replaced by ***."""

    def __init__(self, store: BuildStore, build_id: str, *, secrets: Iterable[str] = ()) -> None:
        self.store = store
        self.build_id = build_id
        self.secrets = sorted({s for s in secrets if s and len(s) >= 3}, key=len, reverse=True)

    def mask(self, text: str) -> str:
        """Text with every secret replaced by ***."""
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return text

    def __call__(self, text: str) -> None:
        self.store.append_log(self.build_id, self.mask(text))
