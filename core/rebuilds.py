"""Rebuilds without a push: why a rule is rebuilt, and whether it may be (no I/O).

A base change is a reference (`host/path:tag`) now pointing at a new digest. It belongs to an
origin: the external change that started a cascade (`base:<reference>@<digest>`) or a
schedule's run. An image Autobuild pushes can be another rule's base, so a change caused by a
rebuild's own push carries that rebuild's origin and chain (the rules rebuilt on the way,
oldest first). `judge` says, for one rule using the base, whether to rebuild it:

- its latest build already used that digest: nothing to do;
- the rule is already in the chain: a cycle (A → B → A), shown instead of followed;
- otherwise rebuild, once per origin, rule and ref (the caller claims `claim_key`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from core.events import BRANCH_PREFIX, TAG_PREFIX, RefKind, short_ref
from core.image_refs import canonical
from core.plan import TRIGGER_BASE_IMAGE, TRIGGER_SCHEDULE
from core.rules import BuildRule, compile_source

MAX_SCHEDULED_REFS = 20
"""A regex rule's schedule rebuilds at most this many of the refs it matches."""


@dataclass(frozen=True)
class RuleRef:
    """One rule of one repository, at one ref: what a rebuild rebuilds."""

    repository: str
    provider: str
    rule_index: int
    ref: str

    def describe(self) -> str:
        """`acme/app rule 1 (main)`."""
        return f"{self.repository} rule {self.rule_index + 1} ({short_ref(self.ref)})"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"repository": self.repository, "provider": self.provider,
                "rule_index": self.rule_index, "ref": self.ref}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RuleRef:
        """The RuleRef `to_dict` made."""
        return cls(str(data["repository"]), str(data["provider"]), int(data["rule_index"]),
                   str(data["ref"]))


@dataclass(frozen=True)
class BaseChange:
    """`reference` now points at `digest`; `origin` and `chain` place it in its cascade."""

    reference: str
    digest: str
    origin: str
    chain: tuple[RuleRef, ...] = ()
    source: str = "notification"  # notification | poll


