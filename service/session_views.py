"""Logging in and out of the status pages (a login form with CSRF; sessions, not tokens)."""

from __future__ import annotations

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

from service.auth import csrf_ok, safe_next, start_session, token_matches
from service.login_limits import LoginLimiter, SharedLoginLimiter
from service.users import check_user

bp = Blueprint("session", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | BaseResponse | tuple[str, int]:
    """Log in as a configured user (AUTOBUILD_USERS), or as "admin" with the API token."""
    target = safe_next(request.args.get("next"), url_for("pages.index"))
    if request.method == "POST":
        if not csrf_ok():
            flash("The login form expired; please try again.", "error")
            return render_template("login.html", next=target), 400
        name = request.form.get("username", "").strip()[:200]
        password = request.form.get("password", "") or request.form.get("token", "")
        limiter: LoginLimiter | SharedLoginLimiter = current_app.extensions["login_limiter"]
        address = request.remote_addr or "unknown"
        wait = limiter.retry_after(name or "admin", address)
        if wait > 0:
            flash(f"Too many failed logins; try again in {int(wait) + 1} s.", "error")
            response = current_app.make_response(
                (render_template("login.html", next=target, username=name), 429))
            response.headers["Retry-After"] = str(int(wait) + 1)
            return response
        user: str | None = None
        if name and check_user(name, password):
            user = name
        elif name in ("", "admin") and token_matches(password):
            user = "admin"
        if user is None:
            limiter.failed(name or "admin", address)
        else:
            limiter.succeeded(user)
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
