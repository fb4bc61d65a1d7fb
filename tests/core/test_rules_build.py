"""A rule's build options: builder, platforms and build secrets, loaded and carried in plans."""

from __future__ import annotations

import pytest

from core.credentials import SecretRef
from core.errors import RulesError
from core.matching import match
from core.plan import BuildPlan
from core.rules import BuildRule
from core.rules_load import load_rules
from tests.core.test_rules import ENV, push, rules_yaml

RULE = "repositories[0].rules[0]"


def rule_of(body: str, **options: str) -> BuildRule:
    """The one rule a rules file with this rule body loads to."""
    return load_rules(rules_yaml(body), environ=ENV, **options).repositories[0].rules[0]


def load_error(body: str, **options: str) -> list[str]:
    """The errors of a rules file with this rule body."""
    with pytest.raises(RulesError) as caught:
        load_rules(rules_yaml(body), environ=ENV, filename="rules.yaml", **options)
    return caught.value.errors


def test_buildkit_is_the_default_builder_and_the_server_may_change_it() -> None:
    body = "- {source_type: branch, source: main}\n"
    assert rule_of(body).builder == "buildkit"
    assert rule_of(body, builder="classic").builder == "classic"
    assert rule_of("- {source_type: branch, source: main, builder: buildkit}\n",
                   builder="classic").builder == "buildkit"
    repo = load_rules(rules_yaml("").replace("    rules:\n", ""), environ=ENV,
                      builder="classic").repositories[0]
    assert {r.builder for r in repo.rules} == {"classic"}  # Docker Hub's default rules too


def test_platforms_and_secrets_load_as_references() -> None:
    rule = rule_of("""\
        - source_type: branch
          source: main
          platforms: [linux/amd64, linux/arm64/v8]
          secrets:
            npm_token: ${NPM_TOKEN}
            pip.conf: {file: /etc/autobuild/pip.conf}
        """)
    assert rule.platforms == ("linux/amd64", "linux/arm64/v8")
    assert rule.secrets == (("npm_token", SecretRef(env="NPM_TOKEN")),
                            ("pip.conf", SecretRef(file="/etc/autobuild/pip.conf")))


@pytest.mark.parametrize(("body", "line", "field", "fragment"), [
    pytest.param("- {source_type: branch, source: main, builder: kaniko}\n", 8,
                 f"{RULE}.builder", "unknown builder 'kaniko' (known: buildkit, classic)",
                 id="unknown-builder"),
    pytest.param("- {source_type: branch, source: main, platforms: []}\n", 8,
                 f"{RULE}.platforms", "lists no platform", id="no-platform"),
    pytest.param("- {source_type: branch, source: main, platforms: linux/arm64}\n", 8,
                 f"{RULE}.platforms", "expected a list", id="platforms-not-a-list"),
    pytest.param("- source_type: branch\n  source: main\n  platforms:\n    - linux/amd64\n"
                 "    - arm64\n", 12, f"{RULE}.platforms[1]",
                 "invalid platform 'arm64' (expected os/arch[/variant]", id="bad-platform"),
    pytest.param("- {source_type: branch, source: main, platforms: [linux/amd64, linux/amd64]}\n",
                 8, f"{RULE}.platforms[1]", "linux/amd64 is listed more than once",
                 id="platform-twice"),
    pytest.param("- {source_type: branch, source: main, builder: classic, "
                 "platforms: [linux/amd64, linux/arm64]}\n", 8, f"{RULE}.platforms",
                 "multi-platform images need BuildKit, and this rule builds with the classic "
                 "builder (builder: classic): set builder: buildkit", id="platforms-classic"),
    pytest.param("- {source_type: branch, source: main, builder: classic, "
                 "secrets: {tok: '${NPM_TOKEN}'}}\n", 8, f"{RULE}.secrets",
                 "build secrets need BuildKit: the classic builder cannot mount them "
                 "(RUN --mount=type=secret)", id="secrets-classic"),
    pytest.param("- {source_type: branch, source: main, secrets: {tok: hunter2-literal}}\n", 8,
                 f"{RULE}.secrets.tok", "write this secret as ${VARIABLE}", id="literal-secret"),
    pytest.param("- {source_type: branch, source: main, secrets: {tok: {file: etc/x}}}\n", 8,
                 f"{RULE}.secrets.tok.file", "must be an absolute path", id="relative-file"),
    pytest.param("- {source_type: branch, source: main, secrets: {'-bad': '${NPM_TOKEN}'}}\n", 8,
                 f"{RULE}.secrets", "invalid build secret id '-bad'", id="bad-secret-id"),
    pytest.param("- {source_type: branch, source: main, secrets: [tok]}\n", 8,
                 f"{RULE}.secrets", "expected a mapping", id="secrets-not-a-mapping"),
])
def test_bad_build_options_name_file_line_and_field(body: str, line: int, field: str,
                                                     fragment: str) -> None:
    errors = load_error(body)
    assert [e for e in errors if e.startswith(f"rules.yaml:{line}: {field}: ")
            and fragment in e], errors


def test_the_server_default_classic_is_named_when_it_forbids_secrets() -> None:
    errors = load_error("- {source_type: branch, source: main, secrets: {tok: '${NPM_TOKEN}'}}\n",
                        builder="classic")
    assert any("(AUTOBUILD_BUILDER=classic, the default here): set builder: buildkit" in e
               for e in errors), errors


def test_a_secret_value_never_reaches_the_plan() -> None:
    environ = dict(ENV, NPM_TOKEN="npm-secret-value-123")
    repo = load_rules(rules_yaml("""\
        - source_type: branch
          source: main
          platforms: [linux/amd64, linux/arm64]
          secrets: {npm_token: '${NPM_TOKEN}'}
        """), environ=environ).repositories[0]
    (plan,) = match(repo, push("refs/heads/main")).plans
    assert (plan.builder, plan.platforms) == ("buildkit", ("linux/amd64", "linux/arm64"))
    assert plan.secrets == (("npm_token", SecretRef(env="NPM_TOKEN")),)
    stored = plan.to_dict()
    assert "npm-secret-value-123" not in repr(stored)
    assert BuildPlan.from_dict(stored) == plan


def test_plans_stored_before_builders_read_back_as_classic() -> None:
    repo = load_rules(rules_yaml("- {source_type: branch, source: main}\n"),
                      environ=ENV).repositories[0]
    (plan,) = match(repo, push("refs/heads/main")).plans
    old = {k: v for k, v in plan.to_dict().items() if k not in ("builder", "platforms",
                                                                 "secrets")}
    legacy = BuildPlan.from_dict(old)
    assert (legacy.builder, legacy.platforms, legacy.secrets) == ("classic", (), ())
