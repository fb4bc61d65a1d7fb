"""Build rules: loading a rules file's text (core/rules_load.py) and matching pushes
(core/matching.py) into the model of core/rules.py."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.clone_urls import clone_url_problem, url_host
from core.credentials import RegistryAuth, SecretRef
from core.errors import RulesError
from core.events import PushEvent, RefKind
from core.matching import MatchResult, explain_ref, match
from core.plan import PathFilter
from core.rules import BuildRule, RepositoryConfig
from core.rules_load import load_rules
from core.tags import is_valid_reference

SHA = "0123456789abcdef0123456789abcdef01234567"
BEFORE = "fedcba9876543210fedcba9876543210fedcba98"
IMAGE = "127.0.0.1:5000/acme/webapp"
ENV = {"ACME_SECRET": "s3cret", "REG_PW": "hunter2", "VERSION": "1.2"}

HEADER = """\
repositories:
  - name: acme/webapp
    provider: github
    clone_url: https://github.com/acme/webapp.git
    secret: ${ACME_SECRET}
    image: 127.0.0.1:5000/acme/webapp
"""


def rules_yaml(rules: str) -> str:
    """A one-repository file whose `rules:` block is `rules` (indented YAML list items)."""
    return HEADER + "    rules:\n" + textwrap.indent(textwrap.dedent(rules), "      ")


def repo_with(*rules: tuple[str, str, str]) -> RepositoryConfig:
    """A repository loaded from (source_type, source, tag) triples."""
    body = "".join(
        f"- source_type: {kind}\n  source: '{source}'\n  tag: '{tag}'\n"
        for kind, source, tag in rules
    )
    repo = load_rules(rules_yaml(body), environ=ENV).repositories[0]
    return repo


def push(ref: str, **overrides: object) -> PushEvent:
    """A push of `ref` to acme/webapp at SHA."""
    values: dict[str, object] = {"provider": "github", "repository": "acme/webapp", "ref": ref,
                                 "before": BEFORE, "after": SHA}
    values.update(overrides)
    return PushEvent(**values)  # type: ignore[arg-type]


def tags_of(result: MatchResult) -> list[list[str]]:
    """The tags of every plan, without the image part."""
    return [[t.removeprefix(IMAGE + ":") for t in plan.tags] for plan in result.plans]


# ---------------------------------------------------------------- Docker Hub examples


@pytest.mark.parametrize(
    ("rule", "ref", "expected"),
    [
        pytest.param(("tag", "/^v([0-9.]+)$/", "v{\\1}"), "refs/tags/v1.2.3", [["v1.2.3"]],
                     id="DH3-tag-group"),
        pytest.param(("tag", "/^v([0-9.]+)$/", "v{\\1}"), "refs/tags/v1.2.3-rc1", [],
                     id="DH4-rc-no-match"),
        pytest.param(("branch", "/[0-9.]+$/", "version-{sourceref}"), "refs/heads/release-1.2",
                     [["version-release-1.2"]], id="DH5-sourceref-is-whole-name"),
        pytest.param(("branch", "/[0-9.]+$/", "version-{sourceref}"), "refs/heads/1.2-dev", [],
                     id="DH6-not-ending-in-version"),
        pytest.param(("tag", "/^([0-9.]+)$/", "{sourceref},latest"), "refs/tags/1.4",
                     [["1.4", "latest"]], id="DH7-two-templates"),
        pytest.param(("branch", "master", "latest"), "refs/heads/master", [["latest"]],
                     id="DH9-exact"),
        pytest.param(("branch", "master", "latest"), "refs/tags/master", [],
                     id="DH2-branch-rule-ignores-tag"),
        pytest.param(("tag", "/^[0-9.]+$/", "release-{sourceref}"), "refs/tags/1.2.0",
                     [["release-1.2.0"]], id="DH10-versions"),
        pytest.param(("tag", "/^[0-9.]+/", "release-{sourceref}"), "refs/tags/1.2.0-rc",
                     [["release-1.2.0-rc"]], id="DH11-unanchored-end"),
        pytest.param(("branch", "master", "latest"), "refs/heads/jill-css-masterpiece", [],
                     id="literal-is-exact"),
        pytest.param(("branch", "/master/", "latest"), "refs/heads/jill-css-masterpiece",
                     [["latest"]], id="CB5-regex-is-unanchored"),
        pytest.param(("branch", "/.*/", "{sourceref}"), "refs/heads/feature/login",
                     [["feature-login"]], id="slash-branch-sanitised"),
        pytest.param(("tag", "/.*/", "{version},{major}.{minor},latest"), "refs/tags/v1.2.3",
                     [["1.2.3", "1.2", "latest"]], id="MA-semver"),
        pytest.param(("tag", "/.*/", "{version},{major}.{minor},latest"),
                     "refs/tags/v2.0.8-beta.67", [["2.0.8-beta.67", "latest"]],
                     id="MA-prerelease-only-version"),
        pytest.param(("tag", "/.*/", "{major}"), "refs/tags/v1.2", [], id="v1.2-is-not-semver"),
        pytest.param(("tag", "/.*/", "{version}"), "refs/tags/1.0.0+build.5", [["1.0.0-build.5"]],
                     id="build-metadata-sanitised"),
        pytest.param(("branch", "/^(a)?b$/", "x{\\1}y"), "refs/heads/b", [["xy"]],
                     id="group-not-participating-renders-empty"),
        pytest.param(("branch", "/^(a)?b$/", "{\\1}"), "refs/heads/b", [],
                     id="template-rendering-empty-yields-nothing"),
        pytest.param(("branch", "/^(a)?b$/", "{\\1},latest"), "refs/heads/b", [["latest"]],
                     id="empty-template-dropped-others-kept"),
        pytest.param(("branch", "/.*/", "{sourceref},{sourceref},latest,latest"),
                     "refs/heads/main", [["main", "latest"]], id="dedupe"),
        pytest.param(("branch", "/.*/", "{sourceref},feature-x"), "refs/heads/feature/x",
                     [["feature-x"]], id="dedupe-after-sanitising"),
        pytest.param(("branch", "main", "{short_sha},sha-{sha}"), "refs/heads/main",
                     [[SHA[:7], f"sha-{SHA}"]], id="sha"),
    ],
)
def test_docker_hub_examples(
    rule: tuple[str, str, str], ref: str, expected: list[list[str]]
) -> None:
    result = match(repo_with(rule), push(ref))
    assert tags_of(result) == expected
    assert result.explanation()


def test_default_rules() -> None:
    text = HEADER
    repo = load_rules(text, environ=ENV).repositories[0]
    assert repo.default_rules
    assert [r.describe() for r in repo.rules] == ["branch main → latest", "branch master → latest"]
    assert tags_of(match(repo, push("refs/heads/main"))) == [["latest"]]
    assert tags_of(match(repo, push("refs/heads/master"))) == [["latest"]]
    result = match(repo, push("refs/heads/develop"))
    assert result.plans == ()
    assert "develop is not main" in result.explanation()
    assert "develop is not master" in result.explanation()


def test_several_rules_each_plan() -> None:
    repo = repo_with(("branch", "main", "latest"), ("branch", "/^ma/", "edge-{sourceref}"))
    result = match(repo, push("refs/heads/main"))
    assert [p.rule_index for p in result.plans] == [0, 1]
    assert tags_of(result) == [["latest"], ["edge-main"]]


# ---------------------------------------------------------------- reasons and skips


@pytest.mark.parametrize(
    ("event", "manual", "fragment"),
    [
        pytest.param(push("refs/heads/main", after=None, deleted=True), False, "ref deleted",
                     id="deleted"),
        pytest.param(push("refs/heads/main", after=None), False, "ref deleted", id="after-none"),
        pytest.param(push("refs/pull/1/head"), False, "neither a branch", id="pull-ref"),
        pytest.param(push("refs/heads/main", after="ABC"), False, "not a 40-character",
                     id="bad-sha"),
        pytest.param(push("refs/heads/main", head_commit_message="fix\n\n[skip build]"), False,
                     "[skip build]", id="skip-build"),
        pytest.param(push("refs/heads/main", head_commit_message="[Build Skip] docs"), False,
                     "[build skip]", id="build-skip-any-case"),
        pytest.param(push("refs/heads/main", head_commit_message="x [SKIP CI]"), False,
                     "[skip ci]", id="skip-ci"),
    ],
)
def test_skipped(event: PushEvent, manual: bool, fragment: str) -> None:
    result = match(repo_with(("branch", "main", "latest")), event, manual=manual)
    assert result.plans == ()
    assert fragment in result.explanation()


def test_manual_ignores_skip_marker_and_autobuild() -> None:
    text = rules_yaml("""\
        - source_type: branch
          source: main
          tag: latest
          autobuild: false
        """)
    repo = load_rules(text, environ=ENV).repositories[0]
    event = push("refs/heads/main", head_commit_message="[skip ci]")
    assert match(repo, event).plans == ()
    pushed = match(repo, push("refs/heads/main"))
    assert "autobuild is off; only Build now builds it" in pushed.explanation()
    manual = match(repo, event, manual=True)
    assert [p.trigger for p in manual.plans] == ["manual"]


@pytest.mark.parametrize(
    ("rule", "ref", "fragment"),
    [
        pytest.param(("branch", "main", "latest"), "refs/tags/v1",
                     "rule 1 (branch main → latest): source_type is branch but refs/tags/v1 is "
                     "a tag", id="kind"),
        pytest.param(("tag", "/^v([0-9.]+)$/", "v{\\1}"), "refs/tags/v1.2.3-rc1",
                     "rule 1 (tag /^v([0-9.]+)$/ → v{\\1}): tag v1.2.3-rc1 does not match "
                     "/^v([0-9.]+)$/", id="regex"),
        pytest.param(("tag", "/.*/", "{major}"), "refs/tags/v2.0.8-beta.67",
                     "every tag template rendered to nothing ({major} needs a non-prerelease "
                     "semver ref", id="prerelease-major"),
        pytest.param(("tag", "/^v([0-9.]+)$/", "{\\1},latest"), "refs/tags/v1.2.3",
                     f"matches: would push {IMAGE}:1.2.3, {IMAGE}:latest", id="matches"),
        pytest.param(("branch", "/.*/", "{sourceref}"), "refs/heads/...",
                     "not a valid Docker tag", id="invalid-after-sanitising"),
    ],
)
def test_outcome_reason(rule: tuple[str, str, str], ref: str, fragment: str) -> None:
    result = match(repo_with(rule), push(ref))
    assert fragment in result.outcomes[0].reason
    assert result.outcomes[0].matched is bool(result.plans)


# ---------------------------------------------------------------- plan fields and paths

FULL_RULE = """\
- source_type: branch
  source: main
  tag: latest
  dockerfile: build/Dockerfile
  context: /svc
  build_args: {VERSION: "${VERSION}", LITERAL: "$${HOME}", N: 1.10}
  target: prod
  cache: false
  pull: true
  submodules: true
  timeout: 600
  labels: {org.example.team: web}
