"""How pages show things: template filters and globals, phases, and the highlighted log."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, session
from markupsafe import Markup, escape

from core.plan import TRIGGERS
from core.status import BuildStatus
from records.builds import BuildRecord

bp = Blueprint("presentation", __name__)
_STEP = re.compile(r"^Step \d+/\d+ : ")
_ERROR = re.compile(r"^(ERROR:|#\d+ ERROR: |Build failed while |internal error: |Timed out|"
                    r"The build timed out)")
_BUILDKIT_ERROR = re.compile(r"^#(\d+) ERROR: (?!context canceled)")
_BUILDKIT_START = re.compile(r"^#1 \[internal\] load build definition")
_CACHE_IMPORT = "importing cache manifest from "


def now() -> datetime:
    return datetime.now(UTC)


@bp.app_template_filter("age")
def age(value: datetime | None) -> str:
    """'12 s ago', '5 min ago', '3 h ago', '2 d ago'."""
    if value is None:
        return "–"
    seconds = max(0, int((now() - value).total_seconds()))
    if seconds < 60:
        return f"{seconds} s ago"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} d ago"


@bp.app_template_filter("utc")
def utc(value: datetime | None) -> str:
    """'2024-05-01 12:30:05 UTC'."""
    return "–" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@bp.app_template_filter("isotime")
def isotime(value: datetime | None) -> str:
    return "" if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


@bp.app_template_filter("shortref")
def shortref(ref: str) -> str:
    """refs/heads/main → main; refs/tags/v1 → v1."""
    for prefix in ("refs/heads/", "refs/tags/"):
        if ref.startswith(prefix):
            return ref[len(prefix):]
    return ref


@bp.app_template_filter("tagname")
def tagname(reference: str) -> str:
    """registry/repo:tag → tag (what a person calls it)."""
    repository, sep, tag = reference.rpartition(":")
    return tag if sep and "/" not in tag and repository else reference


@bp.app_template_global("commit_url")
def commit_url(clone_url: str, provider: str, sha: str) -> str | None:
    """The forge's web page of a commit, from an https clone URL; None for file:// or ssh."""
    try:
        parts = urlsplit(clone_url)
    except ValueError:
        return None
    if parts.scheme != "https" or not parts.hostname or not re.fullmatch(r"[0-9a-f]{7,64}", sha):
        return None
    host = parts.hostname + (f":{parts.port}" if parts.port else "")  # credentials dropped
    path = parts.path.rstrip("/")
    if path.endswith(".git"):
        path = path[:-4]
    if not path.strip("/"):
        return None
    base = f"https://{host}{path}"
    if provider == "gitlab":
        return f"{base}/-/commit/{sha}"
    if provider == "bitbucket":
        scm = re.fullmatch(r"(.*)/scm/([^/]+)/([^/]+)", path)
        if scm:  # Bitbucket Server / Data Center
            prefix, project, repo = scm.groups()
            return f"https://{host}{prefix}/projects/{project}/repos/{repo}/commits/{sha}"
        return f"{base}/commits/{sha}"
    return f"{base}/commit/{sha}"


@bp.app_template_global()
def status_badge(value: str) -> Markup:
    """The status as a coloured badge that also says it in words."""
    return Markup('<span class="status status-{0}">{1}</span>').format(
        value, value.replace("_", " "))


@bp.app_template_global()
def duration(seconds: float | None) -> str:
    """'42 s', '3 min 05 s', '1 h 02 min'."""
    if seconds is None:
        return "–"
    if seconds < 60:
        return f"{seconds:.0f} s"
    whole = int(seconds)
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


@bp.app_template_global()
def when(value: datetime | None) -> Markup:
    """A <time> saying how long ago, with the exact UTC time as its title."""
    if value is None:
        return Markup("–")
    return Markup('<time datetime="{0}" title="{1}">{2}</time>').format(
        isotime(value), utc(value), age(value))


@bp.app_template_global()
def commit_link(build: BuildRecord) -> Markup:
    """The short commit, linked to the forge when the clone URL allows it."""
    url = commit_url(build.plan.clone_url, build.provider, build.commit)
    short = build.commit[:7]
    if url is None:
        return Markup('<code title="{0}">{1}</code>').format(build.commit, short)
    return Markup('<a href="{0}" rel="noopener noreferrer" title="{1}"><code>{2}</code></a>'
                  ).format(url, build.commit, short)


