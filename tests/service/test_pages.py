"""The status pages without JavaScript (Flask test client): rendering, escaping, access, actions."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.security import generate_password_hash

from core.decision import DeliveryOutcome
from core.status import BuildStatus
from records import queries
from records.builds import BuildFilter, BuildRecord, BuildStore
from service.presentation import commit_url, render_log
from tests.conftest import API_TOKEN, git, make_repo, repo_yaml
from tests.factories import SteppingClock, make_plan
from tests.fakes import RecordingQueue

pytestmark = pytest.mark.both_databases

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'
TWO_RULES = ("      - source_type: branch\n        source: master\n        tag: latest\n"
             "      - source_type: tag\n        source: /^v([0-9.]+)$/\n        tag: \"{\\\\1}\"\n")
PASSWORD = "correct horse battery"


def store_of(app: Flask) -> BuildStore:
    return app.extensions["build_store"]  # type: ignore[no-any-return]


def finish(store: BuildStore, build: BuildRecord, status: BuildStatus, **kwargs: str) -> None:
    """Walk a queued build through the phases to `status`."""
    for step in (BuildStatus.CLONING, BuildStatus.BUILDING, BuildStatus.PUSHING):
        if status is step:
            break
        if status in (BuildStatus.CANCELLED, BuildStatus.SUPERSEDED):
            break
        assert store.set_status(build.id, step)
        if status is BuildStatus.FAILED and step is BuildStatus.BUILDING:
            break
    if status.is_terminal():
        assert store.set_status(build.id, status, **kwargs)


def login(client: FlaskClient, username: str = "", password: str = API_TOKEN) -> None:
    """Log in through the form, with its CSRF token."""
    page = client.get("/login").get_data(as_text=True)
    token = csrf_from(page)
    response = client.post("/login", data={"username": username, "password": password,
                                           "csrf_token": token})
    assert response.status_code == 303, response.get_data(as_text=True)


def csrf_from(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


@pytest.fixture
def app(app_factory: Callable[..., Flask]) -> Flask:
    return app_factory("repositories:\n" + repo_yaml(rules=TWO_RULES),
                       USERS={"alice": generate_password_hash(PASSWORD)})


@pytest.fixture
def store(app: Flask) -> BuildStore:
    """The app's database, written with a clock that steps, so builds sort by creation."""
    return BuildStore(store_of(app).engine, log_cap=store_of(app).log_cap, clock=SteppingClock())


# --- pages render, without JavaScript ----------------------------------------------------


def test_dashboard_lists_rules_with_latest_build_and_in_progress_first(
        client: FlaskClient, store: BuildStore, app: Flask) -> None:
    (old,) = store.create_builds([make_plan(commit="1" * 40)])
    finish(store, old, BuildStatus.FAILED, error="boom")
    (new,) = store.create_builds([make_plan(commit="2" * 40)])
    finish(store, new, BuildStatus.SUCCESS, digest="sha256:" + "d" * 64)
    (running,) = store.create_builds([make_plan(rule_index=1, ref="refs/tags/v1.0",
                                                commit="3" * 40)])
    store.set_status(running.id, BuildStatus.CLONING)
    with app.app_context():
        app.extensions["delivery_log"].record_delivery(
            forge="github", delivery_id="d-1", event="push", repository="acme/webapp",
            refs=["refs/heads/feature"], outcome=DeliveryOutcome.IGNORED,
            reason=f"no rule matches {XSS}", status_code=200, accepted=True)

    html = client.get("/").get_data(as_text=True)

    in_progress = html.index('id="in-progress"')
    assert in_progress < html.index('id="repositories"')
    assert running.id in html[in_progress:html.index('id="repositories"')]
    repos = html[html.index('id="repositories"'):html.index('id="not-built"')]
    assert "status-success" in repos and "2222222" in repos  # the newest build of rule 1
    assert "1111111" not in repos  # not the older one
    assert "status-cloning" in repos and "3333333" in repos  # rule 2's latest
    assert ">success<" in repos  # status by word too, not only colour
    assert "no rule matches &lt;script&gt;" in html and XSS not in html
    assert 'href="https://github.com/acme/webapp/commit/' + "2" * 40 + '"' in html


