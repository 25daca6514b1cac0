"""Headless Chromium (Debian's package) driving Carnet served on loopback."""

from __future__ import annotations

import shutil
import threading

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

#: What a page shows after an action may take a while on a loaded machine (CI runs the suite on
#: both databases side by side): a wait fails after 15 s rather than Playwright's 5.
expect.set_options(timeout=15_000)

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_FLAGS}


@pytest.fixture(scope="session")
def live_server(app):
    """The application on a loopback port, in a thread, sharing the test database."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def base_url(live_server):
    """Playwright's base URL is the live server (this also replaces pytest-base-url's own)."""
    return live_server


def settled(page, act) -> None:
    """Run `act` (a click, a choice) and wait until HTMX has swapped and processed what came
    back, so the next step acts on an element HTMX already listens to."""
    page.evaluate(
        "window.htmxSettled = new Promise(done =>"
        " document.body.addEventListener('htmx:afterSettle', done, {once: true}))"
    )
    act()
    page.evaluate(
        "Promise.race([window.htmxSettled.then(() => true), new Promise((_, fail) =>"
        " setTimeout(() => fail(new Error('HTMX did not settle within 15 s')), 15000))])"
    )
