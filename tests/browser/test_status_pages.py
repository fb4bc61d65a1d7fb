"""The status pages in a real headless Chromium against the real stack (a worker builds for real).

Screenshots of every page go to var/screenshots/. Any JavaScript error (an uncaught exception
or a console error) on any page fails the test that opened it.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import expect

from core.signatures import sign_github
from tests.browser.conftest import Server, Tab
from tests.conftest import SECRET
from tests.core.fixtures import FIXTURES_DIR
from tests.integration.conftest import BASE_IMAGE, rules_for, unique_image

pytestmark = [pytest.mark.integration, pytest.mark.both_databases]

BUILD_TIMEOUT_MS = 180_000
TICKING = (f"FROM {BASE_IMAGE}\nCOPY . /src\n"
           "RUN for i in 1 2 3 4 5 6 7 8; do echo tick-$i; sleep 1; done\n")
SLEEPER = f"FROM {BASE_IMAGE}\nCOPY . /src\nRUN echo sleeping-now && sleep 300\n"
FAILING = f"FROM {BASE_IMAGE}\nCOPY . /src\nRUN echo about-to-fail && exit 3\n"
RULES = ("      - source_type: branch\n        source: main\n        tag: latest\n"
         "      - source_type: tag\n        source: /^v([0-9.]+)$/\n        tag: \"{\\\\1}\"\n")
BUILD_URL = re.compile(r".*/builds/([0-9a-f]+)$")


def configure(server: Server, source_repo: Callable[..., tuple[Path, str]], dockerfile: str,
              name: str = "demo/hello") -> tuple[Path, str]:
    bare, commit = source_repo({"Dockerfile": dockerfile})
    server.write_rules(rules_for(name, f"file://{bare}", unique_image("browser"), RULES))
    return bare, commit


def build_now(tab: Tab, name: str, rule: int = 0) -> str:
    """Press Build now on a rule of the repository page; returns the new build's id."""
    tab.go(f"/repos/{name}")
    tab.page.click(f"#rule-{rule} button[type=submit]")
    tab.page.wait_for_url(BUILD_URL)
    found = BUILD_URL.match(tab.page.url)
    assert found is not None
    return found.group(1)


def log_text(tab: Tab) -> str:
    return tab.page.locator("#log").text_content() or ""


def ignored_push(server: Server, name: str) -> None:
    """A signed push of a branch no rule builds: a delivery that did not build."""
    payload = json.loads((FIXTURES_DIR / "github/push-branch.json").read_bytes())
    payload["repository"]["full_name"] = name
    payload["ref"] = "refs/heads/feature/<b>not-built</b>"
    payload["after"] = payload["head_commit"]["id"] = "f" * 40
    body = json.dumps(payload).encode()
    response = server.app.test_client().post("/hooks/github", data=body, headers={
        "X-GitHub-Event": "push", "X-GitHub-Delivery": "browser-ignored-1",
        "Content-Type": "application/json", "X-Hub-Signature-256": sign_github(body, SECRET)})
    assert response.status_code < 300, response.get_data(as_text=True)


def test_build_now_follows_the_log_live_until_success(
        server: Server, tab: Tab, phone: Tab,
        source_repo: Callable[..., tuple[Path, str]]) -> None:
    configure(server, source_repo, TICKING)
    tab.go("/login")
    tab.shot("login")
    tab.login()
    tab.go("/repos/demo/hello")
    tab.shot("repository")

    build_id = build_now(tab, "demo/hello")
    tab.page.evaluate("window.__sameDocument = true")  # gone if the page reloads
    log = tab.page.locator("#log")
    expect(log).to_contain_text("tick-2", timeout=BUILD_TIMEOUT_MS)
    expect(tab.page.locator("#status .status-building")).to_be_visible()
    expect(tab.page.locator("#timings tr.current")).to_contain_text("building")
    expect(tab.page.locator("#phase")).to_have_text("building")
    seen = len(log_text(tab))
    tab.shot("build-running")
    expect(log).to_contain_text("tick-6", timeout=60_000)
    assert len(log_text(tab)) > seen, "the log did not grow"

    expect(tab.page.locator("#status .status-success")).to_be_visible(timeout=BUILD_TIMEOUT_MS)
    expect(tab.page.locator("#log.finished")).to_be_attached(timeout=30_000)
    assert tab.page.evaluate("window.__sameDocument") is True, "the page reloaded"
    expect(tab.page.locator("#status")).to_have_text("success")
    expect(tab.page.locator("#digest")).to_contain_text("sha256:")
    expect(tab.page.locator("#retry")).to_be_visible()
    expect(tab.page.locator("#cancel")).to_have_count(0)
    assert "tick-8" in log_text(tab) and "Build succeeded" in log_text(tab)
    tab.shot("build-success")

    ignored_push(server, "demo/hello")
    tab.go("/")
    rule_row = tab.page.locator("#repositories table.rules tbody tr").first
    expect(rule_row.locator(".status-success")).to_be_visible()
    expect(tab.page.locator("#not-built")).to_contain_text("feature/<b>not-built</b>")
    tab.shot("dashboard")
    tab.go("/deliveries")
    expect(tab.page.locator("table.deliveries")).to_contain_text("browser-ignored-1")
    tab.shot("deliveries")

    for path, name in (("/", "dashboard-phone"), (f"/builds/{build_id}", "build-phone"),
                       ("/repos/demo/hello", "repository-phone")):
        phone.go(path)
        overflow = phone.page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 1, f"{path} scrolls sideways on a phone by {overflow}px"
        phone.shot(name)


