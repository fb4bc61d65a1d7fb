"""Rules keys for moving over from Docker Hub: its spellings, build environment variables,
trigger tokens, pull credentials and LFS (core/rules_load.py and friends)."""

from __future__ import annotations

import textwrap

import pytest

from core.credentials import PullAuth, SecretRef
from core.errors import RulesError
from core.events import RefKind
from core.matching import explain_ref
from core.plan import BuildPlan
from core.rules import RepositoryConfig
from core.rules_load import load_rules
from tests.core.test_rules import HEADER

ENV = {"ACME_SECRET": "s3cret", "TRIGGER": "trigger-token-0123456789", "STAGE": "prod"}
RULE = "    rules:\n      - {source_type: branch, source: main, tag: latest}\n"


def load(repository: str = "", rules: str = RULE) -> RepositoryConfig:
    """The repository of HEADER plus `repository` keys (4-space indented) and `rules`."""
    text = HEADER + textwrap.indent(textwrap.dedent(repository), "    ") + rules
    return load_rules(text, environ=ENV).repositories[0]


def errors(repository: str = "", rules: str = RULE) -> list[str]:
    """The load errors of such a file."""
    with pytest.raises(RulesError) as raised:
        load(repository, rules)
    return raised.value.errors


def rule(body: str) -> str:
    """A rules block of one rule with these keys (flow mapping body)."""
    return "    rules:\n      - {source: main, tag: latest, " + body + "}\n"


@pytest.mark.parametrize("spelling", ["Branch", "BRANCH", "branch", "bRaNcH"])
def test_source_type_is_read_in_any_case(spelling: str) -> None:
    repo = load(rules=rule(f"source_type: {spelling}"))
    assert repo.rules[0].source_type is RefKind.BRANCH
    assert explain_ref(repo, "refs/heads/main").plans[0].tags == (
        "127.0.0.1:5000/acme/webapp:latest",)


def test_tag_spelled_as_docker_hub_does() -> None:
    repo = load(rules=rule("source_type: Tag"))
    assert repo.rules[0].source_type is RefKind.TAG
    assert explain_ref(repo, "refs/heads/main").plans == ()


def test_unknown_source_type_names_both_spellings() -> None:
    (problem,) = errors(rules=rule("source_type: Commit"))
    assert problem.endswith("repositories[0].rules[0].source_type: must be branch or tag "
                            "(Branch and Tag as Docker Hub spells them), not 'Commit'")


@pytest.mark.parametrize(("keys", "cache"), [
    ("nocache: true", False), ("nocache: false", True), ("cache: false", False), ("", True)])
def test_nocache_is_the_inverse_of_cache(keys: str, cache: bool) -> None:
    repo = load(rules=rule(f"source_type: branch{', ' + keys if keys else ''}"))
    assert repo.rules[0].cache is cache
    assert explain_ref(repo, "refs/heads/main").plans[0].cache is cache


def test_cache_and_nocache_together_is_an_error_naming_both() -> None:
    (problem,) = errors(rules=rule("source_type: branch, cache: true, nocache: true"))
    assert "rules[0].nocache: set either cache or nocache" in problem
    assert "nocache: true is cache: false" in problem


def test_env_of_repository_and_rule_reach_the_plan_rule_winning() -> None:
    repo = load("env: {STAGE: '${STAGE}', REGION: eu, NPM_TOKEN: '${NPM_TOKEN}'}\n"
                "secret_env: [NPM_TOKEN]\n",
                rules=rule("source_type: branch, env: {REGION: us, FLAVOUR: slim}"))
    plan = explain_ref(repo, "refs/heads/main").plans[0]
    assert dict(plan.env) == {"STAGE": "prod", "REGION": "us", "FLAVOUR": "slim"}
    assert plan.secret_env == (("NPM_TOKEN", SecretRef(env="NPM_TOKEN")),)
    assert BuildPlan.from_dict(plan.to_dict()) == plan
    assert "NPM_TOKEN" not in str(plan.to_dict()["env"])


def test_a_rule_can_make_a_repository_secret_plain() -> None:
    repo = load("env: {TOKEN_URL: '${NPM_TOKEN}'}\nsecret_env: [TOKEN_URL]\n",
                rules=rule("source_type: branch, env: {TOKEN_URL: https://example.com}"))
    plan = explain_ref(repo, "refs/heads/main").plans[0]
    assert plan.env == (("TOKEN_URL", "https://example.com"),) and plan.secret_env == ()


