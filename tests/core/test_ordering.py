"""Newest by git, not by arrival (core/ordering.py), on a small history played by a dict.

    c1 ─ c2 ─ c3 ─ c4 ─ c5        main
                 └─ d4 ─ d5       a rewrite of main from c3 (force-pushed)
"""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.ordering import Candidate, choose_newest, compare

PARENTS = {"c2": "c1", "c3": "c2", "c4": "c3", "c5": "c4", "d4": "c3", "d5": "d4"}


def sha(name: str) -> str:
    return name.ljust(40, "0")


def is_ancestor(a: str, b: str) -> bool:
    """Whether commit a is a proper ancestor of b in the little history."""
    node = b.rstrip("0")
    target = a.rstrip("0")
    while node in PARENTS:
        node = PARENTS[node]
        if node == target:
            return True
    return False


T0 = datetime(2026, 1, 1, tzinfo=UTC)
_ids = itertools.count()


def cand(name: str, *, minute: int = 0, before: str | None = None, forced: bool = False,
         pushed: bool = False) -> Candidate:
    return Candidate(build_id=f"b{next(_ids)}-{name}", commit=sha(name),
                     created_at=T0 + timedelta(minutes=minute),
                     before=sha(before) if before else None, forced=forced, pushed=pushed)


def newest(*candidates: Candidate, head: str | None = None) -> str:
    verdict = choose_newest(candidates, head=sha(head) if head else None,
                            is_ancestor=is_ancestor)
    return verdict.newest.commit.rstrip("0")


def test_a_descendant_beats_its_ancestors_whatever_the_arrival_order() -> None:
    assert newest(cand("c5", minute=0), cand("c2", minute=1), cand("c4", minute=2)) == "c5"


def test_the_refs_head_wins_even_when_an_ancestor_of_others() -> None:
    """A forced push back to c3 after c5 was built: the mirror's head says c3."""
    assert newest(cand("c5", pushed=True), cand("c3", minute=5), head="c3") == "c3"


def test_a_forced_push_beats_what_it_replaced_without_a_head() -> None:
    rewrite = cand("d5", minute=0, before="c5", forced=True)
    assert newest(cand("c5", pushed=True, minute=1), rewrite) == "d5"
    assert newest(cand("c4", minute=3), rewrite) == "d5"  # c4 is before what it replaced


def test_a_commit_pushed_away_loses_to_one_on_the_ref() -> None:
    assert newest(cand("c5", minute=0), cand("d4", minute=1), head="d5") == "d4"


def test_git_cannot_order_diverged_commits_so_the_later_push_wins() -> None:
    later = cand("d4", minute=9)
    verdict = choose_newest([cand("c5", minute=1), later], head=None, is_ancestor=is_ancestor)
    assert verdict.newest is later
    assert list(verdict.reasons.values()) == ["git cannot order d400000 and c500000; "
                                              "the later push wins"]


def test_the_pushed_build_wins_a_tie_so_the_same_commit_is_not_built_twice() -> None:
    pushed = cand("c4", pushed=True)
    verdict = choose_newest([cand("c4", minute=5), pushed], head="c4".ljust(40, "0"),
                            is_ancestor=is_ancestor)
    assert verdict.newest is pushed


def test_every_loser_gets_a_reason() -> None:
    a, b, c = cand("c2"), cand("c5"), cand("c3")
    verdict = choose_newest([a, b, c], head=None, is_ancestor=is_ancestor)
    assert verdict.newest is b
    assert verdict.reasons == {a.build_id: "c500000 descends from c200000",
                               c.build_id: "c500000 descends from c300000"}


def test_no_candidates_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="at least one"):
        choose_newest([], head=None, is_ancestor=is_ancestor)


@given(st.permutations(["c1", "c2", "c3", "c4", "c5"]), st.integers(0, 4))
def test_any_arrival_order_of_one_line_of_history_ends_on_its_tip(
        order: list[str], skip: int) -> None:
    """However the pushes of c1..c5 arrive, and whichever one the head is not yet known for,
    the tip wins; with the head known, the head wins."""
    shuffled = [cand(name, minute=i) for i, name in enumerate(order)]
    assert newest(*shuffled) == "c5"
    random.Random(skip).shuffle(shuffled)
    assert newest(*shuffled, head="c5") == "c5"


def test_compare_is_antisymmetric_on_the_history() -> None:
    names = ["c1", "c2", "c3", "c4", "c5", "d4", "d5"]
    for x, y in itertools.permutations(names, 2):
        a, b = cand(x, minute=1), cand(y, minute=2)
        forward, _ = compare(a, b, head=sha("c5"), is_ancestor=is_ancestor)
        backward, _ = compare(b, a, head=sha("c5"), is_ancestor=is_ancestor)
        assert forward == -backward != 0, (x, y)