def test_cancel_a_long_build_from_its_page(
        server: Server, tab: Tab, source_repo: Callable[..., tuple[Path, str]]) -> None:
    configure(server, source_repo, SLEEPER, name="demo/sleeper")
    tab.login()
    build_id = build_now(tab, "demo/sleeper")
    expect(tab.page.locator("#log")).to_contain_text("sleeping-now", timeout=BUILD_TIMEOUT_MS)
    tab.shot("build-cancel-before")
    tab.page.click("#cancel")
    tab.page.wait_for_url(f"**/builds/{build_id}")
    expect(tab.page.locator("#status .status-cancelled")).to_be_visible(timeout=15_000)
    expect(tab.page.locator("#error")).to_contain_text(f"cancelled by {tab_user(tab)}")
    expect(tab.page.locator("#retry")).to_be_visible()
    tab.shot("build-cancelled")


def tab_user(tab: Tab) -> str:
    return tab.page.locator("header .user").text_content() or ""


def test_retry_a_failed_build(server: Server, tab: Tab,
                              source_repo: Callable[..., tuple[Path, str]]) -> None:
    configure(server, source_repo, FAILING, name="demo/failing")
    tab.login()
    first = build_now(tab, "demo/failing")
    expect(tab.page.locator("#status .status-failed")).to_be_visible(timeout=BUILD_TIMEOUT_MS)
    expect(tab.page.locator("#log.finished")).to_be_attached(timeout=30_000)
    step = tab.page.locator("#log mark#failing-step")
    expect(step).to_be_visible()
    expect(step).to_contain_text("[3/3] RUN echo about-to-fail && exit 3")  # BuildKit's #N step
    expect(step).to_contain_text("ERROR: executor failed running [/bin/sh -c echo about-to-fail "
                                 "&& exit 3]: exit code: 3")
    expect(tab.page.locator("a[href='#failing-step']")).to_be_visible()
    tab.shot("build-failed")

    tab.page.click("#retry")
    tab.page.wait_for_url(BUILD_URL)
    second = BUILD_URL.match(tab.page.url)
    assert second is not None and second.group(1) != first
    expect(tab.page.locator("#log")).to_contain_text(f"Retry of build {first}")
    expect(tab.page.locator("dl.facts")).to_contain_text("retry")
    expect(tab.page.locator("#status .status-failed")).to_be_visible(timeout=BUILD_TIMEOUT_MS)


def test_a_regex_rule_asks_for_a_ref(server: Server, tab: Tab,
                                     source_repo: Callable[..., tuple[Path, str]]) -> None:
    bare, commit = configure(server, source_repo, TICKING.replace("1 2 3 4 5 6 7 8", "1"),
                             name="demo/tags")
    subprocess.run(["git", "tag", "v1.4.2", commit], cwd=bare, check=True)
    tab.login()
    tab.go("/repos/demo/tags")
    ref_input = tab.page.locator("#rule-1 input[name=ref]")
    expect(ref_input).to_be_visible()
    tab.page.click("#rule-1 button[type=submit]")
    assert tab.page.url.endswith("/repos/demo/tags"), "submitted without a ref"
    assert ref_input.evaluate("input => input.validity.valueMissing") is True

    ref_input.fill("v9.9.9")  # matches the regex, but no such tag exists
    tab.page.click("#rule-1 button[type=submit]")
    expect(tab.page.locator(".flash.error")).to_contain_text("refs/tags/v9.9.9")

    tab.page.locator("#rule-1 input[name=ref]").fill("v1.4.2")
    tab.page.click("#rule-1 button[type=submit]")
    tab.page.wait_for_url(BUILD_URL)
    expect(tab.page.locator("dl.facts")).to_contain_text("refs/tags/v1.4.2")
    expect(tab.page.locator("dl.facts")).to_contain_text(":1.4.2")
    expect(tab.page.locator("#status .status-success")).to_be_visible(timeout=BUILD_TIMEOUT_MS)