def test_every_page_renders_server_side(client: FlaskClient, store: BuildStore) -> None:
    (build,) = store.create_builds([make_plan()])
    store.append_log(build.id, "Step 1/2 : FROM busybox\nhello from the log\n")
    for url, expected in [("/", "acme/webapp"), ("/repos/acme/webapp", "Build rules"),
                          (f"/builds/{build.id}", "hello from the log"),
                          ("/deliveries", "Webhook deliveries"), ("/login", "Log in")]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert expected in response.get_data(as_text=True), url
        assert response.mimetype == "text/html"


def test_unknown_build_and_repository_are_404(client: FlaskClient) -> None:
    assert client.get("/builds/nope").status_code == 404
    assert client.get("/repos/nobody/nothing").status_code == 404
    assert client.get("/builds/nope/events").status_code == 404


def test_gitlab_subgroup_names_route(app_factory: Callable[..., Flask]) -> None:
    app = app_factory("repositories:\n" + repo_yaml("group/sub/project", provider="gitlab"))
    html = app.test_client().get("/repos/group/sub/project").get_data(as_text=True)
    assert "group/sub/project" in html and "Build rules" in html


def test_build_page_escapes_log_commit_message_and_error(client: FlaskClient,
                                                         store: BuildStore) -> None:
    (build,) = store.create_builds([make_plan(commit_message=f"Nice {XSS} commit")])
    store.append_log(build.id, f"Step 1/1 : RUN echo {XSS}\n{XSS}\n")
    finish(store, build, BuildStatus.FAILED, error=f"failed: {XSS}")

    html = client.get(f"/builds/{build.id}").get_data(as_text=True)

    assert XSS not in html
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "Nice &lt;script&gt;" in html


def test_build_page_shows_status_phase_tags_digest_timings_and_links(
        client: FlaskClient, store: BuildStore) -> None:
    (build,) = store.create_builds([make_plan()])
    finish(store, build, BuildStatus.SUCCESS, digest="sha256:" + "e" * 64)
    html = client.get(f"/builds/{build.id}").get_data(as_text=True)
    assert "status-success" in html and ">success<" in html
    assert "127.0.0.1:5000/acme/webapp:latest" in html and "sha256:" + "e" * 64 in html
    for phase in ("queued", "cloning", "building", "pushing"):
        assert f"<td>{phase}" in html
    assert f'https://github.com/acme/webapp/commit/{"a" * 40}' in html
    assert 'id="retry"' in html and 'id="cancel"' not in html
    assert 'class="log finished"' in html


def test_build_page_shows_the_builder_and_each_platforms_digest(
        client: FlaskClient, store: BuildStore) -> None:
    (classic,) = store.create_builds([make_plan(builder="classic")])
    assert '<dd id="builder">classic</dd>' in client.get(f"/builds/{classic.id}").get_data(
        as_text=True)
    (build,) = store.create_builds([make_plan(platforms=("linux/amd64", "linux/arm64"),
                                              ref="refs/heads/multi")])
    digests = (("linux/amd64", "sha256:" + "a" * 64), ("linux/arm64", "sha256:" + "b" * 64))
    store.record_platform_digests(build.id, digests)
    finish(store, build, BuildStatus.SUCCESS, digest="sha256:" + "c" * 64)
    html = client.get(f"/builds/{build.id}").get_data(as_text=True)
    assert '<dd id="builder">BuildKit · linux/amd64, linux/arm64</dd>' in html
    listed = html.split('id="platform-digests"')[1].split("</dd>")[0]
    assert [(p, d) for p, d in digests if f"<code>{p}</code> <code>{d}</code>" in listed] == list(
        digests)


def test_running_build_offers_cancel_and_the_event_stream(client: FlaskClient,
                                                          store: BuildStore) -> None:
    (build,) = store.create_builds([make_plan()])
    store.set_status(build.id, BuildStatus.CLONING)
    store.append_log(build.id, "cloning\n")
    html = client.get(f"/builds/{build.id}").get_data(as_text=True)
    assert 'id="cancel"' in html and 'id="retry"' not in html
    assert f'data-events="/builds/{build.id}/events"' in html and 'data-seq="1"' in html
    assert "build.js" in html


