"""Shared pieces for checking pages in a real headless Chromium (Playwright).

    from tests.dashboard.browser import chromium, watch, goto, shot

    with chromium() as browser:
        page = watch(browser.new_context().new_page())
        goto(page, server.url + "/")           # asserts the strict CSP header
        shot(page, "market")                   # artifacts/market.png
        assert page.outside_requests == [] and page.csp_violations == [] and page.console_errors == []

`watch` records on the page: requests to any host but 127.0.0.1 (`outside_requests`), CSP
violations Chromium reports (`csp_violations`) and every console error or uncaught exception
(`console_errors`).
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import sync_playwright

from tests.live_server import REPO_ROOT

CHROMIUM = "/usr/bin/chromium"
# Flags for a closed network: no background services trying to reach the internet.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
ARTIFACTS = REPO_ROOT / "artifacts"
PHONE = {"width": 390, "height": 844}


@contextlib.contextmanager
def chromium():
    """A launched headless Chromium browser, closed on exit."""
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def watch(page):
    """Start recording outside requests, CSP violations and console errors on `page`; returns it."""
    page.outside_requests = []
    page.csp_violations = []
    page.console_errors = []
    page.on("request", lambda request: _note_outside(page, request.url))
    # Chromium reports every blocked script, style, image or connection on the console.
    page.on("console", lambda message: _note_console(page, message.type, message.text))
    page.on("pageerror", lambda error: _note_console(page, "error", str(error)))
    return page


def _note_outside(page, url: str) -> None:
    host = urlsplit(url).hostname
    if host not in ("127.0.0.1", None):
        page.outside_requests.append(url)


def _note_console(page, kind: str, text: str) -> None:
    if "Content Security Policy" in text or "Content-Security-Policy" in text:
        page.csp_violations.append(text)
    if kind == "error":
        page.console_errors.append(text)


def goto(page, url: str):
    """Open `url`, asserting the answer carries the strict CSP; returns the response."""
    response = page.goto(url)
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "'unsafe-inline'" not in csp
    return response


def shot(page, name: str) -> Path:
    """A full-page screenshot into artifacts/<name>.png."""
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def assert_clean(page, *, console: bool = True) -> None:
    """No request left the host, no CSP violation and (by default) no console error."""
    assert page.outside_requests == [], page.outside_requests
    assert page.csp_violations == [], page.csp_violations
    if console:
        assert page.console_errors == [], page.console_errors
