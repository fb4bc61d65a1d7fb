"""The webhook payload corpus in tests/samples/webhooks: manifest rows and exact body bytes.

The corpus is a byte-exact copy of real deliveries (see its README.md for provenance): HMAC
vectors are over those bytes, so the files are never reformatted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

FIXTURES_DIR = Path(__file__).resolve().parents[1] / "samples" / "webhooks"

FORGE_OF_PROVIDER = {
    "github": "github",
    "gitlab": "gitlab",
    "gitea": "gitea",
    "bitbucket-cloud": "bitbucket",
    "bitbucket-server": "bitbucket",
}
"""The manifest's provider -> our endpoint/forge id (one endpoint for both Bitbucket flavours)."""


@dataclass(frozen=True)
class Fixture:
    """One manifest row."""

    file: str
    entry: dict[str, Any]

    @property
    def provider(self) -> str:
        """The manifest's provider, e.g. "bitbucket-cloud"."""
        return str(self.entry["provider"])

    @property
    def forge(self) -> str:
        """Our forge id for this row."""
        return FORGE_OF_PROVIDER[self.provider]

    @property
    def body(self) -> bytes:
        """The exact bytes of the payload file."""
        return (FIXTURES_DIR / self.file).read_bytes()

    @property
    def event_headers(self) -> dict[str, str]:
        """The event header the forge sends with this body."""
        return {self.entry["event_header_name"]: self.entry["event_header_value"]}


@cache
def manifest() -> tuple[Fixture, ...]:
    """Every manifest row, in manifest order."""
    rows = json.loads((FIXTURES_DIR / "manifest.json").read_bytes())
    return tuple(Fixture(row["file"], row) for row in rows)


def fixture(file: str) -> Fixture:
    """The manifest row of `file` (a path such as "github/push-branch.json")."""
    for row in manifest():
        if row.file == file:
            return row
    raise KeyError(file)