@dataclass(frozen=True)
class RebuildCause:
    """Why a build was queued without a push; stored with the build, shown as its reason."""

    kind: str  # TRIGGER_BASE_IMAGE or TRIGGER_SCHEDULE
    origin: str
    chain: tuple[RuleRef, ...] = ()  # ends with the rebuilt rule itself
    event_id: int | None = None
    base: str | None = None
    old_digest: str | None = None
    new_digest: str | None = None
    source: str | None = None
    schedule: str | None = None
    timezone: str | None = None
    due: str | None = None

    def describe(self) -> str:
        """The build's reason, in one sentence."""
        if self.kind == TRIGGER_SCHEDULE:
            return f"scheduled rebuild ({self.schedule}, {self.timezone}), due {self.due}"
        old = self.old_digest or "an unknown digest"
        how = "found by polling the registry" if self.source == "poll" else \
            "told by the registry"
        text = f"base image {self.base} changed from {old} to {self.new_digest} ({how})"
        if len(self.chain) > 1:
            text += f", after {self.chain[-2].describe()} was rebuilt"
        return text

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (the API's `cause`)."""
        data = {"kind": self.kind, "origin": self.origin, "event_id": self.event_id,
                "chain": [rule.to_dict() for rule in self.chain], "reason": self.describe()}
        data.update({name: value for name, value in (
            ("base", self.base), ("old_digest", self.old_digest),
            ("new_digest", self.new_digest), ("source", self.source),
            ("schedule", self.schedule), ("timezone", self.timezone), ("due", self.due))
            if value is not None})
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RebuildCause:
        """The cause `to_dict` made."""
        text = {name: data.get(name) for name in ("base", "old_digest", "new_digest", "source",
                                                  "schedule", "timezone", "due")}
        return cls(kind=str(data["kind"]), origin=str(data["origin"]),
                   chain=tuple(RuleRef.from_dict(r) for r in data.get("chain", ())),
                   event_id=data.get("event_id"),
                   **{k: str(v) for k, v in text.items() if v is not None})


class Verdict(StrEnum):
    """What became of one rule for one base change or schedule run."""

    QUEUED = "queued"
    SAME_DIGEST = "same_digest"  # its latest build already used the new digest
    CYCLE = "cycle"  # it is already in the cascade: rebuilding it would loop
    ALREADY_REBUILT = "already_rebuilt"  # rebuilt once for this origin already
    IN_PROGRESS = "in_progress"  # a build of its ref's head is queued or running
    OFF = "off"  # rebuild: {on_base_change: false}, or the rule is gone
    FAILED = "failed"  # its ref could not be resolved or planned


@dataclass(frozen=True)
class BaseUser:
    """A rule whose latest successful build used a base: which build, with which digest."""

    rule: RuleRef
    build_id: str
    digest: str | None


def external_origin(reference: str, digest: str) -> str:
    """The origin of a change nobody in a cascade caused: the same for the notification and
    the poll that see it, so it is rebuilt once whichever comes first."""
    return f"base:{canonical(reference)}@{digest}"


def base_change(reference: str, digest: str, *, source: str,
                pusher: tuple[RuleRef, RebuildCause | None] | None) -> BaseChange:
    """The change `reference → digest`, in the cascade of the build that pushed it (if ours)."""
    if pusher is not None and pusher[1] is not None:
        cause = pusher[1]
        return BaseChange(reference, digest, cause.origin, cause.chain, source)
    chain = (pusher[0],) if pusher is not None else ()
    return BaseChange(reference, digest, external_origin(reference, digest), chain, source)


def judge(change: BaseChange, user: BaseUser, *, enabled: bool) -> tuple[Verdict | None, str]:
    """(None, "") when `user` should be rebuilt for `change`, else the verdict and why."""
    if not enabled:
        return Verdict.OFF, "its rebuild: says on_base_change: false"
    if user.digest == change.digest:
        return Verdict.SAME_DIGEST, (f"its latest build {user.build_id} already used "
                                     f"{change.digest}")
    if user.rule in change.chain:
        return Verdict.CYCLE, cycle_text(change.chain, user.rule)
    return None, ""


def cycle_text(chain: tuple[RuleRef, ...], rule: RuleRef) -> str:
    """`cycle: a → b → a; not rebuilding a again for the same change`."""
    loop = chain[chain.index(rule):] + (rule,)
    return (f"cycle: {' → '.join(r.describe() for r in loop)}; not rebuilding "
            f"{rule.describe()} again for the same change")


def claim_key(origin: str, rule: RuleRef) -> str:
    """The key a rebuild of `rule` for `origin` claims: one rebuild per origin, rule and ref."""
    text = json.dumps([origin, rule.provider, rule.repository, rule.rule_index, rule.ref])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def rebuild_cause(change: BaseChange, user: BaseUser, event_id: int | None) -> RebuildCause:
    """The cause a rebuild of `user` for `change` records."""
    return RebuildCause(kind=TRIGGER_BASE_IMAGE, origin=change.origin,
                        chain=change.chain + (user.rule,), event_id=event_id,
                        base=change.reference, old_digest=user.digest,
                        new_digest=change.digest, source=change.source)


def scheduled_refs(rule: BuildRule, remote_refs: list[str]) -> tuple[list[str], list[str]]:
    """(the refs a schedule rebuilds, the matching ones left out past MAX_SCHEDULED_REFS): a
    literal rule's ref; a regex rule's matching refs on the remote, in name order."""
    prefix = BRANCH_PREFIX if rule.source_type is RefKind.BRANCH else TAG_PREFIX
    if not rule.is_regex:
        return [prefix + rule.source], []
    pattern = compile_source(rule.pattern)
    matching = sorted(ref for ref in remote_refs
                      if ref.startswith(prefix) and pattern.search(ref[len(prefix):]))
    return matching[:MAX_SCHEDULED_REFS], matching[MAX_SCHEDULED_REFS:]
