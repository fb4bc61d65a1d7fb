"""Build status badges: shields-style flat SVGs for READMEs.

URL rule (repository names may have any number of segments, e.g. GitLab's a/b/c):
- GET /badge/<repository>.svg: when the whole path before ".svg" is a configured repository,
  the badge of its first rule's newest build.
- GET /badge/<repository>/<tag>.svg: otherwise the last segment is a Docker tag (tags never
  contain "/") and the rest the repository: the newest build that pushes a reference ending
  in ":<tag>".
The repository is looked up by name in the rules (the first one with that name, any provider).
Skipped and superseded builds are passed over: they say nothing about the code, the build
before them still does. Anything unknown (repository, tag, no build, cancelled) is a grey
"unknown" badge with 200, so READMEs never show a broken image; a path not ending in ".svg"
is 404. Badges follow AUTOBUILD_READ_ACCESS like every read (login mode → 401).
"""

from __future__ import annotations

import hashlib
import re
from html import escape

from flask import Blueprint, Response, request

from core.rules import RepositoryConfig
from core.status import BuildStatus
from records import stats
from service.auth import check_read_access
from service.extensions import rules, store

bp = Blueprint("badges", __name__)
TAG_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
PASSED_OVER = (BuildStatus.SKIPPED, BuildStatus.SUPERSEDED)
GREEN, RED, YELLOW, GREY = "#4c1", "#e05d44", "#dfb317", "#9f9f9f"
VERDICTS: dict[BuildStatus | None, tuple[str, str]] = {
    BuildStatus.SUCCESS: ("passing", GREEN),
    BuildStatus.FAILED: ("failing", RED),
    BuildStatus.TIMED_OUT: ("failing", RED),
    BuildStatus.QUEUED: ("building", YELLOW),
    BuildStatus.CLONING: ("building", YELLOW),
    BuildStatus.BUILDING: ("building", YELLOW),
    BuildStatus.PUSHING: ("building", YELLOW),
}
UNKNOWN = ("unknown", GREY)
# Verdana 11px advance widths (as shields.io measures), in pixels; others count as 7.
_WIDTHS = {c: 7.0 for c in "abdeghnopquABCDEFGHKNOPQRSUVXYZ0123456789"}
_WIDTHS.update({c: 6.0 for c in "cksvxyzJLT_"})
_WIDTHS.update({c: 3.0 for c in "ijl.:,;|!'"})
_WIDTHS.update({c: 4.0 for c in "frtI -()[]"})
_WIDTHS.update({c: 10.0 for c in "mwMW"})


def text_width(text: str) -> int:
    """An estimate of `text`'s width in 11px Verdana."""
    return round(sum(_WIDTHS.get(c, 7.0) for c in text))


def render_badge(label: str, message: str, color: str) -> str:
    """A flat shields-style badge "label | message" with the message on `color` (all escaped)."""
    left, right = text_width(label) + 10, text_width(message) + 10
    total = left + right
    label_e, message_e, color_e = escape(label), escape(message), escape(color)
    title = escape(f"{label}: {message}")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="20" role="img" '
        f'aria-label="{title}"><title>{title}</title>'
        '<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" '
        'stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>'
        f'<clipPath id="r"><rect width="{total}" height="20" rx="3" fill="#fff"/></clipPath>'
        f'<g clip-path="url(#r)"><rect width="{left}" height="20" fill="#555"/>'
        f'<rect x="{left}" width="{right}" height="20" fill="{color_e}"/>'
        f'<rect width="{total}" height="20" fill="url(#s)"/></g>'
        '<g fill="#fff" text-anchor="middle" '
        'font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11">'
        f'<text x="{left / 2:g}" y="15" fill="#010101" fill-opacity=".3">{label_e}</text>'
        f'<text x="{left / 2:g}" y="14">{label_e}</text>'
        f'<text x="{left + right / 2:g}" y="15" fill="#010101" fill-opacity=".3">{message_e}</text>'
        f'<text x="{left + right / 2:g}" y="14">{message_e}</text></g></svg>'
    )


def resolve(path: str) -> tuple[RepositoryConfig, str | None] | None:
    """(repository, tag or None for its first rule) named by a badge path without ".svg"."""
    ruleset = rules()
    repo = ruleset.by_name(path)
    if repo is not None:
        return repo, None
    name, _, tag = path.rpartition("/")
    repo = ruleset.by_name(name) if name else None
    if repo is None or TAG_RE.fullmatch(tag) is None:
        return None
    return repo, tag


def badge_status(path: str) -> BuildStatus | None:
    """The status the badge at `path` shows, or None when there is nothing to show."""
    target = resolve(path)
    if target is None:
        return None
    repo, tag = target
    engine = store().engine
    if tag is not None:
        return stats.latest_tag_status(engine, repository=repo.name, provider=repo.provider,
                                       tag=tag, ignore=PASSED_OVER)
    if not repo.rules:
        return None
    return stats.latest_rule_status(engine, repository=repo.name, provider=repo.provider,
                                    rule_index=repo.rules[0].index, ignore=PASSED_OVER)


@bp.get("/badge/<path:target>", merge_slashes=False)
def badge(target: str) -> Response:
    """The SVG badge of a repository (first rule) or of one of its tags."""
    check_read_access()
    if not target.endswith(".svg") or target == ".svg":
        return Response("badge URLs end in .svg\n", status=404, mimetype="text/plain")
    message, color = VERDICTS.get(badge_status(target[: -len(".svg")]), UNKNOWN)
    svg = render_badge("build", message, color)
    response = Response(svg, mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "no-cache, max-age=0"
    response.set_etag(hashlib.sha256(svg.encode()).hexdigest()[:32])
    response.make_conditional(request)
    return response