"""


def test_plan_fields() -> None:
    text = rules_yaml(FULL_RULE).replace("    rules:", "    hooks: true\n    rules:")
    repo = load_rules(text, environ=ENV).repositories[0]
    result = match(repo, push("refs/heads/main", head_commit_message="msg"))
    (plan,) = result.plans
    assert (plan.repository, plan.provider, plan.rule_index) == ("acme/webapp", "github", 0)
    assert (plan.ref, plan.commit, plan.before) == ("refs/heads/main", SHA, BEFORE)
    assert plan.clone_url == "https://github.com/acme/webapp.git"
    assert (plan.image, plan.tags) == (IMAGE, (f"{IMAGE}:latest",))
    assert (plan.dockerfile, plan.context) == ("svc/build/Dockerfile", "svc")
    assert plan.build_args == (("VERSION", "1.2"), ("LITERAL", "${HOME}"), ("N", "1.10"))
    assert plan.labels == (("org.example.team", "web"),)
    assert (plan.target, plan.cache, plan.pull, plan.submodules) == ("prod", False, True, True)
    assert (plan.hooks, plan.timeout, plan.trigger) == (True, 600, "push")
    assert (plan.commit_message, plan.path_filter) == ("msg", None)


@pytest.mark.parametrize(
    ("dockerfile", "context", "expected"),
    [
        pytest.param("Dockerfile", "/", ("Dockerfile", "."), id="root"),
        pytest.param("docker/Dockerfile", "''", ("docker/Dockerfile", "docker"),
                     id="empty-context-dockerfile-folder"),
        pytest.param("Dockerfile", "sub", ("sub/Dockerfile", "sub"), id="relative-context"),
    ],
)
def test_plan_paths(dockerfile: str, context: str, expected: tuple[str, str]) -> None:
    text = rules_yaml(f"""\
        - source_type: branch
          source: main
          dockerfile: {dockerfile}
          context: {context}
        """)
    (plan,) = match(load_rules(text, environ=ENV).repositories[0], push("refs/heads/main")).plans
    assert (plan.dockerfile, plan.context) == expected
    assert plan.tags == (f"{IMAGE}:main",)  # tag defaults to {sourceref}


FILTERED = """\
- source_type: branch
  source: main
  tag: latest
  included_files: ["svc-a/**"]
  ignored_files: ["**/*.md"]
