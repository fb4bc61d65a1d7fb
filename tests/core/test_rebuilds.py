"""Base changes in their cascade: references compared in one spelling, who is rebuilt, cycles,
claims, causes, which refs a schedule rebuilds, and which bases are polled how often."""

from __future__ import annotations

import pytest

from core.base_polling import PollTarget, backoff_after, poll_targets
from core.events import RefKind
from core.image_refs import canonical, parse_image, same_image
from core.rebuilds import (
    MAX_SCHEDULED_REFS,
    BaseUser,
    RebuildCause,
    RuleRef,
    Verdict,
    base_change,
    claim_key,
    external_origin,
    judge,
    rebuild_cause,
    scheduled_refs,
)
from core.rules import BuildRule

OLD, NEW = "sha256:" + "1" * 64, "sha256:" + "2" * 64
A = RuleRef("acme/a", "github", 0, "refs/heads/main")
B = RuleRef("acme/b", "github", 0, "refs/heads/main")
C = RuleRef("acme/c", "gitlab", 2, "refs/tags/v1")


@pytest.mark.parametrize(("reference", "spelt"), [
    ("busybox", "docker.io/library/busybox:latest"),
    ("busybox:1.36", "docker.io/library/busybox:1.36"),
    ("library/busybox", "docker.io/library/busybox:latest"),
    ("index.docker.io/library/busybox", "docker.io/library/busybox:latest"),
    ("registry-1.docker.io/acme/app:v1", "docker.io/acme/app:v1"),
    ("127.0.0.1:5000/local/busybox", "127.0.0.1:5000/local/busybox:latest"),
    ("localhost/x", "localhost/x:latest"),
    ("Registry.Example.com/team/app:1", "registry.example.com/team/app:1"),
    ("ghcr.io/acme/app@sha256:" + "a" * 64, "ghcr.io/acme/app@sha256:" + "a" * 64),
    ("not a reference", "not a reference"),
], ids=lambda value: value[:40])
def test_references_compare_in_one_spelling(reference: str, spelt: str) -> None:
    assert canonical(reference) == spelt


def test_pinned_references_never_change_and_other_tags_are_other_images() -> None:
    pinned = parse_image("busybox@sha256:" + "b" * 64)
    assert pinned is not None and pinned.pinned
    assert same_image("busybox", "docker.io/library/busybox:latest")
    assert not same_image("busybox:1", "busybox:2")
    assert not same_image("127.0.0.1:5000/a:latest", "localhost:5000/a:latest")


def user(digest: str | None = OLD, rule: RuleRef = A) -> BaseUser:
    return BaseUser(rule, "build-1", digest)


def test_a_rule_built_from_an_older_digest_is_rebuilt_with_a_cause_naming_both() -> None:
    change = base_change("busybox", NEW, source="notification", pusher=None)
    assert change.origin == external_origin("docker.io/library/busybox:latest", NEW)
    assert judge(change, user(), enabled=True) == (None, "")
    cause = rebuild_cause(change, user(), 7)
    assert cause.chain == (A,) and cause.event_id == 7
    assert cause.describe() == (f"base image busybox changed from {OLD} to {NEW} (told by the "
                                "registry)")
    assert RebuildCause.from_dict(cause.to_dict()) == cause


@pytest.mark.parametrize(("digest", "enabled", "verdict"), [
    (NEW, True, Verdict.SAME_DIGEST), (OLD, False, Verdict.OFF), (None, False, Verdict.OFF),
], ids=["already-built-from-it", "turned-off", "local-only-and-off"])
def test_rules_that_need_no_rebuild_say_why(digest: str | None, enabled: bool,
                                           verdict: Verdict) -> None:
    change = base_change("busybox", NEW, source="poll", pusher=None)
    assert judge(change, user(digest), enabled=enabled)[0] is verdict


