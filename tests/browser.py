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


@functools.lru_cache(maxsize=None)
def _gzip(path: Path) -> bytes:
    return gzip.compress(path.read_bytes(), 6)


class _Gzip(http.server.SimpleHTTPRequestHandler):
    """Serves the site as its hosts do, compressed (gzip) for a browser that accepts it: Python's
    own server never compresses, and page weight and Lighthouse's scores count what travels."""

    def do_GET(self):
        path = Path(self.translate_path(self.path))
        if path.is_dir() and self.path.split("?")[0].endswith("/"):
            path = path / "index.html"
        if not path.is_file() or "gzip" not in self.headers.get("Accept-Encoding", ""):
            return super().do_GET()
        body = _gzip(path)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def serve(directory: Path, port: int = 0) -> http.server.ThreadingHTTPServer:
    """The folder served with gzip on 127.0.0.1, in a thread of its own."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), functools.partial(_Gzip, directory=str(directory)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="session")
def base_url(site, site_url):
    server = serve(site, int(site_url.rsplit(":", 1)[1].strip("/")))
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