@bp.app_template_global()
def tag_list(build: BuildRecord) -> Markup:
    """The build's Docker tags, short form."""
    return Markup(", ").join(Markup("<code>{0}</code>").format(tagname(t)) for t in build.tags)


@dataclass(frozen=True)
class Phase:
    """One phase of a build: when it began, how long it took, whether it is running."""

    name: str
    started: datetime | None
    seconds: float | None
    current: bool


def phases(build: BuildRecord) -> list[Phase]:
    """Queued, cloning, building, pushing: start and duration of each one reached."""
    finished = build.finished_at
    marks = [("queued", build.created_at), ("cloning", build.started_at),
             ("building", build.building_at), ("pushing", build.pushing_at)]
    result: list[Phase] = []
    for index, (name, start) in enumerate(marks):
        later = [m for _, m in marks[index + 1:] if m is not None]
        end = later[0] if later else finished
        current = start is not None and end is None
        seconds = None
        if start is not None:
            seconds = max(0.0, ((end or now()) - start).total_seconds())
        result.append(Phase(name, start, seconds, current))
    return result


def phase_of(build: BuildRecord) -> str:
    """The phase a build is in, or the last one it reached once it ended."""
    if not build.status.is_terminal():
        return build.status.value
    reached = [p.name for p in phases(build) if p.started is not None]
    last = reached[-1] if reached else "queued"
    if build.status is BuildStatus.SUCCESS:
        return "done"
    return f"ended while {last}"


def _classic_block(lines: list[str], errors: list[int]) -> tuple[int, int] | None:
    """The classic builder's failing step: from the last "Step N/M : ..." line before the last
    error line to the first error line after that step."""
    last_error = errors[-1] if errors else len(lines) - 1
    steps = [i for i in range(last_error + 1) if _STEP.match(lines[i])]
    if not steps:
        return None
    start = steps[-1]
    if any(lines[i].startswith("Successfully built") for i in range(start, last_error + 1)):
        return None
    return start, next((i for i in errors if i > start), last_error)


def _buildkit_steps(lines: list[str]) -> tuple[tuple[int, int] | None, set[int]]:
    """(BuildKit's failing step `#N`: its first line to its `#N ERROR: …`, warning lines)."""
    # Each platform's build numbers its steps from #1 again: a step is looked up in its own
    # build. A cache image the registry does not have yet (a rule's first build) prints
    # `#N importing cache manifest from …` and an ERROR that is only a warning.
    begin, block, warnings = 0, None, set()
    for end, line in enumerate(lines):
        if _BUILDKIT_START.match(line):
            begin = end
        found = _BUILDKIT_ERROR.match(line)
        if found is None:
            continue
        prefix = f"#{found.group(1)} "
        start = next(i for i in range(begin, end + 1) if lines[i].startswith(prefix))
        if lines[start].startswith(prefix + _CACHE_IMPORT):
            warnings.add(end)
        elif block is None:
            block = (start, end)
    return block, warnings


def render_log(log: str, status: BuildStatus) -> tuple[Markup, bool]:
    """The log as escaped HTML; for a failed build, the failing step's block is highlighted
    (BuildKit's `#N` step, or the classic builder's "Step N/M"). Returns (html, whether a step
    was highlighted)."""
    lines = log.splitlines(keepends=True)
    buildkit_block, warnings = _buildkit_steps(lines)
    errors = [i for i, line in enumerate(lines) if _ERROR.match(line) and i not in warnings]
    failing = status in (BuildStatus.FAILED, BuildStatus.TIMED_OUT)
    block: tuple[int, int] | None = None
    if failing and lines:
        block = buildkit_block or _classic_block(lines, errors)
    parts: list[str] = []
    for i, line in enumerate(lines):
        if block and i == block[0]:
            parts.append('<mark class="failing-step" id="failing-step">')
        text = str(escape(line))
        if failing and i in errors:
            text = f'<strong class="log-error">{text}</strong>'
        parts.append(text)
        if block and i == block[1]:
            parts.append("</mark>")
    return Markup("".join(parts)), block is not None  # noqa: S704 - every line escaped above


@bp.app_context_processor
def _helpers() -> dict[str, Any]:
    return {"current_user": _current_user(),
            "statuses": [s.value for s in BuildStatus], "triggers": TRIGGERS}


def _current_user() -> str | None:
    user = session.get("user")
    return str(user) if user else None