@pytest.mark.parametrize(("keys", "fragment"), [
    ("env: {NPM_TOKEN: literal-value}\nsecret_env: [NPM_TOKEN]\n",
     "env.NPM_TOKEN: write this secret as ${VARIABLE}"),
    ("env: {A: b}\nsecret_env: [MISSING]\n", "secret_env: 'MISSING' is not one of env"),
    ("env: {SOURCE_BRANCH: x}\n", "env: SOURCE_BRANCH is set by Autobuild for hooks"),
    ("env: {'1NAME': x}\n", "env: '1NAME' is not an environment variable name"),
    ("env: {A: '${UNSET_VARIABLE}'}\n", "env.A: environment variable UNSET_VARIABLE is not set"),
])
def test_env_errors(keys: str, fragment: str) -> None:
    assert any(fragment in problem for problem in errors(keys)), errors(keys)


def test_trigger_tokens_one_or_a_list_literal_or_from_the_environment() -> None:
    assert load("trigger_token: ${TRIGGER}\n").trigger_tokens == ("trigger-token-0123456789",)
    repo = load("trigger_token: [old-token-abcdefghijk, '${TRIGGER}']\n")
    assert repo.trigger_tokens == ("old-token-abcdefghijk", "trigger-token-0123456789")
    assert "trigger-token" not in repr(repo)


@pytest.mark.parametrize(("value", "fragment"), [
    ("short", "must have 16 to 200 characters"),
    ("'has spaces in the token value'", "may hold only letters, digits"),
    ("[]", "must list at least one token"),
    ("[same-token-0123456789, same-token-0123456789]", "lists the same token twice"),
])
def test_trigger_token_errors_never_quote_the_token(value: str, fragment: str) -> None:
    problems = errors(f"trigger_token: {value}\n")
    assert any(fragment in p for p in problems), problems
    assert not any("has spaces" in p or "same-token" in p for p in problems)


def test_a_trigger_token_names_one_repository() -> None:
    second = HEADER.replace("acme/webapp", "acme/other").replace("repositories:\n", "")
    text = (HEADER + "    trigger_token: shared-token-0123456789\n" + RULE + second
            + "    trigger_token: shared-token-0123456789\n" + RULE)
    with pytest.raises(RulesError) as raised:
        load_rules(text, environ=ENV)
    assert any("repositories[1].trigger_token: a token of repositories[0] is used here too"
               in p for p in raised.value.errors)


def test_pull_auth_reaches_the_plan_as_references() -> None:
    repo = load("pull_auth:\n"
                "  - {registry: 127.0.0.1:5001, username: puller, password: '${BASE_PW}'}\n"
                "  - {registry: index.docker.io, username: me, password: {file: /etc/hub}}\n")
    plan = explain_ref(repo, "refs/heads/main").plans[0]
    assert plan.pull_auth == (PullAuth("127.0.0.1:5001", "puller", SecretRef(env="BASE_PW")),
                              PullAuth("docker.io", "me", SecretRef(file="/etc/hub")))
    assert BuildPlan.from_dict(plan.to_dict()).pull_auth == plan.pull_auth


@pytest.mark.parametrize(("entries", "fragment"), [
    ("  - {registry: 'https://reg.example.com', username: u, password: '${P}'}\n",
     "pull_auth[0].registry: 'https://reg.example.com' is not a registry host"),
    ("  - {registry: reg.example.com, username: u, password: plain-text}\n",
     "pull_auth[0].password: write this secret as ${VARIABLE}"),
    ("  - {registry: docker.io, username: u, password: '${P}'}\n"
     "  - {registry: registry-1.docker.io, username: v, password: '${P}'}\n",
     "pull_auth[1].registry: docker.io has credentials already"),
    ("  - {registry: reg.example.com, password: '${P}'}\n", "pull_auth[0].username: is required"),
])
def test_pull_auth_errors(entries: str, fragment: str) -> None:
    problems = errors("pull_auth:\n" + entries)
    assert any(fragment in p for p in problems), problems


def test_lfs_is_off_unless_a_rule_sets_it() -> None:
    assert explain_ref(load(), "refs/heads/main").plans[0].lfs is False
    plan = explain_ref(load(rules=rule("source_type: branch, lfs: true")),
                       "refs/heads/main").plans[0]
    assert plan.lfs is True
    assert plan.inputs_key() != BuildPlan.from_dict({**plan.to_dict(), "lfs": False}
                                                    ).inputs_key()
