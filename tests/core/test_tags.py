"""Tag templates, sanitising and reference validation (core/tags.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.tags import (
    is_valid_name,
    is_valid_reference,
    is_valid_tag,
    parse_semver,
    reference_problem,
    render_template,
    repository_problem,
    sanitize_tag,
    split_templates,
    template_problems,
    template_variables,
)

SHA = "0123456789abcdef0123456789abcdef01234567"
DIGEST = "sha256:be178c0543eb17f5f3043021c9e5fcf30285e557a4fc309cce97ff9ca6182912"


@pytest.mark.parametrize(
    ("tag", "valid"),
    [
        pytest.param("latest", True, id="latest"),
        pytest.param("v1.0_rc-2", True, id="dots-underscore-dash"),
        pytest.param("_private", True, id="leading-underscore"),
        pytest.param("a" * 128, True, id="128-chars"),
        pytest.param("a" * 129, False, id="129-chars"),
        pytest.param("-v1", False, id="leading-dash"),
        pytest.param(".v1", False, id="leading-dot"),
        pytest.param("v1\n", False, id="trailing-newline"),
        pytest.param("vé1", False, id="non-ascii-letter"),
        pytest.param("v١", False, id="non-ascii-digit"),
        pytest.param("feature/login", False, id="slash"),
        pytest.param("invalid~tag", False, id="tilde"),
        pytest.param("", False, id="empty"),
    ],
)
def test_is_valid_tag(tag: str, valid: bool) -> None:
    assert is_valid_tag(tag) is valid


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("feature/login", "feature-login", id="slash"),
        pytest.param("release-1.2", "release-1.2", id="unchanged"),
        pytest.param("1.0.0+build.5", "1.0.0-build.5", id="plus"),
        pytest.param("-v1", "v1", id="leading-dash"),
        pytest.param("..-.v1", "v1", id="leading-dots-and-dashes"),
        pytest.param("vé1", "v-1", id="non-ascii"),
        pytest.param("v1\n", "v1-", id="newline"),
        pytest.param("a" * 200, "a" * 128, id="truncated"),
        pytest.param("...", "", id="nothing-left"),
        pytest.param("/", "", id="only-slash"),
    ],
)
def test_sanitize_tag(raw: str, expected: str) -> None:
    assert sanitize_tag(raw) == expected


@given(st.text())
def test_sanitize_tag_is_valid_or_empty(raw: str) -> None:
    tag = sanitize_tag(raw)
    assert is_valid_tag(tag) is (tag != "")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param("v1.2.3", ("1", "2", "3", "", "", "1.2.3"), id="v-prefix"),
        pytest.param("1.2.3", ("1", "2", "3", "", "", "1.2.3"), id="plain"),
        pytest.param("v2.0.8-beta.67", ("2", "0", "8", "beta.67", "", "2.0.8-beta.67"),
                     id="prerelease"),
        pytest.param("1.0.0+build.5", ("1", "0", "0", "", "build.5", "1.0.0+build.5"),
                     id="build-metadata"),
        pytest.param("v1.2", None, id="two-parts"),
        pytest.param("01.2.3", None, id="leading-zero"),
        pytest.param("1.2.3-", None, id="empty-prerelease"),
        pytest.param("vv1.2.3", None, id="double-v"),
        pytest.param("release-1.2.3", None, id="prefixed"),
        pytest.param("1.2.3\n", None, id="trailing-newline"),
    ],
)
def test_parse_semver(name: str, expected: tuple[str, ...] | None) -> None:
    semver = parse_semver(name)
    if expected is None:
        assert semver is None
    else:
        assert semver is not None
        got = (semver.major, semver.minor, semver.patch, semver.prerelease, semver.build,
               semver.version)
        assert got == expected


@pytest.mark.parametrize(
    ("template", "name", "groups", "expected"),
    [
        pytest.param("{sourceref}", "feature/login", (), "feature/login", id="sourceref-raw"),
        pytest.param("version-{sourceref}", "release-1.2", (), "version-release-1.2",
                     id="sourceref-prefix"),
        pytest.param("v{\\1}", "v1.2.3", ("1.2.3",), "v1.2.3", id="group-1"),
        pytest.param("{\\2}-{\\1}", "a-b", ("a", "b"), "b-a", id="two-groups"),
        pytest.param("x{\\1}", "a", (None,), "x", id="group-did-not-participate"),
        pytest.param("{sha}", "main", (), SHA, id="sha"),
        pytest.param("{short_sha}", "main", (), SHA[:7], id="short-sha"),
        pytest.param("{version}", "v1.2.3", (), "1.2.3", id="version"),
        pytest.param("{major}.{minor}", "v1.2.3", (), "1.2", id="major-minor"),
        pytest.param("{patch}", "1.2.3", (), "3", id="patch"),
        pytest.param("{version}", "v2.0.8-beta.67", (), "2.0.8-beta.67", id="prerelease-version"),
        pytest.param("{major}", "v2.0.8-beta.67", (), None, id="prerelease-has-no-major"),
        pytest.param("{major}", "v1.2", (), None, id="not-semver"),
        pytest.param("{version}", "main", (), None, id="branch-not-semver"),
        pytest.param("{version}", "1.0.0+build.5", (), "1.0.0+build.5", id="build-kept-raw"),
        pytest.param("latest", "anything", (), "latest", id="literal"),
    ],
)
def test_render_template(
    template: str, name: str, groups: tuple[str | None, ...], expected: str | None
) -> None:
    variables = template_variables(name, sha=SHA, groups=groups)
    assert render_template(template, variables) == expected


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        pytest.param("latest", ("latest",), id="one"),
        pytest.param("{sourceref}, latest", ("{sourceref}", "latest"), id="strip"),
        pytest.param("a,,b, ,a", ("a", "b"), id="drop-empty-and-dedupe"),
        pytest.param(" , ", (), id="nothing"),
    ],
)
def test_split_templates(tag: str, expected: tuple[str, ...]) -> None:
    assert split_templates(tag) == expected


@pytest.mark.parametrize(
    ("template", "groups", "fragment"),
    [
        pytest.param("{foo}", None, "unknown placeholder {foo}", id="unknown-placeholder"),
        pytest.param("{SOURCEREF}", None, "unknown placeholder", id="placeholder-case"),
        pytest.param("v{\\1}", None, "not a /regex/", id="group-on-literal-source"),
        pytest.param("v{\\2}", 1, "only 1 group", id="group-out-of-range"),
        pytest.param("v{sourceref", None, "unmatched brace", id="unmatched-open"),
        pytest.param("v}", None, "unmatched brace", id="unmatched-close"),
        pytest.param("...", None, "not a valid Docker tag", id="literal-invalid"),
        pytest.param("-", None, "not a valid Docker tag", id="literal-dash"),
    ],
)
def test_template_problems(template: str, groups: int | None, fragment: str) -> None:
    problems = template_problems(template, groups=groups)
    assert any(fragment in p for p in problems), problems


@pytest.mark.parametrize(
    ("template", "groups"),
    [
        pytest.param("latest", None, id="literal"),
        pytest.param("{sourceref}", None, id="sourceref"),
        pytest.param("v{\\1}-{\\9}", 9, id="groups"),
        pytest.param("{version},{major}.{minor}.{patch}-{short_sha}-{sha}", None, id="all-named"),
        pytest.param("feature/x", None, id="literal-sanitised"),
    ],
)
def test_template_without_problems(template: str, groups: int | None) -> None:
    for part in split_templates(template):
        assert template_problems(part, groups=groups) == []


# distribution/reference regexp_test.go: TestFullNameRegexp (names without tag/digest).
FULL_NAMES = [
    ("short", True), ("simple/name", True), ("library/ubuntu", True),
    ("docker/stevvooe/app", True), ("aa/aa/aa/aa/aa/aa/aa/aa/aa/bb/bb/bb/bb/bb/bb", True),
    ("aa/aa/bb/bb/bb", True), ("a/a/a/a", True), ("a/a/a/a/", False), ("a//a/a", False),
    ("a", True), ("a/aa", True), ("a/aa/a", True), ("foo.com", True), ("foo.com/", False),
    ("foo.com:8080/bar", True), ("foo.com:http/bar", False), ("foo.com/bar", True),
    ("foo.com/bar/baz", True), ("localhost:8080/bar", True),
    ("sub-dom1.foo.com/bar/baz/quux", True), ("blog.foo.com/bar/baz", True), ("a^a", False),
    ("aa/asdf$$^/aa", False), ("asdf$$^/aa", False), ("aa-a/a", True),
    ("a/" * 128 + "a", True), ("a-/a/a/a", False), ("foo.com/a-/a/a", False),
    ("-foo/bar", False), ("foo/bar-", False), ("foo-/bar", False), ("foo/-bar", False),
    ("_foo/bar", False), ("foo_bar", True), ("foo_bar.com", True), ("foo_bar.com:8080", False),
    ("foo_bar.com:8080/app", False), ("foo.com/foo_bar", True), ("____/____", False),
    ("_docker/_docker", False), ("docker_/docker_", False),
    ("b.gcr.io/test.example.com/my-app", True), ("xn--n3h.com/myimage", True),
    ("xn--7o8h.com/myimage", True), ("example.com/xn--7o8h.com/myimage", True),
    ("example.com/some_separator__underscore/myimage", True),
    ("example.com/__underscore/myimage", False), ("example.com/..dots/myimage", False),
    ("example.com/.dots/myimage", False), ("example.com/nodouble..dots/myimage", False),
    ("docker./docker", False), (".docker/docker", False), ("docker-/docker", False),
    ("-docker/docker", False), ("do..cker/docker", False), ("do__cker:8080/docker", False),
    ("do__cker/docker", True),
    ("registry.io/foo/project--id.module--name.ver---sion--name", True),
    ("Asdf.com/foo/bar", True), ("Foo/FarB", False), ("", False),
]
# TestReferenceRegexp and TestReferenceParse (tags, digests, IPv6, length, case).
REFERENCES = [
    ("registry.com:8080/myapp:tag", True), (f"registry.com:8080/myapp@{DIGEST}", True),
    (f"registry.com:8080/myapp:tag2@{DIGEST}", True),
    ("registry.com:8080/myapp@sha256:badbadbadbad", False),
    ("registry.com:8080/myapp:invalid~tag", False), ("bad_hostname.com:8080/myapp:tag", False),
    (f"localhost:8080@{DIGEST}", True), (f"localhost:8080/name@{DIGEST}", True),
    (f"localhost:http/name@{DIGEST}", False), (f"localhost@{DIGEST}", True),
    ("registry.com:8080/myapp@bad", False), ("registry.com:8080/myapp@2bad", False),
    ("Uppercase:tag", False), ("a/" * 127 + "a:tag-puts-this-over-max", True),
    ("a" * 256 + ":tag", False), ("[2001:db8::1]:5000/repo", True),
    ("[2001:db8::1]:5000/repo:tag", True), ("[2001:db8::1]/repo", True),
    ("[2001:db8::1]:tag", False), ("[fe80::1%eth0]:5000/repo", False), ("[::1]:5000/repo", True),
    ("registry:5000/team/app", True), ("127.0.0.1:5000/acme/webapp:latest", True),
    ("repo:tag\n", False), ("repo:" + "a" * 129, False), ("repo:" + "a" * 128, True),
    ("repo:-tag", False), ("repo:vé1", False), ("a:b:c", False),
    ("sha256:" + "a" * 64, True),
]


@pytest.mark.parametrize(
    ("name", "valid"), [pytest.param(n, v, id=n[:60] or "empty") for n, v in FULL_NAMES]
)
def test_is_valid_name(name: str, valid: bool) -> None:
    assert is_valid_name(name) is valid


@pytest.mark.parametrize(
    ("ref", "valid"),
    [pytest.param(r, v, id=r[:60]) for r, v in REFERENCES]
    + [pytest.param(n, v, id="name-" + (n[:60] or "empty")) for n, v in FULL_NAMES
       if ":" not in n],
)
def test_is_valid_reference(ref: str, valid: bool) -> None:
    assert is_valid_reference(ref) is valid, reference_problem(ref)


@pytest.mark.parametrize(
    ("image", "fragment"),
    [
        pytest.param("Uppercase/app", "lowercase", id="uppercase"),
        pytest.param("a//b", "invalid reference format", id="empty-component"),
        pytest.param("foo_bar.com:8080/app", "invalid reference format", id="underscore-host"),
        pytest.param("registry.local/" + "a" * 256, "255", id="path-too-long"),
        pytest.param("team/" + "a" * 251, "255", id="no-registry-path-too-long"),
        pytest.param("registry:5000/app:latest", "must not include a tag", id="with-tag"),
        pytest.param(f"registry:5000/app@{DIGEST}", "must not include a tag", id="with-digest"),
        pytest.param("localhost:5000", "must not include a tag", id="host-only-is-a-tag"),
    ],
)
def test_repository_problem(image: str, fragment: str) -> None:
    problem = repository_problem(image)
    assert problem is not None and fragment in problem


@pytest.mark.parametrize(
    "image",
    [
        pytest.param("registry:5000/team/app", id="host-port"),
        pytest.param("[::1]:5000/repo", id="ipv6"),
        pytest.param("127.0.0.1:5000/acme/webapp", id="ipv4"),
        pytest.param("acme/webapp", id="no-registry"),
        pytest.param("registry.local/" + "a" * 255, id="path-255"),
        pytest.param("Registry.example.com/app", id="uppercase-host"),
    ],
)
def test_repository_ok(image: str) -> None:
    assert repository_problem(image) is None


@given(st.text(), st.text(max_size=40))
def test_rendering_never_raises(name: str, template: str) -> None:
    variables = template_variables(name, sha=SHA, groups=(name, None))
    rendered = render_template(template, variables)
    assert type(rendered) in (str, type(None))
    sanitized = sanitize_tag(rendered or "")
    assert is_valid_tag(sanitized) is (sanitized != "")