def test_superseded_links_both_ways(client: FlaskClient, store: BuildStore) -> None:
    (first,) = store.create_builds([make_plan(commit="1" * 40)])
    (second,) = store.create_builds([make_plan(commit="2" * 40)])
    assert store.set_status(first.id, BuildStatus.SUPERSEDED, superseded_by=second.id)
    html = client.get(f"/builds/{first.id}").get_data(as_text=True)
    assert "Superseded by" in html and f'href="/builds/{second.id}"' in html
    html = client.get(f"/builds/{second.id}").get_data(as_text=True)
    assert "Supersedes" in html and f'href="/builds/{first.id}"' in html


def test_failing_step_is_highlighted(client: FlaskClient, store: BuildStore) -> None:
    (build,) = store.create_builds([make_plan()])
    store.append_log(build.id, "Step 1/3 : FROM busybox\n ---> abc\n"
                               "Step 2/3 : RUN false\n ---> Running in 123\n"
                               "ERROR: The command '/bin/sh -c false' returned a non-zero code: 1\n"
                               "\nBuild failed while building: step 2 failed\n")
    finish(store, build, BuildStatus.FAILED, error="step 2 failed")
    html = client.get(f"/builds/{build.id}").get_data(as_text=True)
    block = re.search(r'<mark class="failing-step" id="failing-step">(.*?)</mark>', html, re.S)
    assert block is not None
    assert block.group(1).startswith("Step 2/3 : RUN false")
    assert "returned a non-zero code" in block.group(1) and "Step 1/3" not in block.group(1)
    assert 'href="#failing-step"' in html


@pytest.mark.parametrize(
    ("log", "status", "marked"),
    [
        pytest.param("Step 1/1 : RUN x\nout\nERROR: bad\n", BuildStatus.FAILED,
                     "Step 1/1 : RUN x\nout\n<strong class=\"log-error\">ERROR: bad\n</strong>",
                     id="error-after-step"),
        pytest.param("Step 1/1 : RUN x\nSuccessfully built abc\nPushing\n"
                     "Build failed while pushing: denied\n", BuildStatus.FAILED, None,
                     id="push-failure-no-step"),
        pytest.param("Step 1/1 : RUN sleep 1000\n", BuildStatus.TIMED_OUT,
                     "Step 1/1 : RUN sleep 1000\n", id="timed-out-in-step"),
        pytest.param("Step 1/1 : RUN x\nERROR: bad\n", BuildStatus.SUCCESS, None, id="success"),
        pytest.param("clone failed\nBuild failed while cloning: nope\n", BuildStatus.FAILED,
                     None, id="no-steps"),
    ],
)
def test_render_log(log: str, status: BuildStatus, marked: str | None) -> None:
    html, highlighted = render_log(log, status)
    found = re.search(r'<mark class="failing-step" id="failing-step">(.*?)</mark>', html, re.S)
    assert highlighted is (marked is not None)
    assert (found.group(1) if found else None) == marked


SAMPLES = Path(__file__).parent / "samples"


def test_render_log_highlights_buildkits_failing_step_in_the_build_that_failed() -> None:
    log = (SAMPLES / "buildkit_two_platforms_arm64_fails.log").read_text()
    html, highlighted = render_log(log, BuildStatus.FAILED)
    found = re.search(r'<mark class="failing-step" id="failing-step">(.*?)</mark>', html, re.S)
    assert highlighted and found is not None
    block = found.group(1).splitlines()
    assert block[0] == "#8 [3/3] RUN test &#34;$(uname -m)&#34; = x86_64"
    assert block[-2:] == ['<strong class="log-error">#8 ERROR: executor failed running '
                          '[/bin/sh -c test &#34;$(uname -m)&#34; = x86_64]: exit code: 1',
                          "</strong>"]
    assert len(block) == 4  # its name, its digest line, its error
    assert html.index("Building for linux/arm64") < html.index('id="failing-step"')
    warnings = re.findall(r".*ERROR: 127.0.0.1:5000/multifail-af5deae6fe/app:latest: not "
                          r"found.*", html)
    assert len(warnings) == 2 and not any("log-error" in w for w in warnings)
    assert html.count('class="log-error"') == 2  # the step's ERROR and "Build failed while"


