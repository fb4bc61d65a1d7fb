"""The forge adapters, one module per webhook endpoint id (no I/O).

Every adapter module has the same five functions (see ForgeAdapter): `envelope` decodes the
raw delivery once, the others read that Envelope. Bitbucket Cloud and Bitbucket Server share
the "bitbucket" endpoint; `bitbucket` dispatches on X-Event-Key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from core.envelope import Envelope
from core.events import ParseResult
from core.forges import bitbucket, gitea, github, gitlab


class ForgeAdapter(Protocol):
    """What the webhook view needs from a forge; header lookups are case-insensitive."""

    def envelope(self, headers: Mapping[str, str], body: bytes) -> Envelope:
        """The delivery with its body decoded once; PayloadError when it is not JSON."""
        ...

    def event_name(self, delivery: Envelope) -> str:
        """The forge's event name header, e.g. "push", "Push Hook", "repo:push"; "" if absent."""
        ...

    def delivery_id(self, delivery: Envelope) -> str:
        """The forge's id of this delivery (for deduplication); "" when absent."""
        ...

    def repository_name(self, delivery: Envelope) -> str | None:
        """The repository the payload names (read before verification); None if it names none."""
        ...

    def parse(self, delivery: Envelope) -> ParseResult:
        """The canonical result of one delivery; PayloadError when the body is malformed."""
        ...


FORGES: dict[str, ForgeAdapter] = {
    "github": github,
    "gitlab": gitlab,
    "gitea": gitea,
    "bitbucket": bitbucket,
}


def get_forge(forge: str) -> ForgeAdapter | None:
    """The adapter for endpoint id `forge`, or None when there is none."""
    return FORGES.get(forge)
