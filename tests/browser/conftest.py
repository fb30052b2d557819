"""Browser harness: the session's app served on a free loopback port, driven by the system Chromium.

The live server serves the very `app` object of tests/conftest.py, so the browser and the test share
one database: a test builds its data with the factories, commits, then drives the browser. CSRF stays
on (TestConfig does not disable it): the browser submits the real forms with their real tokens.
"""

import os
import re
import threading
from pathlib import Path

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from tests import factories

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
# SCREENSHOTS=off: the pages are driven and checked as always, but not photographed, and the last run's pictures
# stay. .ci/run's PostgreSQL pass sets it: its pictures would only replace the SQLite pass's of the same pages,
# and full-page PNGs are about a quarter of a browser test's CPU. No test asserts on a picture.
TAKE_SCREENSHOTS = os.environ.get("SCREENSHOTS", "on") != "off"
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
# Generous waits: a passing step never waits for them, but a PDF batch or a page on a 2-core CI machine running
# the suite in parallel workers can take more than Playwright's defaults (10 s actions, 5 s expect).
ACTION_TIMEOUT_MS = 30_000
expect.set_options(timeout=15_000)


def closing_each_response(app):
    """app, whose response bodies close as soon as they are sent, or dropped.

    werkzeug's development server calls the body's close() only after it has drained the socket, and that read
    raises when the browser resets the connection (it drops a favicon or a stylesheet when it navigates on), so the
    body's open file was left to the garbage collector: a ResourceWarning in whichever test ran next.
    """
    def closed_after_sending(body):
        try:
            yield from body
        finally:
            if hasattr(body, "close"):
                body.close()

    return lambda environ, start_response: closed_after_sending(app(environ, start_response))


@pytest.fixture(scope="session")
def live_server(app):
    """The base URL of the app served by werkzeug in a background thread."""
    server = make_server("127.0.0.1", 0, closing_each_response(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    # Debian's Chromium; `playwright install` must never run (it cannot download here anyway).
    return {**browser_type_launch_args, "executable_path": factories.CHROMIUM,
            "args": ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                     "--disable-component-update", "--disable-quic"]}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args, live_server):
    return {**browser_context_args, **DESKTOP, "base_url": live_server, "locale": "zh-CN",
            "timezone_id": "Asia/Shanghai"}


@pytest.fixture
def fresh_context(browser, browser_context_args):
    """fresh_context(phone=False) -> a new browser context: its own cookies, as another person's browser."""
    contexts = []

    def make(phone: bool = False, **overrides):
        args = {**browser_context_args, **(PHONE if phone else {}), **overrides}
        context = browser.new_context(**args)
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(page):
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    return page


def full_page_screenshot(page, path: Path) -> Path:
    if TAKE_SCREENSHOTS:
        page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def shot(request):
    """shot(page, "step") saves a full-page screenshot as test-artifacts/screenshots/<test>-<nn>-<step>.png."""
    test_name = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name).strip("-")
    if TAKE_SCREENSHOTS:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for old in SCREENSHOTS.glob(f"{test_name}-*.png"):
            old.unlink()
    counter = iter(range(1, 100))

    def take(page, step: str) -> Path:
        return full_page_screenshot(page, SCREENSHOTS / f"{test_name}-{next(counter):02d}-{step}.png")

    return take


# htmx marks what it is requesting, swapping or settling with these classes (on the element or its indicator).
_HTMX_BUSY = "() => !!window.htmx && !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')"


def htmx_settled(page):
    """Wait, after a page's load event, until htmx has no request, swap or settle under way. Requests that
    htmx starts on "load" (the follow-up panel) begin before the load event: htmx and app.js are deferred
    scripts. Unlike Playwright's "networkidle", which always waits out 500 ms of quiet, this returns as
    soon as the page is done."""
    page.wait_for_function(_HTMX_BUSY)


def log_in(page, user, password: str = factories.PASSWORD):
    """Sign ``user`` in through the login form, as a person would, and wait for the page after it."""
    page.goto("/login")
    page.locator("input[name=username]").fill(user.username)
    page.locator("input[name=password]").fill(password)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(lambda url: "/login" not in url)
