"""Browser fixtures shared by the browser tests: the built site served on 127.0.0.1, one Chromium
for the whole run (Debian's, driven by Playwright), and visits that record what each page loads."""

from __future__ import annotations

import functools
import gzip
import http.server
import threading
from pathlib import Path

import pytest

from tests.conftest import ROOT

CHROMIUM = "/usr/bin/chromium"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def base_url(site, site_url):
    port = int(site_url.rsplit(":", 1)[1].strip("/"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), functools.partial(_Quiet, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
            "--disable-background-networking", "--disable-component-update"])
        yield browser
        browser.close()


class Visit:
    """A fresh browser context that records every request, console error and page error."""

    def __init__(self, browser, base_url, scheme="light"):
        self.base_url = base_url
        self.context = browser.new_context(color_scheme=scheme, viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.bytes: dict[str, int] = {}
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("response", self._weigh)

    def _weigh(self, response):
        try:
            self.bytes[response.url] = len(gzip.compress(response.body(), 6))
        except Exception:  # redirects and aborted loads have no body
            pass

    def go(self, path):
        self.page.goto(self.base_url + path, wait_until="networkidle")
        if self.page.query_selector(".fg-plot"):  # charts fetch plotly.js after the page loads
            self.page.wait_for_selector(".fg-plot .main-svg", timeout=20_000)
            self.page.wait_for_load_state("networkidle")
        return self.page

    def foreign(self):
        return [url for url in self.requests if not url.startswith(self.base_url) and not url.startswith("data:")]

    def close(self):
        self.context.close()


@pytest.fixture
def visit(browser, base_url):
    visits = []

    def make(scheme="light"):
        visits.append(Visit(browser, base_url, scheme))
        return visits[-1]

    yield make
    for v in visits:
        v.close()
