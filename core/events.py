"""The canonical events every forge adapter produces (no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

ZERO_SHA = "0" * 40


class RefKind(StrEnum):
    """What a pushed ref is: a branch or a tag."""

    BRANCH = "branch"
    TAG = "tag"


BRANCH_PREFIX = "refs/heads/"
TAG_PREFIX = "refs/tags/"


def ref_kind(ref: str) -> RefKind | None:
    """The kind of a full ref name, or None for refs that are neither branches nor tags."""
    if ref.startswith(BRANCH_PREFIX) and len(ref) > len(BRANCH_PREFIX):
        return RefKind.BRANCH
    if ref.startswith(TAG_PREFIX) and len(ref) > len(TAG_PREFIX):
        return RefKind.TAG
    return None


_REF_FORBIDDEN = set(" ~^:?*[\\")
MAX_REF_BYTES = 255


def ref_problem(ref: str) -> str | None:
    """Why `ref` is not a name git would accept (git check-ref-format's rules), or None."""
    try:
        size = len(ref.encode("utf-8"))
    except UnicodeEncodeError:
        return "it is not valid text"
    if not ref or size > MAX_REF_BYTES:
        return f"it must be 1 to {MAX_REF_BYTES} bytes long"
    if any(ord(c) < 32 or ord(c) == 127 or c in _REF_FORBIDDEN for c in ref):
        return "it holds a space, a control character or one of ~^:?*[\\"
    if (ref.startswith(("-", "/", ".")) or ref.endswith(("/", ".", ".lock")) or ".." in ref
            or "//" in ref or "@{" in ref or "/." in ref or ref == "@"):
        return "git does not allow that form (.., //, @{, a leading - or a trailing .lock)"
    return None


def short_ref(ref: str) -> str:
    """The branch or tag name without its refs/heads/ or refs/tags/ prefix."""
    for prefix in (BRANCH_PREFIX, TAG_PREFIX):
        if ref.startswith(prefix):
            return ref[len(prefix) :]
    return ref


def full_ref(kind: RefKind, name: str) -> str:
    """The full ref name of a branch or tag name."""
    return (BRANCH_PREFIX if kind is RefKind.BRANCH else TAG_PREFIX) + name


@dataclass(frozen=True)
class PushEvent:
    """One ref changed by a push, normalised from any forge.

    `before` is None when the ref was created, `after` is None when it was deleted.
    `changed_files` is None when the payload does not list every changed file.
    `commit` is set when the payload names the commit `after` points to and it differs
    (an annotated tag's object points to a commit); `target` is the commit to build.
    """

    provider: str
    repository: str
    ref: str
    before: str | None
    after: str | None
    created: bool = False
    deleted: bool = False
    forced: bool = False
    head_commit_message: str = ""
    changed_files: tuple[str, ...] | None = None
    pusher: str = ""
    delivery_id: str = ""
    commit: str | None = None

    @property
    def target(self) -> str | None:
        """The commit to build: the tagged commit for annotated tags, else `after`."""
        return self.commit or self.after

    @property
    def kind(self) -> RefKind | None:
        """Branch, tag, or None for other refs."""
        return ref_kind(self.ref)

    @property
    def name(self) -> str:
        """The short branch or tag name."""
        return short_ref(self.ref)


@dataclass(frozen=True)
class Ping:
    """The forge checking that the hook works; answered 2xx with no other effect."""

    provider: str
    repository: str | None = None
    message: str = "pong"


@dataclass(frozen=True)
class Ignored:
    """A delivery that is valid but drives no build, with the reason why."""

    provider: str
    event: str
    reason: str
    repository: str | None = None
    refs: tuple[str, ...] = field(default_factory=tuple)


ParseResult = Ping | Ignored | list[PushEvent]
