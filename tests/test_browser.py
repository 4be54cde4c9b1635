"""The built site in a real browser (Debian's chromium, driven by Playwright), served on 127.0.0.1."""

from __future__ import annotations

import functools
import gzip
import http.server
import threading
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
# One page of each kind, with its page-weight budget (gzip bytes of everything a cold load fetches).
PAGES = {
    "home": ("", 120_000),
    "part index": ("libraries-tracking/", 120_000),
    "part index with charts": ("research-frameworks/", 650_000),
    "tool page": ("edge-mobile/tensorflow-lite/", 120_000),
    "notebook page": ("notebooks/triton/", 250_000),
    "chart page": ("how-to-read/", 650_000),
    "notebook page with a chart": ("notebooks/pytorch/", 650_000),
    "recorded notebook page": ("notebooks/cuda-gpu/", 250_000),
}


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


def toggle_palette(page):
    """Click the palette toggle the header shows (each click moves to the next palette)."""
    page.locator("form[data-md-component=palette] label:visible").click()


def scheme(page):
    return page.evaluate("document.body.getAttribute('data-md-color-scheme')")


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


@pytest.mark.parametrize("kind", PAGES)
def test_page_loads_without_errors_or_foreign_requests_within_budget(visit, kind):
    path, budget = PAGES[kind]
    v = visit()
    v.go(path)
    v.page.wait_for_timeout(300)
    assert v.errors == [], f"console errors on {kind}: {v.errors}"
    assert v.foreign() == [], f"requests leaving 127.0.0.1 from {kind}: {v.foreign()}"
    weight = sum(v.bytes.values())
    print(f"\npage weight, {kind} ({path or '/'}): {weight / 1000:.1f} KB gzip over {len(v.bytes)} requests "
          f"(budget {budget / 1000:.0f} KB)")
    assert weight <= budget, f"{kind} weighs {weight} bytes gzip: " + ", ".join(
        f"{url.rsplit('/', 1)[-1]}={size}" for url, size in sorted(v.bytes.items(), key=lambda x: -x[1])[:5])


def test_charts_draw_and_recolour_with_the_palette(visit):
    v = visit("light")
    page = v.go("how-to-read/")
    page.wait_for_selector(".fg-plot .main-svg", timeout=15_000)
    for plot in page.query_selector_all(".fg-plot"):
        assert plot.query_selector(".main-svg"), "a chart did not draw"
        assert plot.query_selector_all(".trace .point, .hm, .heatmaplayer image"), "a chart drew no data"
    def label_colour():
        return page.eval_on_selector(".fg-plot .main-svg .xtick text", "e => getComputedStyle(e).fill")
    light = label_colour()
    while scheme(page) != "slate":  # system (light here) -> light -> dark
        toggle_palette(page)
    page.wait_for_timeout(300)
    assert label_colour() != light, "charts kept their light-mode colours in dark mode"


def test_palette_toggle_cycles_system_light_dark_and_is_remembered(visit):
    v = visit("dark")
    page = v.go("")
    assert scheme(page) == "slate", "the system preference (dark) is followed first"
    toggle_palette(page)  # system -> light
    assert scheme(page) == "default"
    toggle_palette(page)  # light -> dark
    assert scheme(page) == "slate"
    page.reload(wait_until="networkidle")
    assert scheme(page) == "slate"
    assert page.evaluate("__md_get('__palette').index") == 2
    toggle_palette(page)  # dark -> system (dark)
    page.reload(wait_until="networkidle")
    assert page.evaluate("__md_get('__palette').index") == 0 and scheme(page) == "slate"


def test_plotly_loads_once_across_instant_navigation_and_never_without_charts(visit):
    v = visit()
    page = v.go("")
    bundle = lambda: [u for u in v.requests if "plotly" in u]  # noqa: E731
    assert bundle() == [], "the home page has no chart but fetched plotly.js"
    page.locator(".md-content a.md-button--primary").click()  # instant navigation to the chart page
    page.wait_for_selector(".fg-plot .main-svg", timeout=15_000)
    assert len(bundle()) == 1
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1, "not instant navigation"
    page.locator("a.md-footer__link--next").click()
    page.wait_for_url("**/research-frameworks/")
    page.go_back()
    page.wait_for_selector(".fg-plot .main-svg", timeout=15_000)
    assert len(bundle()) == 1, f"plotly.js fetched {len(bundle())} times"


def test_notebook_page_shows_outputs_and_its_figure(visit):
    page = visit().go("notebooks/pytorch/")
    assert page.locator(".jp-OutputArea-output").first.is_visible()
    page.wait_for_selector(".fg-plot .main-svg", timeout=15_000)
    assert page.locator(".fg-nb-stamp").inner_text().startswith("Executed")


@pytest.mark.parametrize("query, expected", [
    ("Lightning", "research-frameworks/lightning/"),          # a tool page
    ("loss.backward", "notebooks/pytorch/"),                   # code inside a notebook page
    ("torch.autograd", "how-to-read/"),                        # a note in a chart's data table
])
def test_search_finds_pages_notebooks_and_chart_tables(visit, query, expected):
    v = visit()
    page = v.go("")
    assert not [u for u in v.requests if "search_index" in u], "the search index loads before search is used"
    page.fill("input.md-search__input", query)
    page.wait_for_selector(".md-search-result__item", timeout=15_000)
    links = page.eval_on_selector_all(".md-search-result__link", "els => els.map(e => e.href)")
    assert any(expected in link for link in links), f"{query!r} found {links[:5]}"


# Theme-level findings that our content does not cause, each with its reason; listed on the
# "How to read this guide" page's accessibility note.
AXE_KNOWN = {}


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("kind", PAGES)
def test_no_serious_accessibility_violations(visit, kind, scheme):
    v = visit(scheme)
    page = v.go(PAGES[kind][0])
    page.wait_for_timeout(300)
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'best-practice']})")
    serious = [f"{r['id']} ({r['impact']}): {r['help']} at {[n['target'] for n in r['nodes'][:3]]}"
               for r in result["violations"]
               if r["impact"] in ("serious", "critical") and r["id"] not in AXE_KNOWN]
    assert serious == [], "\n".join(serious)


def test_stack_selector_filters_with_the_keyboard(visit):
    from scripts.registry import load_registry

    tools = [t for t in load_registry(ROOT / "docs" / "data").tools.values() if t.status != "renamed"]
    page = visit().go("")
    listed = page.locator(".fg-selector__tools > li:visible")
    assert listed.count() == len(tools)
    page.locator(".fg-selector input[value=kernels]").focus()
    page.keyboard.press("Space")
    expected = {t.name for t in tools if "kernels" in t.uses}
    assert set(listed.locator(".fg-selector__name").all_inner_texts()) == expected
    page.locator(".fg-selector input[value=amd]").check()
    expected = {t.name for t in tools if "kernels" in t.uses and "amd" in t.hardware}
    assert set(listed.locator(".fg-selector__name").all_inner_texts()) == expected
    assert page.locator(".fg-selector__count").inner_text() == f"{len(expected)} of {len(tools)} tools match"
    page.locator(".fg-selector input[value=kernels]").uncheck()
    page.locator(".fg-selector input[value=amd]").uncheck()
    assert listed.count() == len(tools)
