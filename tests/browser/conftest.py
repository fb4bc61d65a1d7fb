"""A real HTTP server for the live app, a headless Chromium, and pages that record JS errors.

The real stack (Docker engine, registry, Redis, a worker process) comes from
tests/integration/conftest.py; Chromium is Debian's /usr/bin/chromium driven by Playwright
(`playwright install` is never needed).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, sync_playwright
from werkzeug.security import generate_password_hash
from werkzeug.serving import make_server

from tests.integration.conftest import (  # noqa: F401 - fixtures used by the browser tests
    RulesWriter,
    docker_client,
    live_app,
    redis_url,
    source_repo,
    stack,
    stack_database,
    var_dir,
    worker,
    worker_env,
)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
USER, PASSWORD = "alice", "browser-test-password"


@dataclass
class Server:
    """The live app served over real HTTP."""

    url: str
    app: Flask
    write_rules: RulesWriter


@pytest.fixture
def server(live_app: tuple[Flask, RulesWriter]) -> Iterator[Server]:  # noqa: F811
    """The live app (real queue, database and worker) under werkzeug's threaded HTTP server."""
    app, write_rules = live_app
    app.config["USERS"] = {USER: generate_password_hash(PASSWORD)}
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, name="http", daemon=True)
    thread.start()
    yield Server(f"http://127.0.0.1:{httpd.server_port}", app, write_rules)
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (scripts/setup.sh)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Tab:
    """A browser page on the server that records JavaScript errors and saves screenshots."""

    page: Page
    base: str
    errors: list[str] = field(default_factory=list)

    def go(self, path: str) -> None:
        self.page.goto(self.base + path)

    def shot(self, name: str, *, full_page: bool = True) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path

    def login(self, user: str = USER, password: str = PASSWORD) -> None:
        self.go("/login")
        self.page.fill("input[name=username]", user)
        self.page.fill("input[name=password]", password)
        self.page.click("form.login button[type=submit]")
        self.page.wait_for_selector(f"header .user:text-is('{user}')")

    def assert_no_errors(self) -> None:
        assert self.errors == [], "JavaScript errors:\n" + "\n".join(self.errors)


def _open_tab(browser: Browser, server: Server, *, width: int, height: int,
              mobile: bool = False) -> Iterator[Tab]:
    context = browser.new_context(viewport={"width": width, "height": height},
                                  is_mobile=mobile, has_touch=mobile,
                                  device_scale_factor=2 if mobile else 1)
    context.set_default_timeout(30_000)
    page = context.new_page()
    tab = Tab(page, server.url)
    page.on("pageerror", lambda error: tab.errors.append(f"pageerror: {error}"))
    page.on("console", lambda message: tab.errors.append(f"console.{message.type}: "
                                                          f"{message.text}")
            if message.type == "error" else None)
    yield tab
    context.close()
    tab.assert_no_errors()


@pytest.fixture
def tab(browser: Browser, server: Server) -> Iterator[Tab]:
    """A desktop-sized page; the test fails if any page raised a JavaScript error."""
    yield from _open_tab(browser, server, width=1280, height=900)


@pytest.fixture
def phone(browser: Browser, server: Server) -> Iterator[Tab]:
    """A phone-sized page (390 x 844, touch)."""
    yield from _open_tab(browser, server, width=390, height=844, mobile=True)