def test_a_change_pushed_by_a_rebuild_carries_its_cascade_and_a_loop_is_a_cycle() -> None:
    first = base_change("up:latest", NEW, source="notification", pusher=None)
    a_rebuilt = rebuild_cause(first, user(rule=A), 1)
    b_change = base_change("a:latest", NEW, source="notification", pusher=(A, a_rebuilt))
    assert (b_change.origin, b_change.chain) == (first.origin, (A,))
    b_rebuilt = rebuild_cause(b_change, user(rule=B), 2)
    assert b_rebuilt.describe().endswith(", after acme/a rule 1 (main) was rebuilt")
    back_to_a = base_change("b:latest", NEW, source="poll", pusher=(B, b_rebuilt))
    verdict, why = judge(back_to_a, user(rule=A), enabled=True)
    assert verdict is Verdict.CYCLE
    assert why == ("cycle: acme/a rule 1 (main) → acme/b rule 1 (main) → acme/a rule 1 (main); "
                   "not rebuilding acme/a rule 1 (main) again for the same change")
    assert judge(back_to_a, user(rule=C), enabled=True) == (None, "")


def test_a_push_by_our_own_plain_build_starts_a_cascade_with_that_rule() -> None:
    change = base_change("a:latest", NEW, source="notification", pusher=(A, None))
    assert change.chain == (A,)
    assert judge(change, user(rule=A), enabled=True)[0] is Verdict.CYCLE


def test_claims_are_one_per_origin_rule_and_ref() -> None:
    keys = {claim_key(o, r) for o in ("base:x@1", "base:x@2") for r in (A, B, C)}
    assert len(keys) == 6 and claim_key("base:x@1", A) == claim_key("base:x@1", A)
    assert claim_key("o", A) != claim_key("o", RuleRef("acme/a", "github", 0, "refs/heads/x"))


def test_a_schedules_cause_reads_back() -> None:
    cause = RebuildCause(kind="schedule", origin="schedule:github/acme/a#0@2027", chain=(A,),
                         schedule="0 4 * * 1", timezone="UTC", due="2027-01-04T04:00:00Z")
    assert cause.describe() == "scheduled rebuild (0 4 * * 1, UTC), due 2027-01-04T04:00:00Z"
    assert RebuildCause.from_dict(cause.to_dict()) == cause


def test_a_schedule_rebuilds_a_literal_rules_ref_or_a_regex_rules_matching_refs() -> None:
    literal = BuildRule(index=0, source_type=RefKind.BRANCH, source="main")
    regex = BuildRule(index=1, source_type=RefKind.TAG, source=r"/^v[0-9]+$/")
    remote = ["refs/heads/main", "refs/tags/v2", "refs/tags/v10", "refs/tags/v1-rc",
              "refs/heads/v3", *(f"refs/tags/v{n}" for n in range(100, 130))]
    assert scheduled_refs(literal, remote) == (["refs/heads/main"], [])
    chosen, left_out = scheduled_refs(regex, remote)
    assert len(chosen) == MAX_SCHEDULED_REFS and len(left_out) == 32 - MAX_SCHEDULED_REFS
    assert "refs/tags/v1-rc" not in chosen + left_out
    assert "refs/heads/v3" not in chosen + left_out


def test_each_distinct_base_is_polled_once_at_the_shortest_interval() -> None:
    targets = poll_targets([("acme/a", "github", 21600, "docker.io/library/debian:12"),
                            ("acme/b", "github", 3600, "docker.io/library/debian:12"),
                            ("acme/a", "github", 21600, "docker.io/library/debian:12"),
                            ("acme/b", "github", 3600, "ghcr.io/acme/base:1")])
    assert targets == {
        "docker.io/library/debian:12": PollTarget("docker.io/library/debian:12", 3600,
                                                  (("acme/a", "github"), ("acme/b", "github"))),
        "ghcr.io/acme/base:1": PollTarget("ghcr.io/acme/base:1", 3600, (("acme/b", "github"),)),
    }


@pytest.mark.parametrize(("failures", "retry_after", "wait"), [
    (1, None, 3600), (2, None, 7200), (3, None, 14400), (9, None, 86400),
    (1, 7200.0, 7200), (1, 60.0, 3600), (1, 10**7, 86400),
], ids=["first", "second", "third", "capped", "retry-after-longer", "retry-after-shorter",
        "retry-after-capped"])
def test_failures_back_off_doubling_and_honour_retry_after(failures: int,
                                                           retry_after: float | None,
                                                           wait: int) -> None:
    assert backoff_after(3600, failures, retry_after) == wait