"""


@pytest.mark.parametrize(
    ("overrides", "manual", "builds", "path_filter"),
    [
        pytest.param({"changed_files": ("svc-a/x.go",)}, False, True, False, id="included"),
        pytest.param({"changed_files": ("svc-b/y.go",)}, False, False, False, id="not-included"),
        pytest.param({"changed_files": ("svc-a/README.md",)}, False, False, False, id="ignored"),
        pytest.param({"changed_files": None}, False, True, True, id="unknown-files-worker-decides"),
        pytest.param({"changed_files": None, "before": None}, False, True, False,
                     id="no-before-builds"),
        pytest.param({"changed_files": ("svc-b/y.go",), "created": True}, False, True, False,
                     id="new-branch-not-filtered"),
        pytest.param({"changed_files": ("svc-b/y.go",)}, True, True, False, id="manual-unfiltered"),
    ],
)
def test_path_filters(
    overrides: dict[str, object], manual: bool, builds: bool, path_filter: bool
) -> None:
    repo = load_rules(rules_yaml(FILTERED), environ=ENV).repositories[0]
    result = match(repo, push("refs/heads/main", **overrides), manual=manual)
    assert bool(result.plans) is builds, result.explanation()
    if builds:
        expected = PathFilter(("svc-a/**",), ("**/*.md",)) if path_filter else None
        assert result.plans[0].path_filter == expected


def test_explain_ref() -> None:
    repo = load_rules(rules_yaml(FILTERED), environ=ENV).repositories[0]
    result = explain_ref(repo, "refs/heads/main")
    assert result.plans[0].commit == "0" * 40 and result.plans[0].path_filter is None
    assert "neither a branch" in explain_ref(repo, "main").explanation()


# ---------------------------------------------------------------- loading


def test_load_full_file() -> None:
    text = """\