def test_render_log_escapes() -> None:
    html, _ = render_log(f"Step 1/1 : RUN {XSS}\nERROR: {XSS}\n", BuildStatus.FAILED)
    assert "<script>" not in html and "&lt;script&gt;" in html


@pytest.mark.parametrize(
    ("clone_url", "provider", "expected"),
    [
        ("https://github.com/acme/webapp.git", "github", "https://github.com/acme/webapp/commit/"),
        ("https://gitea.example.com/acme/app.git", "gitea",
         "https://gitea.example.com/acme/app/commit/"),
        ("https://gitlab.com/a/b/c.git", "gitlab", "https://gitlab.com/a/b/c/-/commit/"),
        ("https://oauth2:s3cret@gitlab.example.com:8443/a/b.git", "gitlab",
         "https://gitlab.example.com:8443/a/b/-/commit/"),
        ("https://bitbucket.org/team/repo.git", "bitbucket",
         "https://bitbucket.org/team/repo/commits/"),
        ("https://bb.example.com/scm/proj/repo.git", "bitbucket",
         "https://bb.example.com/projects/proj/repos/repo/commits/"),
        ("file:///srv/git/repo.git", "github", None),
        ("git@github.com:acme/webapp.git", "github", None),
        ("ssh://git@github.com/acme/webapp.git", "github", None),
        ("http://github.com/acme/webapp.git", "github", None),
    ],
)
def test_commit_url(clone_url: str, provider: str, expected: str | None) -> None:
    sha = "c" * 40
    assert commit_url(clone_url, provider, sha) == (expected + sha if expected else None)


def test_repository_page_rules_table_pagination_and_filters(
        client: FlaskClient, store: BuildStore) -> None:
    made = []
    for i in range(30):
        ref = "refs/tags/v1.0" if i % 3 == 0 else "refs/heads/master"
        (build,) = store.create_builds([make_plan(rule_index=1 if i % 3 == 0 else 0, ref=ref,
                                             commit=f"{i:040x}")])
        if i % 2:
            finish(store, build, BuildStatus.FAILED, error="x")
        made.append(build)

    html = client.get("/repos/acme/webapp").get_data(as_text=True)
    rules_table = html[html.index('id="rules"'):html.index('id="builds"')]
    for header in ("Source type", "Source", "Docker tags", "Dockerfile", "Context", "Builder",
                   "Autobuild", "Last build"):
        assert f"<th>{header}</th>" in rules_table
    assert '<td data-label="Builder">buildkit</td>' in rules_table
    assert "/^v([0-9.]+)$/" in rules_table and "(regex)" in rules_table
    assert "Page 1 of 2" in html and "30 builds" in html
    listed = html.split('id="builds-list"')[1]
    assert made[-1].id in listed and made[0].id not in listed

    page2 = client.get("/repos/acme/webapp?page=2").get_data(as_text=True)
    listed = page2.split('id="builds-list"')[1]
    assert made[0].id in listed and made[-1].id not in listed and "Page 2 of 2" in listed

    failed = client.get("/repos/acme/webapp?status=failed").get_data(as_text=True)
    assert "15 builds" in failed and "status-queued" not in failed.split('id="builds-list"')[1]

    tags = client.get("/repos/acme/webapp?ref=v1.0").get_data(as_text=True)
    assert "10 builds" in tags
    full = client.get("/repos/acme/webapp?ref=refs/tags/v1.0&status=failed")
    assert "5 builds" in full.get_data(as_text=True)
    assert "No builds match" in client.get("/repos/acme/webapp?ref=nope").get_data(as_text=True)


def test_deliveries_page_lists_and_filters(client: FlaskClient, app: Flask) -> None:
    with app.app_context():
        log = app.extensions["delivery_log"]
        log.record_delivery(forge="github", delivery_id="ok-1", event="push",
                            repository="acme/webapp", refs=["refs/heads/master"],
                            outcome=DeliveryOutcome.IGNORED, reason="autobuild is off",
                            status_code=200, accepted=True)
        log.record_delivery(forge="gitlab", delivery_id="bad-1", event="push", repository=None,
                            refs=[], outcome=DeliveryOutcome.REJECTED, reason="bad signature",
                            status_code=401, accepted=False)
    html = client.get("/deliveries").get_data(as_text=True)
    assert "autobuild is off" in html and "bad signature" in html and "ok-1" in html
    rejected = client.get("/deliveries?outcome=rejected").get_data(as_text=True)
    assert "bad signature" in rejected and "autobuild is off" not in rejected


