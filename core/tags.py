"""Docker tag templates, tag sanitising and image reference validation (no I/O).

Template grammar: a rule's `tag` is one or more templates separated by ",". A template is literal
text with placeholders `{sourceref}` (the whole short branch/tag name), `{\\1}`..`{\\9}` (groups of
the rule's regex), `{sha}`, `{short_sha}` and the SemVer parts `{version}`, `{major}`, `{minor}`,
`{patch}`. A template whose placeholder has no value (a SemVer part of a non-SemVer name) renders
nothing; so does one that renders to the empty string.

The reference grammar is distribution/reference's `regexp.go`, matched with `re.fullmatch` and
`re.ASCII` (Python's `\\w` is Unicode and `$` accepts a trailing newline otherwise).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

TAG_MAX_LENGTH = 128
REPOSITORY_PATH_MAX_LENGTH = 255
DEFAULT_TAG_TEMPLATE = "{sourceref}"

_TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
_TAG_RE = re.compile(_TAG, re.ASCII)
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_HOST = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])"
_DOMAIN = rf"{_HOST}(?::[0-9]+)?"
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*"
_REMOTE_NAME = rf"{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_NAME_RE = re.compile(rf"(?:({_DOMAIN})/)?({_REMOTE_NAME})", re.ASCII)
_REFERENCE_RE = re.compile(
    rf"((?:{_DOMAIN}/)?{_REMOTE_NAME})(?::({_TAG}))?(?:@({_DIGEST}))?", re.ASCII
)
_DIGEST_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}

_SEMVER_RE = re.compile(
    r"v?(?P<major>0|[1-9][0-9]*)\.(?P<minor>0|[1-9][0-9]*)\.(?P<patch>0|[1-9][0-9]*)"
    r"(?:-(?P<pre>(?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*)"
    r"(?:\.(?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+(?P<build>[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?",
    re.ASCII,
)
_PLACEHOLDER_RE = re.compile(r"\{([^{}]*)\}")
_GROUP_RE = re.compile(r"\\([1-9])")
SEMVER_VARIABLES = ("version", "major", "minor", "patch")
NAMED_VARIABLES = ("sourceref", "sha", "short_sha", *SEMVER_VARIABLES)


def is_valid_tag(tag: str) -> bool:
    """Whether `tag` is a Docker tag: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`, ASCII only."""
    return _TAG_RE.fullmatch(tag) is not None


def sanitize_tag(raw: str) -> str:
    """`raw` made into a tag: other characters → "-", leading "." and "-" dropped, 128 chars max.

    The result is always a valid tag or the empty string.
    """
    return re.sub(r"[^A-Za-z0-9_.-]", "-", raw).lstrip(".-")[:TAG_MAX_LENGTH]


def _digest_ok(digest: str) -> bool:
    """Whether a digest uses a known algorithm with an encoded part of the right length."""
    algorithm, _, encoded = digest.partition(":")
    expected = _DIGEST_LENGTHS.get(algorithm)
    return expected == len(encoded) and re.fullmatch(r"[a-f0-9]+", encoded) is not None


def reference_problem(ref: str) -> str | None:
    """Why `ref` is not a valid image reference (`[host[:port]/]path[:tag][@digest]`), or None."""
    if not ref:
        return "image reference is empty"
    match = _REFERENCE_RE.fullmatch(ref)
    if match is None:
        if ref.lower() != ref and _REFERENCE_RE.fullmatch(ref.lower()):
            return "repository name must be lowercase"
        return "invalid reference format"
    name = _NAME_RE.fullmatch(match.group(1))
    path = name.group(2) if name else match.group(1)
    if len(path) > REPOSITORY_PATH_MAX_LENGTH:
        return f"repository name must not be longer than {REPOSITORY_PATH_MAX_LENGTH} characters"
    if match.group(3) and not _digest_ok(match.group(3)):
        return "invalid digest"
    return None


def is_valid_reference(ref: str) -> bool:
    """Whether `ref` is a valid image reference per distribution/reference."""
    return reference_problem(ref) is None


def is_valid_name(name: str) -> bool:
    """Whether `name` is a repository name (`[host[:port]/]path`) per distribution/reference."""
    match = _NAME_RE.fullmatch(name)
    return match is not None and len(match.group(2)) <= REPOSITORY_PATH_MAX_LENGTH


def repository_problem(image: str) -> str | None:
    """Why `image` is not a repository to push to (no tag or digest), or None.

    Stricter than the grammar, like docker's normalised names: the first component is a registry
    only when it has a "." or ":" or is "localhost"; otherwise it is a lowercase path component.
    """
    first, slash, rest = image.partition("/")
    if ":" in image.rpartition("/")[2] or "@" in image:
        return "image must not include a tag or digest (tags come from the rule's tag templates)"
    problem = reference_problem(image)
    if problem is None and slash and not (any(c in first for c in ".:") or first == "localhost"):
        if first.lower() != first:
            return "repository name must be lowercase"
        if len(image) > REPOSITORY_PATH_MAX_LENGTH:
            return (f"repository name must not be longer than {REPOSITORY_PATH_MAX_LENGTH} "
                    "characters")
    return problem


@dataclass(frozen=True)
class SemVer:
    """A SemVer 2.0 name without its leading "v"; `prerelease`/`build` are "" when absent."""

    major: str
    minor: str
    patch: str
    prerelease: str
    build: str

    @property
    def version(self) -> str:
        """The whole version, including prerelease and build metadata."""
        text = f"{self.major}.{self.minor}.{self.patch}"
        text += f"-{self.prerelease}" if self.prerelease else ""
        return text + (f"+{self.build}" if self.build else "")


def parse_semver(name: str) -> SemVer | None:
    """The SemVer 2.0 version in a ref name like `v1.2.3-rc.1+b5`, or None (`v1.2` is not)."""
    m = _SEMVER_RE.fullmatch(name)
    if m is None:
        return None
    return SemVer(m["major"], m["minor"], m["patch"], m["pre"] or "", m["build"] or "")


def split_templates(tag: str) -> tuple[str, ...]:
    """The templates of a rule's `tag` field: split on ",", stripped, empties dropped, deduped."""
    return tuple(dict.fromkeys(part.strip() for part in tag.split(",") if part.strip()))


def placeholders(template: str) -> tuple[str, ...]:
    """The placeholder names used in `template`, e.g. ("sourceref", "\\1")."""
    return tuple(_PLACEHOLDER_RE.findall(template))


def template_problems(template: str, *, groups: int | None) -> list[str]:
    """What is wrong with one template; `groups` is the regex group count, None for a literal."""
    problems: list[str] = []
    rest = _PLACEHOLDER_RE.sub("", template)
    if "{" in rest or "}" in rest:
        problems.append(f"tag template {template!r} has an unmatched brace")
    for name in placeholders(template):
        group = _GROUP_RE.fullmatch(name)
        if group is None and name not in NAMED_VARIABLES:
            known = ", ".join("{" + v + "}" for v in NAMED_VARIABLES)
            problems.append(f"tag template {template!r}: unknown placeholder {{{name}}} "
                            f"(known: {known}, {{\\1}}..{{\\9}})")
        elif group is not None and groups is None:
            problems.append(f"tag template {template!r} uses {{{name}}} but the source is "
                            "not a /regex/")
        elif group is not None and groups is not None and int(group.group(1)) > groups:
            problems.append(f"tag template {template!r} uses {{{name}}} but the regex has "
                            f"only {groups} group(s)")
    if not placeholders(template) and not sanitize_tag(template):
        problems.append(f"tag template {template!r} is not a valid Docker tag even after "
                        "sanitising")
    return problems


def template_variables(
    name: str, *, sha: str, groups: Iterable[str | None] = ()
) -> dict[str, str | None]:
    """The values placeholders render to for ref name `name` at commit `sha`.

    A None value means "not available": any template using it renders nothing. SemVer parts
    follow docker/metadata-action: a prerelease only has `{version}`.
    """
    values: dict[str, str | None] = {"sourceref": name, "sha": sha, "short_sha": sha[:7]}
    semver = parse_semver(name)
    stable = semver is not None and not semver.prerelease
    values["version"] = semver.version if semver else None
    values["major"] = semver.major if semver and stable else None
    values["minor"] = semver.minor if semver and stable else None
    values["patch"] = semver.patch if semver and stable else None
    for number, group in enumerate(groups, start=1):
        if number <= 9:
            values[f"\\{number}"] = group or ""
    return values


def render_template(template: str, variables: Mapping[str, str | None]) -> str | None:
    """`template` with placeholders filled in, or None when one of them has no value."""
    missing = False

    def fill(match: re.Match[str]) -> str:
        """The value of one placeholder; notes a missing one."""
        nonlocal missing
        value = variables.get(match.group(1))
        if value is None:
            missing = True
            return ""
        return value

    rendered = _PLACEHOLDER_RE.sub(fill, template)
    return None if missing else rendered


def missing_variables(template: str, variables: Mapping[str, str | None]) -> tuple[str, ...]:
    """The placeholders of `template` that have no value in `variables`."""
    return tuple(n for n in placeholders(template) if variables.get(n) is None)
