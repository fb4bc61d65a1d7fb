"""Which of several builds of one rule and ref holds the newest commit, by git (no I/O).

Forges deliver pushes concurrently and out of order, and redeliveries come late, so arrival
order says nothing about which commit a branch ends on. The worker, which has the repository's
mirror, asks this module: git answers through `is_ancestor` and the ref's current `head`.

Newest is decided, in this order:
1. the candidate whose commit is the ref's current head in the mirror;
2. a forced push is newer than the state it replaced (its `before`) and everything before it;
3. a descendant is newer than its ancestors;
4. a commit still on the ref (an ancestor of its head) is newer than one pushed away;
5. the later-created build.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

IsAncestor = Callable[[str, str], bool]
"""`is_ancestor(a, b)`: whether commit `a` is an ancestor of commit `b` (False if unknown)."""


@dataclass(frozen=True)
class Candidate:
    """One build of the rule and ref: queued, the one starting, or the last one pushed."""

    build_id: str
    commit: str
    created_at: datetime
    before: str | None = None
    forced: bool = False
    pushed: bool = False  # its image already holds the rule's tags for this ref


@dataclass(frozen=True)
class Verdict:
    """The newest candidate, and why it beat each of the others (one sentence each)."""

    newest: Candidate
    reasons: dict[str, str]


def _replaced(newer: Candidate, older: Candidate, is_ancestor: IsAncestor) -> bool:
    """Whether `newer` is a forced push over `older`'s commit or a state after it."""
    if not (newer.forced and newer.before):
        return False
    return newer.before == older.commit or is_ancestor(older.commit, newer.before)


def compare(x: Candidate, y: Candidate, *, head: str | None,
            is_ancestor: IsAncestor) -> tuple[int, str]:
    """(1 if x is newer, -1 if y is, 0 for the same commit) and the rule that decided."""
    if x.commit == y.commit:
        return 0, "the same commit"
    for sign, a in ((1, x), (-1, y)):
        if head is not None and a.commit == head:
            return sign, f"{a.commit[:7]} is the ref's current head"
    for sign, a, b in ((1, x, y), (-1, y, x)):
        if _replaced(a, b, is_ancestor):
            return sign, f"{a.commit[:7]} was force-pushed over {b.commit[:7]}"
    for sign, a, b in ((1, x, y), (-1, y, x)):
        if is_ancestor(b.commit, a.commit):
            return sign, f"{a.commit[:7]} descends from {b.commit[:7]}"
    if head is not None:
        on_ref = (is_ancestor(x.commit, head), is_ancestor(y.commit, head))
        if on_ref[0] != on_ref[1]:
            a, b = (x, y) if on_ref[0] else (y, x)
            return (1 if a is x else -1), (f"{a.commit[:7]} is on the ref and {b.commit[:7]} "
                                           "was pushed away")
    a, b = (x, y) if (x.created_at, x.build_id) >= (y.created_at, y.build_id) else (y, x)
    return (1 if a is x else -1), (f"git cannot order {a.commit[:7]} and {b.commit[:7]}; "
                                   f"the later push wins")


def choose_newest(candidates: Sequence[Candidate], *, head: str | None,
                  is_ancestor: IsAncestor) -> Verdict:
    """The newest of `candidates` (at least one), with the reason each other one lost."""
    if not candidates:
        raise ValueError("choose_newest needs at least one candidate")
    newest = candidates[0]
    for other in candidates[1:]:
        order, _ = compare(other, newest, head=head, is_ancestor=is_ancestor)
        if order > 0 or (order == 0 and other.pushed and not newest.pushed):
            newest = other
    reasons = {}
    for other in candidates:
        if other is newest:
            continue
        _, why = compare(newest, other, head=head, is_ancestor=is_ancestor)
        reasons[other.build_id] = why
    return Verdict(newest, reasons)