# --- read access ---------------------------------------------------------------------------


def test_login_read_access_redirects_pages_and_refuses_streams(
        app_factory: Callable[..., Flask]) -> None:
    app = app_factory(READ_ACCESS="login")
    (build,) = store_of(app).create_builds([make_plan()])
    client = app.test_client()
    for url in ("/", "/repos/acme/webapp", f"/builds/{build.id}", "/deliveries"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/login?next=")
    assert client.get(f"/builds/{build.id}/events").status_code == 401
    assert client.get("/login").status_code == 200
    assert client.get("/", headers={"Authorization": f"Bearer {API_TOKEN}"}).status_code == 200
    login(client)
    assert client.get("/").status_code == 200
    assert client.get(f"/builds/{build.id}").status_code == 200


# --- login -------------------------------------------------------------------------------------


def test_login_with_configured_user(client: FlaskClient) -> None:
    login(client, "alice", PASSWORD)
    html = client.get("/").get_data(as_text=True)
    assert "alice" in html and "Log out" in html


@pytest.mark.parametrize(("username", "password"), [
    ("alice", "wrong"), ("mallory", PASSWORD), ("alice", API_TOKEN), ("alice", ""),
])
def test_login_refuses_wrong_credentials(client: FlaskClient, username: str,
                                         password: str) -> None:
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"username": username, "password": password,
                                           "csrf_token": token})
    assert response.status_code == 401
    assert "Wrong user name or password" in response.get_data(as_text=True)
    assert "Log out" not in client.get("/").get_data(as_text=True)


def test_api_token_logs_in_as_admin(client: FlaskClient) -> None:
    login(client, "admin", API_TOKEN)
    assert '<span class="user" title="logged in">admin</span>' in client.get("/").get_data(
        as_text=True)


