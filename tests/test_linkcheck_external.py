"""The external link checker against a real HTTP server on 127.0.0.1: HEAD first, GET where a
server refuses HEAD, and the status of what stays broken."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from scripts.commands import linkcheck_external

# path -> (status for HEAD, status for GET)
ROUTES = {"/ok": (200, 200), "/no-head": (405, 200), "/forbidden-head": (403, 200),
          "/gone": (404, 404), "/head-only": (200, 500), "/redirect": (301, 301)}


class Handler(BaseHTTPRequestHandler):
    seen: list = []

    def _answer(self, method):
        Handler.seen.append((method, self.path))
        status = ROUTES.get(self.path, (404, 404))[method == "GET"]
        self.send_response(status)
        if status == 301:
            self.send_header("Location", "/ok")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_HEAD(self):
        self._answer("HEAD")

    def do_GET(self):
        self._answer("GET")

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.mark.parametrize("path, reason, methods", [
    ("/ok", None, ["HEAD"]),
    ("/no-head", None, ["HEAD", "GET"]),
    ("/forbidden-head", None, ["HEAD", "GET"]),
    ("/gone", "HTTP 404", ["HEAD"]),
    ("/head-only", None, ["HEAD"]),
    ("/redirect", None, ["HEAD", "GET"]),  # urllib follows a redirect of HEAD with GET
])
def test_head_then_get(server, path, reason, methods):
    Handler.seen.clear()
    assert linkcheck_external.check(server + path, timeout=5) == reason
    assert [m for m, _ in Handler.seen] == methods


def test_unreachable_host_gives_a_reason(server):
    closed = server.rsplit(":", 1)[0] + ":1"
    assert "refused" in linkcheck_external.check(closed + "/x", timeout=5).lower()
