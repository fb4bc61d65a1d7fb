"""The forms that act: login, logout, Build now, cancel and retry (login + CSRF required)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.wrappers import Response as BaseResponse

from core.events import RefKind
from core.rules import BuildRule
from service import actions
from service.actions import ActionError, build_now, find_repository
from service.auth import (
    action_allowed,
    actor,
    bearer_ok,
    csrf_ok,
    logged_in,
    safe_next,
    start_session,
    token_matches,
)
from service.presentation import shortref
from service.users import check_user

bp = Blueprint("forms", __name__)


def _refuse_form() -> BaseResponse | tuple[str, int] | None:
    """Why this form post may not act (a response), or None when it may."""
    if action_allowed():
        return None
    if not logged_in() and not bearer_ok():
        flash("Log in to start, cancel or retry builds.", "error")
        back = safe_next(_referrer_path(), url_for("pages.index"))
        return redirect(url_for("forms.login", next=back))
    return render_template("error.html", title="Form expired",
                           message="The form's security token is missing or out of date. "
                                   "Go back, reload the page and try again."), 400


def _referrer_path() -> str | None:
    """The path (and query) of the page the form was posted from, when it is ours."""
    referrer = request.referrer
    if not referrer:
        return None
    parts = urlsplit(referrer)
    if parts.netloc and parts.netloc != request.host:
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _back(default: str) -> BaseResponse:
    return redirect(safe_next(request.form.get("back") or _referrer_path(), default), code=303)


def literal_ref(rule: BuildRule) -> str:
    """The full ref a literal rule builds."""
    prefix = "refs/heads/" if rule.source_type is RefKind.BRANCH else "refs/tags/"
    return prefix + rule.source


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | BaseResponse | tuple[str, int]:
    """Log in as a configured user (AUTOBUILD_USERS), or as "admin" with the API token."""
    target = safe_next(request.args.get("next"), url_for("pages.index"))
    if request.method == "POST":
        if not csrf_ok():
            flash("The login form expired; please try again.", "error")
            return render_template("login.html", next=target), 400
        name = request.form.get("username", "").strip()
        password = request.form.get("password", "") or request.form.get("token", "")
        user: str | None = None
        if name and check_user(name, password):
            user = name
        elif name in ("", "admin") and token_matches(password):
            user = "admin"
        if user is not None:
            start_session(user)
            current_app.logger.info("user %s logged in", user)
            return redirect(target, code=303)
        flash("Wrong user name or password.", "error")
        return render_template("login.html", next=target, username=name), 401
    return render_template("login.html", next=target)


@bp.post("/logout")
def logout() -> BaseResponse:
    """Forget the session (only when the form's CSRF token came along: no forced logouts)."""
    if csrf_ok():
        session.clear()
    return redirect(url_for("pages.index"), code=303)


# --- actions -------------------------------------------------------------------------------


@bp.post("/actions/build-now")
def build_now_form() -> BaseResponse | tuple[str, int]:
    """Build now: a literal rule builds its branch or tag head; a regex rule needs a name."""
    refused = _refuse_form()
    if refused is not None:
        return refused
    try:
        repo = find_repository(request.form.get("repository", ""),
                               request.form.get("provider") or None)
        raw_rule = request.form.get("rule_index", "")
        rule_index = int(raw_rule) if raw_rule.isdigit() else None
        rule = next((r for r in repo.rules if r.index == rule_index), None)
        ref = request.form.get("ref", "").strip()
        if rule is not None and not rule.is_regex:
            ref = literal_ref(rule)
        elif rule is not None and ref and not ref.startswith("refs/"):
            prefix = "refs/heads/" if rule.source_type is RefKind.BRANCH else "refs/tags/"
            ref = prefix + ref
        if not ref:
            kind = rule.source_type.value if rule else "branch or tag"
            raise ActionError(422, f"Enter the {kind} name to build"
                                   + (f" (it must match {rule.source})" if rule else "") + ".")
        builds = build_now(repo, ref, rule_index=rule_index, user=actor())
    except ActionError as exc:
        flash(exc.message, "error")
        return _back(url_for("pages.index"))
    flash(f"Queued {len(builds)} build{'s' if len(builds) != 1 else ''} of "
          f"{shortref(builds[0].ref)}.", "ok")
    return redirect(url_for("pages.build_page", build_id=builds[0].id), code=303)


@bp.post("/actions/builds/<build_id>/cancel")
def cancel_form(build_id: str) -> BaseResponse | tuple[str, int]:
    """Cancel a queued or running build."""
    refused = _refuse_form()
    if refused is not None:
        return refused
    try:
        actions.cancel(build_id, user=actor())
        flash("Build cancelled.", "ok")
    except ActionError as exc:
        flash(exc.message, "error")
    return redirect(url_for("pages.build_page", build_id=build_id), code=303)


@bp.post("/actions/builds/<build_id>/retry")
def retry_form(build_id: str) -> BaseResponse | tuple[str, int]:
    """Queue a new build of the same commit and rule; go to it."""
    refused = _refuse_form()
    if refused is not None:
        return refused
    try:
        new = actions.retry(build_id, user=actor())
    except ActionError as exc:
        flash(exc.message, "error")
        return redirect(url_for("pages.build_page", build_id=build_id), code=303)
    flash(f"Retrying as build {new.id}.", "ok")
    return redirect(url_for("pages.build_page", build_id=new.id), code=303)