def test_login_needs_csrf_and_ignores_foreign_next(client: FlaskClient) -> None:
    response = client.post("/login", data={"username": "alice", "password": PASSWORD})
    assert response.status_code == 400
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login?next=//evil.example/x",
                           data={"username": "alice", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 303 and response.headers["Location"] == "/"


def test_users_from_environment_and_file(app_factory: Callable[..., Flask], tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTOBUILD_USERS", f"bob:{generate_password_hash('bobpw')},broken")
    users_file = tmp_path / "users"
    users_file.write_text(f"# team\ncarol:{generate_password_hash('carolpw')}\n\n")
    monkeypatch.setenv("AUTOBUILD_USERS_FILE", str(users_file))
    app = app_factory()
    for name, password in (("bob", "bobpw"), ("carol", "carolpw")):
        client = app.test_client()
        login(client, name, password)
        assert f'title="logged in">{name}<' in client.get("/").get_data(as_text=True)


def test_logout_forgets_the_session_only_with_its_csrf_token(client: FlaskClient) -> None:
    login(client, "alice", PASSWORD)
    client.post("/logout")
    page = client.get("/").get_data(as_text=True)
    assert "Log out" in page, "a cross-site POST must not log the user out"
    client.post("/logout", data={"csrf_token": csrf_from(page)})
    assert "Log out" not in client.get("/").get_data(as_text=True)


# --- actions need a login and the CSRF token ----------------------------------------------


def test_cancel_needs_login_and_csrf(client: FlaskClient, store: BuildStore,
                                     queue: RecordingQueue) -> None:
    (build,) = store.create_builds([make_plan()])
    url = f"/actions/builds/{build.id}/cancel"

    anonymous = client.post(url)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    login(client, "alice", PASSWORD)
    no_csrf = client.post(url)
    assert no_csrf.status_code == 400
    wrong = client.post(url, data={"csrf_token": "forged"})
    assert wrong.status_code == 400
    assert store.get_build(build.id).status is BuildStatus.QUEUED  # type: ignore[union-attr]

    page = client.get(f"/builds/{build.id}").get_data(as_text=True)
    done = client.post(url, data={"csrf_token": csrf_from(page)})
    assert done.status_code == 303
    cancelled = store.get_build(build.id)
    assert cancelled is not None and cancelled.status is BuildStatus.CANCELLED
    assert cancelled.error == "cancelled by alice"
    assert queue.discarded == [build.id]
    again = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Build cancelled." in again and 'id="retry"' in again


def test_retry_needs_login_and_csrf(client: FlaskClient, store: BuildStore,
                                    queue: RecordingQueue) -> None:
    (build,) = store.create_builds([make_plan()])
    finish(store, build, BuildStatus.FAILED, error="x")
    url = f"/actions/builds/{build.id}/retry"
    assert client.post(url).status_code == 302
    login(client, "alice", PASSWORD)
    assert client.post(url).status_code == 400
    assert queue.enqueued == []

    token = csrf_from(client.get(f"/builds/{build.id}").get_data(as_text=True))
    response = client.post(url, data={"csrf_token": token})
    assert response.status_code == 303 and len(queue.enqueued) == 1
    new_id = queue.enqueued[0]
    assert response.headers["Location"] == f"/builds/{new_id}"
    new = store.get_build(new_id)
    assert new is not None and new.trigger == "retry" and new.commit == build.commit
    assert "requested by alice" in store.get_log(new_id)


def test_retry_of_running_build_is_refused_with_a_message(client: FlaskClient,
                                                          store: BuildStore) -> None:
    (build,) = store.create_builds([make_plan()])
    login(client, "alice", PASSWORD)
    token = csrf_from(client.get(f"/builds/{build.id}").get_data(as_text=True))
    response = client.post(f"/actions/builds/{build.id}/retry", data={"csrf_token": token},
                           follow_redirects=True)
    assert "still queued" in response.get_data(as_text=True)


def test_retry_moving_tags_back_asks_to_confirm_first(client: FlaskClient, store: BuildStore,
                                                     queue: RecordingQueue) -> None:
    (old,) = store.create_builds([make_plan(commit="1" * 40)])
    finish(store, old, BuildStatus.SUCCESS, digest="sha256:" + "1" * 64)
    (new,) = store.create_builds([make_plan(commit="2" * 40)])
    finish(store, new, BuildStatus.SUCCESS, digest="sha256:" + "2" * 64)
    login(client, "alice", PASSWORD)
    token = csrf_from(client.get(f"/builds/{old.id}").get_data(as_text=True))

    asked = client.post(f"/actions/builds/{old.id}/retry", data={"csrf_token": token})

    assert asked.status_code == 409 and queue.enqueued == []
    page = asked.get_data(as_text=True)
    assert "now hold the later push 2222222" in page and 'id="confirm-retry"' in page
    assert 'name="force" value="1"' in page
    confirmed = client.post(f"/actions/builds/{old.id}/retry",
                            data={"csrf_token": csrf_from(page), "force": "1"})
    assert confirmed.status_code == 303 and len(queue.enqueued) == 1
    retried = store.get_build(queue.enqueued[0])
    assert retried is not None and retried.plan.move_tags_back
    assert "confirmed: moves the tags back" in store.get_log(retried.id)


def test_api_token_may_act_without_csrf(client: FlaskClient, store: BuildStore) -> None:
    (build,) = store.create_builds([make_plan()])
    response = client.post(f"/actions/builds/{build.id}/cancel",
                           headers={"Authorization": f"Bearer {API_TOKEN}"})
    assert response.status_code == 303
    assert store.get_build(build.id).status is BuildStatus.CANCELLED  # type: ignore[union-attr]


@pytest.fixture
def git_app(app_factory: Callable[..., Flask], tmp_path: Path) -> tuple[Flask, str]:
    """An app whose repository is a real local git repository with master and tag v1.2."""
    bare, commit = make_repo(tmp_path / "src", {"Dockerfile": "FROM busybox\n"}, branch="master")
    git("tag", "v1.2", commit, cwd=bare)
    app = app_factory("repositories:\n" + repo_yaml(rules=TWO_RULES, clone_url=f"file://{bare}"),
                      USERS={"alice": generate_password_hash(PASSWORD)})
    return app, commit


def test_build_now_literal_rule(git_app: tuple[Flask, str], queue: RecordingQueue) -> None:
    app, commit = git_app
    client = app.test_client()
    html = client.get("/repos/acme/webapp").get_data(as_text=True)
    assert "Log in to build" in html and "Build now</button>" not in html
    assert client.post("/actions/build-now", data={"repository": "acme/webapp",
                                                   "rule_index": "0"}).status_code == 302
    assert queue.enqueued == []

    login(client, "alice", PASSWORD)
    html = client.get("/repos/acme/webapp").get_data(as_text=True)
    assert client.post("/actions/build-now", data={"repository": "acme/webapp",
                                                   "rule_index": "0"}).status_code == 400
    response = client.post("/actions/build-now", data={
        "csrf_token": csrf_from(html), "repository": "acme/webapp", "provider": "github",
        "rule_index": "0", "ref": "refs/heads/master"})
    assert response.status_code == 303 and len(queue.enqueued) == 1
    build = store_of(app).get_build(queue.enqueued[0])
    assert build is not None and build.commit == commit and build.ref == "refs/heads/master"
    assert build.trigger == "manual" and build.rule_index == 0
    assert response.headers["Location"] == f"/builds/{build.id}"


def test_build_now_regex_rule_asks_for_a_ref(git_app: tuple[Flask, str],
                                             queue: RecordingQueue) -> None:
    app, commit = git_app
    client = app.test_client()
    login(client, "alice", PASSWORD)
    html = client.get("/repos/acme/webapp").get_data(as_text=True)
    row = html[html.index('id="rule-1"'):]
    row = row[:row.index("</tr>")]
    assert '<input name="ref" required' in row
    data = {"csrf_token": csrf_from(html), "repository": "acme/webapp", "provider": "github",
            "rule_index": "1", "back": "/repos/acme/webapp"}

    empty = client.post("/actions/build-now", data={**data, "ref": ""}, follow_redirects=True)
    assert "Enter the tag name to build" in empty.get_data(as_text=True)
    wrong = client.post("/actions/build-now", data={**data, "ref": "master"},
                        follow_redirects=True)
    assert "refs/tags/master" in wrong.get_data(as_text=True)  # no such tag
    assert queue.enqueued == []

    response = client.post("/actions/build-now", data={**data, "ref": "v1.2"})
    assert response.status_code == 303 and len(queue.enqueued) == 1
    build = store_of(app).get_build(queue.enqueued[0])
    assert build is not None and build.ref == "refs/tags/v1.2" and build.commit == commit
    assert build.tags == ("127.0.0.1:5000/acme/webapp:1.2",)


# --- the event stream ------------------------------------------------------------------------


def events_of(body: str) -> list[dict[str, str]]:
    """The SSE events in a response body, each as {"event", "id", "data"}."""
    found = []
    for block in body.split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.splitlines():
            name, _, value = line.partition(": ")
            if name in ("event", "id", "data"):
                fields[name] = value
        if "event" in fields:
            found.append(fields)
    return found


def test_stream_of_a_finished_build_sends_log_status_and_end(
        app_factory: Callable[..., Flask]) -> None:
    app = app_factory(STREAM_POLL_SECONDS=0.01)
    store = store_of(app)
    (build,) = store.create_builds([make_plan()])
    for text in ("one\n", "two\n", "three\n"):
        store.append_log(build.id, text)
    finish(store, build, BuildStatus.SUCCESS)
    client = app.test_client()

    response = client.get(f"/builds/{build.id}/events")
    assert response.mimetype == "text/event-stream"
    assert response.headers["Cache-Control"] == "no-cache"
    events = events_of(response.get_data(as_text=True))
    assert [(e["event"], e.get("id")) for e in events] == [
        ("log", "1"), ("log", "2"), ("log", "3"), ("status", None), ("end", None)]
    assert '"success"' in events[3]["data"] and '"text": "two\\n"' in events[1]["data"]

    resumed = client.get(f"/builds/{build.id}/events", headers={"Last-Event-ID": "2"})
    assert [e.get("id") for e in events_of(resumed.get_data(as_text=True))
            if e["event"] == "log"] == ["3"]
    after = client.get(f"/builds/{build.id}/events?after=1")
    assert len([e for e in events_of(after.get_data(as_text=True)) if e["event"] == "log"]) == 2


def test_stream_follows_a_running_build_until_it_ends(app_factory: Callable[..., Flask]) -> None:
    app = app_factory(STREAM_POLL_SECONDS=0.02)
    store = store_of(app)
    (build,) = store.create_builds([make_plan()])
    store.set_status(build.id, BuildStatus.CLONING)

    def work() -> None:
        for i in range(5):
            time.sleep(0.05)
            store.append_log(build.id, f"line {i}\n")
        store.set_status(build.id, BuildStatus.BUILDING)
        store.set_status(build.id, BuildStatus.FAILED, error="nope")

    worker = threading.Thread(target=work)
    worker.start()
    body = app.test_client().get(f"/builds/{build.id}/events").get_data(as_text=True)
    worker.join()
    events = events_of(body)
    logs = "".join(e["data"] for e in events if e["event"] == "log")
    assert all(f"line {i}" in logs for i in range(5))
    assert [e["event"] for e in events if e["event"] != "log"][-1] == "end"
    assert '"status": "failed"' in events[-1]["data"]


def test_stream_stops_at_its_time_limit_without_end(app_factory: Callable[..., Flask]) -> None:
    app = app_factory(STREAM_POLL_SECONDS=0.01, STREAM_MAX_SECONDS=0.1)
    (build,) = store_of(app).create_builds([make_plan()])
    started = time.monotonic()
    body = app.test_client().get(f"/builds/{build.id}/events").get_data(as_text=True)
    assert time.monotonic() - started < 5
    assert body.startswith("retry: ")
    assert "end" not in [e["event"] for e in events_of(body)]


# --- queries --------------------------------------------------------------------------------


def test_latest_per_rule_is_one_query_for_every_rule(store: BuildStore) -> None:
    for i in range(3):
        for rule in (0, 1):
            store.create_builds([replace(make_plan(rule_index=rule, commit=f"{i}{rule}" * 20),
                                         ref=f"refs/heads/b{i}")])
    store.create_builds([make_plan(repository="other/repo", commit="f" * 40)])
    keys = [("acme/webapp", "github", 0), ("acme/webapp", "github", 1),
            ("acme/webapp", "github", 2), ("acme/webapp", "gitlab", 0)]
    latest = queries.latest_per_rule(store.engine, keys)
    assert set(latest) == {("acme/webapp", "github", 0), ("acme/webapp", "github", 1)}
    assert latest[("acme/webapp", "github", 0)].commit == "20" * 20
    assert latest[("acme/webapp", "github", 1)].commit == "21" * 20
    assert store.count_builds(BuildFilter(repository="acme/webapp")) == 6
    assert queries.latest_per_rule(store.engine, []) == {}
    many = [("acme/webapp", "github", i) for i in range(450)]  # more than one statement
    assert set(queries.latest_per_rule(store.engine, many)) == set(keys[:2])


@pytest.mark.parametrize("path", ["/", "/repos/acme/webapp", "/deliveries", "/api/builds",
                                  "/api/deliveries", "/metrics", "/badge/acme/webapp.svg"])
def test_login_mode_refuses_head_like_get(app_factory: Callable[..., Flask], path: str) -> None:
    client = app_factory(READ_ACCESS="login").test_client()
    got, head = client.get(path), client.head(path)
    assert got.status_code in (302, 401) and head.status_code == got.status_code
    assert head.headers.get("Content-Length") == got.headers.get("Content-Length")


def test_live_log_streams_are_capped_per_process(app_factory: Callable[..., Flask]) -> None:
    app = app_factory(STREAMS_PER_PROCESS=1)
    store = store_of(app)
    (build,) = store.create_builds([make_plan()])
    client = app.test_client()
    first = client.get(f"/builds/{build.id}/events", buffered=False)
    assert first.status_code == 200
    refused = client.get(f"/builds/{build.id}/events")
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "10"
    first.close()  # the client went away: its slot is free again
    second = client.get(f"/builds/{build.id}/events", buffered=False)
    assert second.status_code == 200
    second.close()