repositories:
  - name: acme/webapp
    provider: github
    clone_url: https://github.com/acme/webapp.git
    secrets: [old, "${ACME_SECRET}"]
    image: 127.0.0.1:5000/acme/webapp
    registry_auth: {username: bob, password: "${REG_PW}"}
    rules:
      - {source_type: tag, source: "/^v([0-9.]+)$/", tag: "v{\\\\1}"}
  - name: group/sub/project
    provider: gitlab
    clone_url: git@gitlab.example.com:group/sub/project.git
    insecure_no_secret: true
    image: registry.example.com/group/project
  - name: PROJ/slug
    provider: bitbucket
    clone_url: file:///srv/git/slug.git
    secret: x
    image: localhost:5000/slug
"""
    rules = load_rules(text, environ=ENV)
    webapp = rules.find("github", "acme/webapp")
    assert webapp is not None and webapp.secrets == ("old", "s3cret")
    assert webapp.registry_auth == RegistryAuth("bob", SecretRef(env="REG_PW"))
    assert webapp.rules[0].source == "/^v([0-9.]+)$/" and webapp.rules[0].tag == "v{\\1}"
    assert "hunter2" not in repr(webapp) and "s3cret" not in repr(webapp)
    assert rules.find("gitlab", "acme/webapp") is None
    assert rules.by_name("group/sub/project") is not None
    assert rules.by_name("PROJ/slug") is not None


def test_build_rule_defaults() -> None:
    rule = load_rules(rules_yaml("- {source_type: branch, source: main}\n"),
                      environ=ENV).repositories[0].rules[0]
    assert rule == BuildRule(index=0, source_type=RefKind.BRANCH, source="main",
                             tag="{sourceref}")


R = "repositories[0]"
RULE = "repositories[0].rules[0]"


@pytest.mark.parametrize(
    ("text", "line", "path", "fragment"),
    [
        pytest.param(rules_yaml("- {source_type: branch, source: '/[abc/'}\n"), 8,
                     f"{RULE}.source", "invalid regex (RE2 syntax, see the README): missing ]: "
                     "[abc", id="invalid-regex"),
        pytest.param(rules_yaml("- {source_type: tag, source: '/^(v)\\1$/'}\n"), 8,
                     f"{RULE}.source", "(RE2 has no backreferences)", id="backreference"),
        pytest.param(rules_yaml("- {source_type: tag, source: '/^v(?=1)/'}\n"), 8,
                     f"{RULE}.source", "(RE2 has no lookahead or lookbehind)", id="lookahead"),
        pytest.param(rules_yaml("- {source_type: branch, source: ''}\n"), 8, f"{RULE}.source",
                     "must not be empty", id="empty-source"),
        pytest.param(rules_yaml("- {source: main}\n"), 8, f"{RULE}.source_type", "is required",
                     id="missing-source-type"),
        pytest.param(rules_yaml("- {source_type: pr, source: main}\n"), 8,
                     f"{RULE}.source_type", "must be branch or tag", id="bad-source-type"),
        pytest.param(rules_yaml("- {source_type: branch, source: main, sourc: x}\n"), 8, RULE,
                     "unknown key 'sourc'", id="unknown-key"),
        pytest.param(HEADER + "    colour: blue\n", 7, R, "unknown key 'colour'",
                     id="unknown-repository-key"),
        pytest.param(rules_yaml("- source_type: branch\n  source: main\n  source: dev\n"), 10,
                     f"{RULE}.source", "duplicate key", id="duplicate-key"),
        pytest.param(HEADER.replace("${ACME_SECRET}", "${NOPE}"), 5, f"{R}.secret",
                     "environment variable NOPE is not set", id="missing-env-var"),
        pytest.param(rules_yaml("- {source_type: branch, source: main, context: ../..}\n"), 8,
                     f"{RULE}.context", "'..'", id="context-dotdot"),
        pytest.param(rules_yaml("- {source_type: branch, source: main, dockerfile: /etc/x}\n"),
                     8, f"{RULE}.dockerfile", "must be relative", id="absolute-dockerfile"),
        pytest.param(rules_yaml("- {source_type: branch, source: main, "
                                "dockerfile: a/../../Dockerfile}\n"), 8, f"{RULE}.dockerfile",
                     "'..'", id="dotdot-anywhere"),
        pytest.param(HEADER.replace("    secret: ${ACME_SECRET}\n", ""), 2, R,
                     "no webhook secret", id="no-secret"),
        pytest.param(HEADER.replace("https://github.com/acme/webapp.git",
                                    "'ext::sh -c touch% /tmp/pwned'"), 4, f"{R}.clone_url",
                     "clone_url", id="ext-clone-url"),
        pytest.param(HEADER.replace("https://github.com/acme/webapp.git", "/srv/repos/x"), 4,
                     f"{R}.clone_url", "plain local paths are refused", id="local-path-url"),
        pytest.param(rules_yaml("- {source_type: branch, source: main, tag: '{foo}'}\n"), 8,
                     f"{RULE}.tag", "unknown placeholder {foo}", id="unknown-placeholder"),
        pytest.param(HEADER + "    rules: []\n", 7, f"{R}.rules", "rules: []",
                     id="empty-rules"),
        pytest.param(rules_yaml("- {source_type: branch, source: main, tag: latest}\n"
                                "- {source_type: branch, source: /.*/, tag: 'latest,x'}\n"), 9,
                     "repositories[0].rules[1].tag", "two builds racing for one tag",
                     id="colliding-literal-tags"),
        pytest.param(rules_yaml("- {source_type: branch, source: main, tag: latest}\n"
                                "- {source_type: branch, source: main, tag: 'latest'}\n"), 9,
                     "repositories[0].rules[1].tag", "two builds racing", id="colliding-same-src"),
        pytest.param(rules_yaml("- {source_type: branch, source: main, tag: '...'}\n"), 8,
                     f"{RULE}.tag", "not a valid Docker tag", id="literal-tag-invalid"),
        pytest.param(rules_yaml("- {source_type: branch, source: main, tag: 'v{\\1}'}\n"), 8,
                     f"{RULE}.tag", "not a /regex/", id="group-on-literal-source"),
        pytest.param(rules_yaml("- {source_type: branch, source: main, tag: '{major}'}\n"), 8,
                     f"{RULE}.tag", "never renders", id="semver-on-literal-non-semver"),
        pytest.param(rules_yaml("- {source_type: branch, source: main, timeout: 0}\n"), 8,
                     f"{RULE}.timeout", "positive", id="timeout-zero"),
        pytest.param(rules_yaml("- {source_type: branch, source: main, timeout: '60'}\n"), 8,
                     f"{RULE}.timeout", "expected an integer", id="timeout-string"),
        pytest.param(rules_yaml("- {source_type: branch, source: main, cache: maybe}\n"), 8,
                     f"{RULE}.cache", "expected true or false", id="bool-not-bool"),
        pytest.param(rules_yaml("- {source_type: branch, source: main, "
                                "included_files: ['../x']}\n"), 8,
                     f"{RULE}.included_files[0]", "'..'", id="glob-dotdot"),
        pytest.param(HEADER.replace("127.0.0.1:5000/acme/webapp", "Acme/WebApp"), 6,
                     f"{R}.image", "lowercase", id="image-uppercase"),
        pytest.param(HEADER.replace("provider: github", "provider: svn"), 3, f"{R}.provider",
                     "unknown provider", id="unknown-provider"),
        pytest.param(HEADER + HEADER.removeprefix("repositories:\n"), 7, "repositories[1].name",
                     "already configured", id="duplicate-repository"),
        pytest.param(HEADER.replace("${ACME_SECRET}", "!!python/object:os.system x"), 5,
                     f"{R}.secret", "expected a string", id="python-tag"),
        pytest.param(HEADER.replace("${ACME_SECRET}", "'${BROKEN'"), 5, f"{R}.secret",
                     "invalid ${...} reference", id="unterminated-var"),
        pytest.param("repositories:\n  - name: [unclosed\n", 3, "", "invalid YAML",
                     id="yaml-syntax"),
        pytest.param("", 1, "", "the file is empty", id="empty-file"),
    ],
)
def test_load_errors(text: str, line: int, path: str, fragment: str) -> None:
    with pytest.raises(RulesError) as info:
        load_rules(text, environ=ENV, filename="build_rules.yaml")
    prefix = f"build_rules.yaml:{line}: {path}" if path else f"build_rules.yaml:{line}: "
    found = [e for e in info.value.errors if e.startswith(prefix) and fragment in e]
    assert found, info.value.errors


def test_errors_are_collected() -> None:
    text = rules_yaml("- {source_type: branch, source: '/[/'}\n- {source: x, colour: red}\n")
    with pytest.raises(RulesError) as info:
        load_rules(text.replace("${ACME_SECRET}", "${NOPE}"), environ=ENV)
    assert len(info.value.errors) == 4, info.value.errors


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        pytest.param("https://github.com/acme/webapp.git", True, id="https"),
        pytest.param("http://git.local/x.git", False, id="http"),
        pytest.param("ssh://git@host:22/x.git", True, id="ssh"),
        pytest.param("git://host/x.git", False, id="git"),
        pytest.param("file:///srv/git/x.git", True, id="file"),
        pytest.param("git@github.com:acme/webapp.git", True, id="scp-like"),
        pytest.param("ext::sh -c touch% /tmp/pwned", False, id="ext"),
        pytest.param("fd::17", False, id="transport-double-colon"),
        pytest.param("--upload-pack=touch /tmp/x", False, id="option"),
        pytest.param("-u/x", False, id="leading-dash"),
        pytest.param("ssh://-oProxyCommand=touch%20x/y", False, id="ssh-option-host"),
        pytest.param("git@-oProxyCommand=x:y", False, id="scp-option-host"),
        pytest.param("git@host:/srv/x.git", True, id="scp-absolute-path"),
        pytest.param("/srv/repos/x", False, id="local-path"),
        pytest.param("../x", False, id="relative-path"),
        pytest.param("ftp://host/x", False, id="ftp-scheme"),
        pytest.param("https://host/x\n", False, id="newline"),
        pytest.param("https://", False, id="no-host"),
        pytest.param("", False, id="empty"),
    ],
)
def test_clone_url(url: str, ok: bool) -> None:
    assert (clone_url_problem(url) is None) is ok


def test_plaintext_clone_urls_need_insecure_clone_url() -> None:
    text = HEADER.replace("https://github.com/acme/webapp.git", "http://git.local/x.git")
    with pytest.raises(RulesError) as caught:
        load_rules(text, environ=ENV, filename="r.yaml")
    assert "clone_url uses plaintext http://; use https:// or ssh://, or set " \
           "insecure_clone_url: true" in str(caught.value)
    repo = load_rules(text + "    insecure_clone_url: true\n", environ=ENV).repositories[0]
    assert repo.clone_url == "http://git.local/x.git"


@pytest.mark.parametrize(("url", "host"), [
    pytest.param("https://user@GitHub.com:443/a/b.git", "github.com", id="https"),
    pytest.param("git@gitlab.example.com:group/x.git", "gitlab.example.com", id="scp"),
    pytest.param("ssh://git@[::1]:22/x.git", "::1", id="ipv6"),
    pytest.param("file:///srv/x.git", "", id="file"),
    pytest.param("../sibling.git", None, id="relative"),
])
def test_url_host(url: str, host: str | None) -> None:
    assert url_host(url) == host


# ---------------------------------------------------------------- properties

ref_names = st.text(min_size=1, max_size=300)
templates = st.sampled_from([
    "{sourceref}", "{sourceref},latest", "v{\\1}", "{version},{major}.{minor}", "{\\1}-{short_sha}",
    "release-{sourceref}", "{patch}", "{sha}",
])


@given(ref_names, st.sampled_from(["refs/heads/", "refs/tags/"]), templates)
def test_every_reference_is_valid(name: str, prefix: str, template: str) -> None:
    kind = "branch" if prefix == "refs/heads/" else "tag"
    repo = repo_with((kind, "/(.*)/", template.replace("'", "''")))
    result = match(repo, push(prefix + name))
    for plan in result.plans:
        assert all(is_valid_reference(ref) for ref in plan.tags)
        assert len(set(plan.tags)) == len(plan.tags)
    assert result.explanation()


@given(st.text())
def test_match_never_raises(ref: str) -> None:
    repo = repo_with(("branch", "/(x)?/", "{sourceref},{\\1}a"), ("tag", "/.*/", "{version}"))
    assert isinstance(match(repo, push(ref)).explanation(), str)


GIT_AUTH_BASE = """repositories:
  - name: acme/private
    provider: github
    clone_url: https://git.example.com/acme/private.git
    secret: s
    image: registry.example.com/acme/private
