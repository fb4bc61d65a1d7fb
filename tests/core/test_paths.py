"""Path-filter globs and build paths (core/paths.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.events import ref_problem
from core.paths import (
    build_path_problem,
    build_paths,
    files_pass_filter,
    glob_problem,
    path_matches,
)


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        pytest.param("*.md", "README.md", True, id="star-root"),
        pytest.param("*.md", "docs/a.md", False, id="star-does-not-cross-slash"),
        pytest.param("docs/*", "docs/a.md", True, id="star-in-dir"),
        pytest.param("docs/*", "docs/sub/a.md", False, id="star-one-segment-only"),
        pytest.param("docs/**", "docs/a.md", True, id="globstar-one"),
        pytest.param("docs/**", "docs/sub/deep/a.md", True, id="globstar-deep"),
        pytest.param("docs/**", "docsx/a.md", False, id="globstar-prefix-is-a-segment"),
        pytest.param("**/*.md", "README.md", True, id="globstar-zero-segments-leading"),
        pytest.param("**/*.md", "a/b/c.md", True, id="globstar-many-leading"),
        pytest.param("**/*.md", "a/b/c.mdx", False, id="globstar-suffix-anchored"),
        pytest.param("a/**/b", "a/b", True, id="globstar-zero-segments-middle"),
        pytest.param("a/**/b", "a/x/y/b", True, id="globstar-many-middle"),
        pytest.param("a/**/b", "a/xb", False, id="globstar-middle-needs-segment-boundary"),
        pytest.param("a/**/**/b", "a/b", True, id="double-globstar-collapsed"),
        pytest.param("**", "anything/at/all", True, id="globstar-alone"),
        pytest.param("svc-?/x.py", "svc-a/x.py", True, id="question-one-char"),
        pytest.param("svc-?/x.py", "svc-ab/x.py", False, id="question-only-one"),
        pytest.param("a?b", "a/b", False, id="question-not-slash"),
        pytest.param("[ab].txt", "a.txt", True, id="class"),
        pytest.param("[!ab].txt", "c.txt", True, id="negated-class"),
        pytest.param("[!ab].txt", "a.txt", False, id="negated-class-excludes"),
        pytest.param("x[!a]y", "x/y", False, id="negated-class-not-slash"),
        pytest.param("\\*.md", "*.md", True, id="escaped-star"),
        pytest.param("\\*.md", "a.md", False, id="escaped-star-literal"),
        pytest.param("/docs/a.md", "docs/a.md", True, id="leading-slash-ignored"),
        pytest.param("docs/", "docs/a/b.md", True, id="trailing-slash-is-directory"),
        pytest.param("a.b", "axb", False, id="dot-is-literal"),
        pytest.param("a**b", "axxb", True, id="double-star-in-segment-is-star"),
        pytest.param("a**b", "ax/xb", False, id="double-star-in-segment-no-slash"),
        pytest.param("Dockerfile", "svc/Dockerfile", False, id="anchored-at-root"),
    ],
)
def test_path_matches(pattern: str, path: str, matches: bool) -> None:
    assert path_matches(path, pattern) is matches


@pytest.mark.parametrize(
    ("files", "included", "ignored", "builds"),
    [
        pytest.param(["docs/a.md"], [], ["docs/**"], False, id="CB1-only-ignored"),
        pytest.param(["docs/a.md", "svc/x.py"], [], ["docs/**"], True, id="CB2-one-not-ignored"),
        pytest.param(["svc-b/y.go"], ["svc-a/**"], [], False, id="CB3-not-included"),
        pytest.param(["svc-a/README.md"], ["svc-a/**"], ["**/*.md"], False,
                     id="CB4-ignored-before-included"),
        pytest.param(["svc-a/main.go", "svc-b/y.go"], ["svc-a/**"], [], True, id="one-included"),
        pytest.param(["svc-a/README.md", "svc-a/x.go"], ["svc-a/**"], ["**/*.md"], True,
                     id="included-after-ignored"),
        pytest.param(["a.txt"], [], [], True, id="no-filters"),
        pytest.param([], [], [], True, id="no-filters-no-files"),
        pytest.param([], ["svc-a/**"], [], False, id="no-files-with-filter"),
        pytest.param(["docs/sub/a.md"], [], ["docs/*"], True, id="star-does-not-ignore-deeper"),
    ],
)
def test_files_pass_filter(
    files: list[str], included: list[str], ignored: list[str], builds: bool
) -> None:
    passed, reason = files_pass_filter(files, included=included, ignored=ignored)
    assert passed is builds
    assert reason


def test_files_pass_filter_reason_names_ignored() -> None:
    passed, reason = files_pass_filter(["docs/a.md"], included=[], ignored=["docs/**"])
    assert not passed and "every changed file matches ignored_files" in reason


@pytest.mark.parametrize(
    ("pattern", "fragment"),
    [
        pytest.param("", "empty", id="empty"),
        pytest.param("../x", "'..'", id="dotdot"),
        pytest.param("a\x00b", "control", id="nul"),
        pytest.param("[z-a]", "invalid", id="bad-range"),
    ],
)
def test_glob_problem(pattern: str, fragment: str) -> None:
    problem = glob_problem(pattern)
    assert problem is not None and fragment in problem


@pytest.mark.parametrize(
    ("dockerfile", "context", "expected"),
    [
        pytest.param("Dockerfile", "/", ("Dockerfile", "."), id="defaults"),
        pytest.param("Dockerfile", "", ("Dockerfile", "."), id="empty-context-root"),
        pytest.param("docker/app/Dockerfile", "", ("docker/app/Dockerfile", "docker/app"),
                     id="empty-context-is-dockerfile-folder"),
        pytest.param("Dockerfile", "/sub", ("sub/Dockerfile", "sub"), id="absolute-context"),
        pytest.param("Dockerfile", "sub", ("sub/Dockerfile", "sub"), id="relative-context"),
        pytest.param("Dockerfile", "sub/", ("sub/Dockerfile", "sub"), id="trailing-slash"),
        pytest.param("build/Dockerfile.prod", "svc", ("svc/build/Dockerfile.prod", "svc"),
                     id="dockerfile-relative-to-context"),
        pytest.param("./Dockerfile", "./sub/./x", ("sub/x/Dockerfile", "sub/x"), id="dot-segments"),
    ],
)
def test_build_paths(dockerfile: str, context: str, expected: tuple[str, str]) -> None:
    assert build_paths(dockerfile, context) == expected


@pytest.mark.parametrize(
    ("path", "what", "fragment"),
    [
        pytest.param("../..", "context", "'..'", id="context-up"),
        pytest.param("sub/../../x", "context", "'..'", id="context-dotdot-inside"),
        pytest.param("../Dockerfile", "dockerfile", "'..'", id="dockerfile-up"),
        pytest.param("/etc/passwd", "dockerfile", "relative", id="dockerfile-absolute"),
        pytest.param("a\\Dockerfile", "dockerfile", "backslash", id="backslash"),
        pytest.param("Docker\x00file", "dockerfile", "NUL", id="nul"),
        pytest.param("", "dockerfile", "name a file", id="dockerfile-empty"),
        pytest.param("sub/", "dockerfile", "name a file", id="dockerfile-dir"),
    ],
)
def test_build_path_problem(path: str, what: str, fragment: str) -> None:
    problem = build_path_problem(path, what=what)
    assert problem is not None and fragment in problem


@given(st.lists(st.text(alphabet="ab/.*?[]!", max_size=8), max_size=3),
       st.lists(st.text(alphabet="ab/.", max_size=8), max_size=4))
def test_filter_never_raises(patterns: list[str], files: list[str]) -> None:
    usable = [p for p in patterns if glob_problem(p) is None]
    passed, reason = files_pass_filter(files, included=usable, ignored=[])
    assert isinstance(passed, bool) and reason


@given(st.from_regex(r"[a-z]{1,5}(/[a-z]{1,5}){0,4}", fullmatch=True))
def test_globstar_matches_every_path_below(path: str) -> None:
    assert path_matches(path, "**")
    assert path_matches("top/" + path, "top/**")
    assert path_matches(path, "*") is ("/" not in path)


@pytest.mark.parametrize(("ref", "ok"), [
    pytest.param("refs/heads/main", True, id="branch"),
    pytest.param("feature/login-2", True, id="slashes"),
    pytest.param("v1.2.3", True, id="tag"),
    pytest.param("", False, id="empty"),
    pytest.param("-rf", False, id="option"),
    pytest.param("a..b", False, id="dots"),
    pytest.param("a b", False, id="space"),
    pytest.param("a:b", False, id="colon"),
    pytest.param("main.lock", False, id="lock"),
    pytest.param("x@{1}", False, id="reflog"),
    pytest.param("ma\udfffin", False, id="surrogate"),
    pytest.param("a" * 256, False, id="too-long"),
    pytest.param("é" * 127, True, id="254-bytes"),
])
def test_ref_problem_follows_git(ref: str, ok: bool) -> None:
    assert (ref_problem(ref) is None) is ok
