"""Server-rendered status pages (read our database only) and the login / Build now forms."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.wrappers import Response as BaseResponse

from service.actions import ActionError, build_now, find_repository
from service.auth import action_allowed, check_read_access, token_matches
from service.state import delivery_log, rules, rules_holder, store

bp = Blueprint("pages", __name__)


@bp.get("/")
def index() -> str:
    """Repositories with Build now per rule, recent builds, deliveries that did not build."""
    check_read_access()
    return render_template(
        "index.html",
        repositories=rules().repositories,
        builds=store().recent_builds(limit=50),
        not_built=delivery_log().recent_deliveries(limit=10, not_built=True),
        rules_error=rules_holder().error,
    )


@bp.get("/builds/<build_id>")
def build_page(build_id: str) -> str:
    """One build: status, tags, digest, error and the log."""
    check_read_access()
    build = store().get_build(build_id)
    if build is None:
        abort(404)
    return render_template("build.html", build=build, log=store().get_log(build_id))


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | BaseResponse:
    """Log in with the API token; the session then allows Build now from the pages."""
    if request.method == "POST":
        if token_matches(request.form.get("token", "")):
            session.clear()
            session["user"] = "admin"
            return redirect(request.args.get("next") or url_for("pages.index"))
        flash("That token is not AUTOBUILD_API_TOKEN.", "error")
    return render_template("login.html")


@bp.post("/logout")
def logout() -> BaseResponse:
    """Forget the session."""
    session.clear()
    return redirect(url_for("pages.index"))


@bp.post("/actions/build-now")
def build_now_form() -> BaseResponse | Response:
    """The Build now button: queue builds and go to the first one's page."""
    if not action_allowed():
        flash("Log in to start builds.", "error")
        return redirect(url_for("pages.login"))
    try:
        repo = find_repository(request.form.get("repository", ""), request.form.get("provider"))
        rule = request.form.get("rule_index", "")
        builds = build_now(repo, request.form.get("ref", ""),
                           rule_index=int(rule) if rule.isdigit() else None,
                           user=str(session.get("user", "")))
    except ActionError as exc:
        flash(exc.message, "error")
        return redirect(url_for("pages.index"))
    return redirect(url_for("pages.build_page", build_id=builds[0].id))