"""


@pytest.mark.parametrize(("block", "problem"), [
    pytest.param("    git_auth: {username: bot}\n", "exactly one of token or ssh_key_file",
                 id="neither"),
    pytest.param("    git_auth: {token: \"${T}\", ssh_key_file: /k}\n",
                 "exactly one of token or ssh_key_file", id="both"),
    pytest.param("    git_auth: {ssh_key_file: keys/deploy}\n", "must be an absolute path",
                 id="relative-key"),
    pytest.param("    git_auth: {token: t, password: p}\n", "password", id="unknown-key"),
])
def test_git_auth_errors(block: str, problem: str) -> None:
    with pytest.raises(RulesError) as caught:
        load_rules(GIT_AUTH_BASE + block, environ={}, filename="r.yaml")
    assert "repositories[0].git_auth" in str(caught.value) and problem in str(caught.value)


def test_git_auth_token_is_a_reference_the_worker_resolves() -> None:
    ruleset = load_rules(GIT_AUTH_BASE + '    git_auth: {token: "${GIT_TOKEN}"}\n',
                         environ={"GIT_TOKEN": "tok-123"})
    auth = ruleset.repositories[0].git_auth
    assert auth is not None and auth.username == "git"
    assert auth.token == SecretRef(env="GIT_TOKEN")
    assert "tok-123" not in repr(ruleset)


@pytest.mark.parametrize(("value", "problem"), [
    pytest.param("tok-123", "write this secret as ${VARIABLE}", id="literal"),
    pytest.param('"prefix-${GIT_TOKEN}"', "write this secret as ${VARIABLE}", id="embedded"),
    pytest.param('"${SHORT}"', "shorter than 3 characters", id="too-short"),
    pytest.param("{file: tokens/git}", "must be an absolute path", id="relative-file"),
    pytest.param("[a, b]", "expected ${VARIABLE} or {file: /path}, got a list", id="a-list"),
])
def test_worker_secrets_must_be_references(value: str, problem: str) -> None:
    text = GIT_AUTH_BASE + f"    git_auth: {{token: {value}}}\n"
    with pytest.raises(RulesError) as caught:
        load_rules(text, environ={"GIT_TOKEN": "tok-123", "SHORT": "ab"}, filename="r.yaml")
    assert "repositories[0].git_auth.token" in str(caught.value)
    assert problem in str(caught.value) and "tok-123" not in str(caught.value)


def test_worker_secrets_may_be_files_or_variables_set_only_on_workers() -> None:
    block = ("    git_auth: {token: {file: /etc/autobuild/git-token}}\n"
             '    registry_auth: {username: bot, password: "${ONLY_ON_WORKERS}"}\n')
    repo = load_rules(GIT_AUTH_BASE + block, environ={}).repositories[0]
    assert repo.git_auth is not None and repo.git_auth.token == SecretRef(
        file="/etc/autobuild/git-token")
    assert repo.registry_auth == RegistryAuth("bot", SecretRef(env="ONLY_ON_WORKERS"))


def test_secret_build_args_must_name_build_args() -> None:
    text = GIT_AUTH_BASE + textwrap.indent(textwrap.dedent("""\
        rules:
          - source_type: branch
            source: main
            build_args: {NPM_TOKEN: "${NPM_TOKEN}", MODE: fast}
            secret_build_args: [NPM_TOKEN, MISSING]
        """), "    ")
    with pytest.raises(RulesError) as caught:
        load_rules(text, environ={}, filename="r.yaml")
    assert "repositories[0].rules[0].secret_build_args: 'MISSING' is not one of build_args" in str(
        caught.value)
    rule = load_rules(text.replace(", MISSING", ""), environ={}).repositories[0].rules[0]
    assert rule.secret_build_args == (("NPM_TOKEN", SecretRef(env="NPM_TOKEN")),)
    assert rule.build_args == (("MODE", "fast"),)
    with pytest.raises(RulesError) as caught:
        load_rules(text.replace(", MISSING", "").replace('"${NPM_TOKEN}"', "abc"), environ={},
                   filename="r.yaml")
    assert "repositories[0].rules[0].build_args.NPM_TOKEN: write this secret as" in str(
        caught.value)


@pytest.mark.parametrize("block", [
    pytest.param("    secrets: hunter2-webhook-secret\n", id="secrets-not-a-list"),
    pytest.param("    secret: [hunter2-webhook-secret]\n", id="secret-a-list"),
    pytest.param("    registry_auth: {username: u, password: [hunter2-webhook-secret]}\n",
                 id="password-a-list"),
    pytest.param("    trigger: {token: 1}\n", id="unknown-key-next-to-it"),
])
def test_errors_about_secret_fields_never_echo_their_values(block: str) -> None:
    text = GIT_AUTH_BASE.replace("    secret: s\n", "") + block
    with pytest.raises(RulesError) as caught:
        load_rules(text, environ={}, filename="r.yaml")
    assert "hunter2" not in str(caught.value)
    assert "r.yaml:" in str(caught.value)


def test_a_catastrophic_regex_matches_in_linear_time() -> None:
    """`/^(\\d+\\.?)+$/` loads; with backtracking, a 60-character tag would take hours to fail.
    Run in a subprocess so that a regression cannot hang the suite."""
    program = textwrap.dedent("""\
        from core.events import PushEvent
        from core.matching import match
        from core.rules_load import load_rules
        text = '''repositories:
          - name: a/b
            provider: github
            clone_url: https://example.com/a/b.git
            secret: s3cret
            image: 127.0.0.1:5000/a/b
            rules:
              - {source_type: tag, source: '/^(\\\\d+\\\\.?)+$/', tag: '{sourceref}'}
        '''
        repo = load_rules(text, environ={}).repositories[0]
        name = "1" * 60 + "x"
        event = PushEvent(provider="github", repository="a/b", ref="refs/tags/" + name,
                          before=None, after="a" * 40, created=True)
        print(len(match(repo, event).plans))
    """)
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                          timeout=60, cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "0"
