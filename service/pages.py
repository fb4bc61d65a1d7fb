"""Server-rendered status pages; they read our database only.

Pages: / (dashboard), /repos/<name> (rules, Build now, builds), /builds/<id>, /deliveries.
Logging in is in service/session_views.py; the forms that act (Build now, cancel, retry)
are in service/action_views.py.
Reading works without JavaScript; static/build.js and static/refresh.js only add live updates
(service/stream.py serves a build's log as Server-Sent Events).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask import (
    Blueprint,
    abort,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response as BaseResponse

from core.decision import DeliveryOutcome
from core.plan import TRIGGERS
from core.rules import RepositoryConfig
from core.status import RUNNING, BuildStatus
from core.triggers import source_id
from records import queries
from records.builds import BuildFilter
from records.tag_history import takeovers
from service.auth import (
    read_allowed,
)
from service.extensions import (
    delivery_log,
    outbox,
    queue_snapshot,
    rules,
    rules_holder,
    store,
    trigger_log,
)
from service.presentation import commit_url, phase_of, phases, render_log
from service.rebuild_pages import build_rebuilds, repository_rebuilds
from service.request_args import MAX_OFFSET, query_int

bp = Blueprint("pages", __name__)
PAGE_SIZE = 25
DELIVERY_PAGE_SIZE = 50
TRIGGER_CALLS = 10  # the repository page shows the last 10 trigger calls, as Docker Hub did
LOG_PAGE_LIMIT = 512 * 1024
"""Characters of log rendered into the page (its tail, some 6,000 lines; the raw log has all):
the page with a 10 MB log took 180 ms at p95 when it rendered 4 MiB (benchmarks: pages)."""
OUTCOMES = tuple(outcome.value for outcome in DeliveryOutcome)


@bp.before_request
def _read_access() -> BaseResponse | None:
    """With AUTOBUILD_READ_ACCESS=login, pages send anonymous readers to the login form, for
    every method (a HEAD would otherwise run the view and tell the page's size)."""
    if read_allowed():
        return None
    return redirect(url_for("session.login", next=request.full_path.rstrip("?")))


def _engine() -> Any:
    return store().engine


def _page_number() -> int:
    return query_int("page", 1, low=1, high=MAX_OFFSET // PAGE_SIZE)


def _ref_filter(text: str) -> tuple[str, ...] | None:
    text = text.strip()
    if not text:
        return None
    if text.startswith("refs/"):
        return (text,)
    return (f"refs/heads/{text}", f"refs/tags/{text}")


@dataclass(frozen=True)
class Pager:
    """Where a paginated list is: page, pages, total."""

    page: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size

    def url(self, page: int) -> str:
        args: dict[str, Any] = {**(request.view_args or {}), **request.args.to_dict()}
        args["page"] = str(page)
        return url_for(str(request.endpoint), **args)


def _rule_keys(repositories: Iterable[RepositoryConfig]) -> list[queries.RuleKey]:
    return [(repo.name, repo.provider, rule.index) for repo in repositories for rule in repo.rules]


def _trigger_filter() -> str | None:
    """The `trigger` query argument when it names a trigger (push, base_image, …)."""
    trigger = request.args.get("trigger") or None
    return trigger if trigger in TRIGGERS else None


@bp.get("/")
def index() -> str:
    """Builds in progress; every repository's rules with their latest build; deliveries that
    did not build; recent builds (of one trigger). A fixed number of queries, whatever the
    size."""
    repositories = rules().repositories
    engine = _engine()
    active = queries.active_builds(engine)
    trigger = _trigger_filter()
    live = queue_snapshot()
    waiting = [(b, why) for b in active if live and (why := live.waiting_reason(b))]
    return render_template(
        "index.html",
        repositories=repositories,
        queues=live.queues if live else None, waiting=waiting,
        latest=queries.latest_per_rule(engine, _rule_keys(repositories)),
        active=active,
        recent=store().list_builds(BuildFilter(trigger=trigger), limit=15),
        trigger=trigger or "",
        not_built=delivery_log().recent_deliveries(limit=10, not_built=True),
        rules_error=rules_holder().error,
        refresh=3 if active else 20,
    )


@bp.get("/repos/<path:name>")
def repository(name: str) -> str:
    """A repository: its rules with Build now, then its builds (paginated, filterable)."""
    provider = request.args.get("provider") or None
    ruleset = rules()
    repo = ruleset.find(provider, name) if provider else ruleset.by_name(name)
    engine = _engine()
    status = request.args.get("status") or None
    if status is not None and status not in {s.value for s in BuildStatus}:
        status = None
    ref_text = request.args.get("ref", "")
    trigger = _trigger_filter()
    where = BuildFilter(repository=name, provider=repo.provider if repo else provider,
                        status=status, refs=_ref_filter(ref_text), trigger=trigger)
    pager = Pager(_page_number(), PAGE_SIZE, store().count_builds(where))
    if repo is None and pager.total == 0 and not (status or ref_text or trigger):
        abort(404)
    builds = store().list_builds(where, limit=PAGE_SIZE, offset=pager.offset)
    latest = queries.latest_per_rule(engine, _rule_keys([repo] if repo else []))
    calls = trigger_log().list_calls(limit=TRIGGER_CALLS, repository=name,
                                     provider=repo.provider if repo else provider)
    return render_template(
        "repository.html", name=name, repo=repo, latest=latest, builds=builds, pager=pager,
        status=status or "", ref=ref_text, refs=queries.recent_refs(engine, name),
        trigger=trigger or "",
        trigger_calls=calls, source_id=source_id(repo) if repo else None,
        **(repository_rebuilds(repo) if repo else {}),
        refresh=3 if any(not b.status.is_terminal() for b in builds) else 20,
    )


@bp.get("/builds/<build_id>")
def build_page(build_id: str) -> str:
    """One build: status, phase, commit, tags and digest, timings, log, Cancel / Retry."""
    build = store().get_build(build_id)
    if build is None:
        abort(404)
    log, last_seq, truncated = store().log_tail(build_id, LOG_PAGE_LIMIT)
    log_html, highlighted = render_log(log, build.status)
    repo = rules().find(build.provider, build.repository)
    rule = next((r for r in repo.rules if r.index == build.rule_index), None) if repo else None
    live = queue_snapshot() if build.status is BuildStatus.QUEUED else None
    return render_template(
        "build.html", build=build, log_html=log_html, highlighted=highlighted,
        truncated=truncated, last_seq=last_seq, phases=phases(build), phase=phase_of(build),
        running=build.status in RUNNING, rule=rule,
        waiting_reason=live.waiting_reason(build) if live else None,
        superseded=queries.superseded_builds(_engine(), build_id),
        takeovers=takeovers(store(), build, before=build.pushing_at or build.finished_at)
        if build.status is BuildStatus.SUCCESS else [],
        notifications=outbox().for_build(build_id),
        link=commit_url(build.plan.clone_url, build.provider, build.commit),
        **build_rebuilds(build),
    )


@bp.get("/deliveries")
def deliveries() -> str:
    """The webhook delivery log, newest first, filterable by outcome."""
    raw = request.args.get("outcome", "")
    outcome = DeliveryOutcome(raw) if raw in OUTCOMES else None
    engine = _engine()
    pager = Pager(_page_number(), DELIVERY_PAGE_SIZE,
                  queries.count_deliveries(engine, outcome=outcome))
    records = queries.list_deliveries(engine, limit=DELIVERY_PAGE_SIZE, offset=pager.offset,
                                      outcome=outcome)
    return render_template("deliveries.html", deliveries=records, pager=pager,
                           outcome=outcome.value if outcome else "", outcomes=OUTCOMES)


@bp.errorhandler(404)
def not_found(_error: Exception) -> tuple[str, int]:
    """This blueprint's pages answer 404 with a page of the site."""
    return render_template("error.html", title="Not found",
                           message="There is nothing at this address."), 404
