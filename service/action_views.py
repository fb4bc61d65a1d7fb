"""The page forms that act: Build now, cancel and retry (a login and its CSRF token required).

The actions themselves are in service/actions.py, shared with the API; an ActionError becomes
a flashed message on the page the form came from, in this blueprint's one error handler.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from core.events import full_ref
from core.rules import BuildRule
from service import actions
from service.actions import ActionError, MovesTagsBackError, build_now, find_repository
from service.auth import action_allowed, actor, bearer_ok, logged_in, safe_next
from service.presentation import shortref
from service.request_args import whole_number

bp = Blueprint("action_views", __name__)


@bp.before_request
def _refuse_form() -> BaseResponse | tuple[str, int] | None:
    """Send anonymous users to the login form, and refuse forms without their CSRF token."""
    if action_allowed():
        return None
    if not logged_in() and not bearer_ok():
        flash("Log in to start, cancel or retry builds.", "error")
        back = safe_next(_referrer_path(), url_for("pages.index"))
        return redirect(url_for("session.login", next=back))
    return render_template("error.html", title="Form expired",
                           message="The form's security token is missing or out of date. "
                                   "Go back, reload the page and try again."), 400


@bp.errorhandler(ActionError)
def _refused(error: ActionError) -> BaseResponse:
    """Say why on the page the form came from (the build's page for cancel and retry)."""
    flash(error.message, "error")
    build_id = (request.view_args or {}).get("build_id")
    if build_id:
        return redirect(url_for("pages.build_page", build_id=build_id), code=303)
    return redirect(safe_next(request.form.get("back") or _referrer_path(),
                              url_for("pages.index")), code=303)


@bp.errorhandler(MovesTagsBackError)
def _confirm_moving_back(error: MovesTagsBackError) -> tuple[str, int]:
    """A Retry that would move tags back asks for a confirmation first."""
    build_id = (request.view_args or {}).get("build_id", "")
    return render_template("retry_confirm.html", build_id=build_id, message=error.message), 409


def _referrer_path() -> str | None:
    """The path (and query) of the page the form was posted from, when it is ours."""
    referrer = request.referrer
    if not referrer:
        return None
    parts = urlsplit(referrer)
    if parts.netloc and parts.netloc != request.host:
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def literal_ref(rule: BuildRule) -> str:
    """The full ref a literal rule builds."""
    return full_ref(rule.source_type, rule.source)


@bp.post("/actions/build-now")
def build_now_form() -> BaseResponse:
    """Build now: a literal rule builds its branch or tag head; a regex rule needs a name."""
    repo = find_repository(request.form.get("repository", ""),
                           request.form.get("provider") or None)
    raw_rule = request.form.get("rule_index", "")
    rule_index = whole_number(raw_rule)
    rule = next((r for r in repo.rules if r.index == rule_index), None)
    ref = request.form.get("ref", "").strip()
    if rule is not None and not rule.is_regex:
        ref = literal_ref(rule)
    elif rule is not None and ref and not ref.startswith("refs/"):
        ref = full_ref(rule.source_type, ref)
    if not ref:
        kind = rule.source_type.value if rule else "branch or tag"
        must = f" (it must match {rule.source})" if rule else ""
        raise ActionError(422, f"Enter the {kind} name to build{must}.")
    builds = build_now(repo, ref, rule_index=rule_index, user=actor())
    flash(f"Queued {len(builds)} build{'s' if len(builds) != 1 else ''} of "
          f"{shortref(builds[0].ref)}.", "ok")
    return redirect(url_for("pages.build_page", build_id=builds[0].id), code=303)


@bp.post("/actions/builds/<build_id>/cancel")
def cancel_form(build_id: str) -> BaseResponse:
    """Cancel a queued or running build."""
    actions.cancel(build_id, user=actor())
    flash("Build cancelled.", "ok")
    return redirect(url_for("pages.build_page", build_id=build_id), code=303)


@bp.post("/actions/builds/<build_id>/retry")
def retry_form(build_id: str) -> BaseResponse:
    """Queue a new build of the same commit and rule; go to it."""
    new = actions.retry(build_id, user=actor(), force=request.form.get("force") == "1")
    flash(f"Retrying as build {new.id}.", "ok")
    return redirect(url_for("pages.build_page", build_id=new.id), code=303)


