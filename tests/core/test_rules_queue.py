"""The `queue:` key: a rule's or a repository's builds wait on that RQ queue, named at load."""

from __future__ import annotations

import pytest

from core.errors import RulesError
from core.matching import match
from core.plan import BuildPlan
from core.rules_load import load_rules
from tests.core.test_rules import ENV, push, rules_yaml
from tests.core.test_rules_build import RULE, load_error, rule_of

MAIN = "- {source_type: branch, source: main}\n"


def with_repository_queue(body: str, queue: str) -> str:
    """A one-repository rules file whose repository sets `queue`."""
    return rules_yaml(body).replace("    rules:\n", f"    queue: {queue}\n    rules:\n")


def test_builds_wait_on_the_builds_queue_unless_a_rule_or_its_repository_names_one() -> None:
    assert rule_of(MAIN).queue is None
    repo = load_rules(rules_yaml(MAIN), environ=ENV).repositories[0]
    assert [p.queue for p in match(repo, push("refs/heads/main")).plans] == ["builds"]

    repo = load_rules(with_repository_queue(
        MAIN + "- {source_type: branch, source: main, tag: big, queue: large-memory}\n",
        "arm64"), environ=ENV).repositories[0]

    assert (repo.queue, [r.queue for r in repo.rules]) == ("arm64", [None, "large-memory"])
    plans = match(repo, push("refs/heads/main")).plans
    assert [p.queue for p in plans] == ["arm64", "large-memory"]


def test_the_queue_travels_with_the_plan_and_old_plans_read_back_on_builds() -> None:
    repo = load_rules(rules_yaml("- {source_type: branch, source: main, queue: arm64}\n"),
                      environ=ENV).repositories[0]
    (plan,) = match(repo, push("refs/heads/main")).plans
    assert BuildPlan.from_dict(plan.to_dict()).queue == "arm64"
    old = {k: v for k, v in plan.to_dict().items() if k != "queue"}
    assert BuildPlan.from_dict(old).queue == "builds"
    # another queue's workers may build for another platform: no image reuse across queues
    assert plan.inputs_key() != BuildPlan.from_dict(old).inputs_key()


@pytest.mark.parametrize(("queue", "fragment"), [
    pytest.param("notifications", "'notifications' is the notifier's queue", id="notifier"),
    pytest.param("ARM64", "invalid queue name 'ARM64'", id="uppercase"),
    pytest.param("-arm", "invalid queue name '-arm'", id="leading-dash"),
    pytest.param("arm 64", "invalid queue name 'arm 64'", id="space"),
    pytest.param("a" * 41, "at most 40 characters", id="too-long"),
    pytest.param("'rq:queue:x'", "invalid queue name 'rq:queue:x'", id="colon"),
])
def test_bad_queue_names_are_load_errors_on_rules_and_repositories(queue: str,
                                                                    fragment: str) -> None:
    errors = load_error(f"- {{source_type: branch, source: main, queue: {queue}}}\n")
    assert [e for e in errors if e.startswith(f"rules.yaml:8: {RULE}.queue: ")
            and fragment in e], errors

    with pytest.raises(RulesError) as caught:
        load_rules(with_repository_queue(MAIN, queue), environ=ENV, filename="rules.yaml")
    assert any(e.startswith("rules.yaml:7: repositories[0].queue: ") and fragment in e
               for e in caught.value.errors), caught.value.errors


@pytest.mark.parametrize("queue", ["arm64", "large_memory", "gpu-2", "0"])
def test_good_queue_names_load(queue: str) -> None:
    assert rule_of(f"- {{source_type: branch, source: main, queue: '{queue}'}}\n").queue == queue
