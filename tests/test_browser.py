"""The built site in a real browser (Debian's chromium, driven by Playwright), served on 127.0.0.1."""

from __future__ import annotations

import time

import pytest

from tests.browser import AXE
from tests.conftest import ROOT

pytestmark = pytest.mark.browser
# One page of each kind, with its page-weight budget (gzip bytes of everything a cold load fetches,
# before any interaction): a page with charts shows their static pictures and fetches no plotly.js.
PAGES = {
    "home": ("", 120_000),
    "part index": ("libraries-tracking/", 120_000),
    "part index with a chart": ("cloud-gpu/", 200_000),
    "part index with charts": ("research-frameworks/", 200_000),
    "tool page": ("edge-mobile/tensorflow-lite/", 120_000),
    "notebook page": ("notebooks/triton/", 250_000),
    "chart page": ("how-to-read/", 200_000),
    "notebook page with a chart": ("notebooks/pytorch/", 200_000),
    "recorded notebook page": ("notebooks/cuda-gpu/", 250_000),
}


def toggle_palette(page):
    """Click the palette toggle the header shows (each click moves to the next palette)."""
    page.locator("form[data-md-component=palette] label:visible").click()


def scheme(page):
    return page.evaluate("document.body.getAttribute('data-md-color-scheme')")


@pytest.mark.parametrize("kind", PAGES)
def test_page_loads_without_errors_or_foreign_requests_within_budget(visit, kind):
    path, budget = PAGES[kind]
    v = visit()
    v.go(path)
    v.page.wait_for_timeout(300)
    assert v.errors == [], f"console errors on {kind}: {v.errors}"
    assert v.foreign() == [], f"requests leaving 127.0.0.1 from {kind}: {v.foreign()}"
    assert not plotly_requests(v), f"{kind} fetched plotly.js before the reader reached for a chart"
    weight = sum(v.bytes.values())
    print(f"\npage weight, {kind} ({path or '/'}): {weight / 1000:.1f} KB gzip over {len(v.bytes)} requests "
          f"(budget {budget / 1000:.0f} KB)")
    assert weight <= budget, f"{kind} weighs {weight} bytes gzip: " + ", ".join(
        f"{url.rsplit('/', 1)[-1]}={size}" for url, size in sorted(v.bytes.items(), key=lambda x: -x[1])[:5])


def plotly_requests(v):
    return [url for url in v.requests if "plotly" in url]


def interactive(page, index=0):
    """Hover a chart and wait until plotly.js has drawn it in place of its static picture."""
    chart = page.locator(".fg-plot").nth(index)
    chart.hover()
    chart.locator(".main-svg").first.wait_for(timeout=20_000)
    return chart


def all_interactive(page):
    for index in range(page.locator(".fg-plot").count()):
        interactive(page, index)


def test_static_charts_follow_the_palette_and_so_do_interactive_ones(visit):
    v = visit("light")
    page = v.go("how-to-read/")
    tick = ".fg-plot .fg-plot__static .xtick text"
    label_colour = lambda selector: page.eval_on_selector(selector, "e => getComputedStyle(e).fill")  # noqa: E731
    light = label_colour(tick)
    while scheme(page) != "slate":  # system (light here) -> light -> dark
        toggle_palette(page)
    assert label_colour(tick) != light, "static charts kept their light-mode colours in dark mode"
    assert plotly_requests(v) == [], "the palette's colours reach the static pictures without plotly.js"
    interactive(page)
    dark = label_colour(".fg-plot .main-svg .xtick text")
    while scheme(page) != "default":
        toggle_palette(page)
    page.wait_for_timeout(300)
    assert label_colour(".fg-plot .main-svg .xtick text") != dark, "the interactive chart kept its dark colours"


def loaded_without_plotly(visit, path):
    """A page loaded and left alone a second, having fetched no plotly.js."""
    v = visit()
    page = v.go(path)
    page.wait_for_timeout(1000)
    assert plotly_requests(v) == [], f"{path}: plotly.js loaded with the page"
    return v, page


def test_hovering_a_chart_swaps_in_the_interactive_chart_in_place_with_the_same_data(visit):
    v, page = loaded_without_plotly(visit, "how-to-read/")
    chart = page.locator(".fg-plot").first
    # where the box and what follows it lie on the page, and what the chart shows: bars per trace,
    # legend, the categories on its axis (a timeline's dates tick by the width the chart gets)
    shown = """(node, root) => {
        const place = e => { const r = e.getBoundingClientRect(); return [r.left, r.top + scrollY, r.width, r.height]; };
        const texts = selector => [...node.querySelectorAll(root + " " + selector)].map(t => t.textContent);
        return {box: place(node), below: place(node.nextElementSibling), legend: texts(".legendtext"),
                points: [...node.querySelectorAll(root + " .trace")].map(t => t.querySelectorAll(".point").length),
                categories: texts(".ytick text")};
    }"""
    static = chart.evaluate(shown, ".fg-plot__static")
    assert sum(static["points"]) > 0, "the static picture shows no data"
    interactive(page)
    assert chart.locator(".fg-plot__static").count() == 0, "the static picture stayed beside the interactive chart"
    assert chart.evaluate(shown, ".main-svg") == static, "the interactive chart moved, resized or drew other data"
    drawn, figure = chart.evaluate("n => [n.data.map(t => [t.x, t.y]), JSON.parse(n.dataset.figure).data.map(t => [t.x, t.y])]")
    assert drawn == figure
    assert len(plotly_requests(v)) == 1


def test_keyboard_users_reach_a_chart_and_make_it_interactive(visit):
    page = visit().go("how-to-read/")
    caption = page.locator(".fg-chart figcaption").first
    caption.evaluate("e => { e.tabIndex = -1; e.focus(); }")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.classList.contains('fg-plot')"), "Tab from the title skips the chart"
    page.locator(".fg-plot").first.locator(".main-svg").first.wait_for(timeout=20_000)


def test_charts_scrolled_into_view_turn_interactive_when_the_browser_is_idle(visit):
    v, page = loaded_without_plotly(visit, "research-frameworks/")
    last = page.locator(".fg-plot").last
    assert not last.evaluate("n => n.getBoundingClientRect().top < innerHeight"), "the last chart is in view at load"
    page.mouse.move(0, 0)  # away from every chart: only the scroll may bring plotly.js
    last.scroll_into_view_if_needed()
    last.locator(".main-svg").first.wait_for(timeout=20_000)
    assert page.locator(".fg-plot .fg-plot__static").count() >= 1, "charts never in view turned interactive too"


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


def mark_window(page):
    """Set a marker that only a full page load clears: instant navigation keeps the window."""
    page.evaluate("window.fgSameDocument = true")


def kept_window(page):
    return page.evaluate("window.fgSameDocument === true")


def follow(page, url):
    """Go to ``url`` as a click on a link in the content does (Material's instant navigation)."""
    old_content = page.query_selector("article")
    page.evaluate("""url => {
        const link = Object.assign(document.createElement("a"), {href: url});
        document.querySelector("article").append(link);
        link.click();
    }""", url)
    page.wait_for_function("article => !article.isConnected", arg=old_content, timeout=20_000)
    page.wait_for_url(lambda address: address.split("#")[0] == url)  # Material tracks the section in view


def test_plotly_loads_once_across_instant_navigation_and_never_without_charts(visit):
    v = visit()
    page = v.go("")
    mark_window(page)
    bundle = lambda: [u for u in v.requests if "plotly" in u]  # noqa: E731
    assert bundle() == [], "the home page has no chart but fetched plotly.js"
    page.locator(".md-content a.md-button--primary").click()  # instant navigation to the chart page
    page.wait_for_selector(".fg-plot .fg-plot__static", timeout=15_000)
    assert bundle() == [], "plotly.js fetched before a chart was reached for"
    interactive(page)
    assert len(bundle()) == 1
    assert kept_window(page), "the page was loaded anew, not by instant navigation"
    page.locator("a.md-footer__link--next").click()
    page.wait_for_url("**/research-frameworks/")
    page.wait_for_selector("#chart-framework-epoch-time")
    interactive(page)
    page.go_back()
    interactive(page)
    assert kept_window(page), "going back loaded the page anew"
    assert len(bundle()) == 1, f"plotly.js fetched {len(bundle())} times"


def window_resize_listeners(page) -> int:
    """How many listeners the window has for 'resize' (plotly.js adds one per responsive chart)."""
    cdp = page.context.new_cdp_session(page)
    window = cdp.send("Runtime.evaluate", {"expression": "window"})["result"]["objectId"]
    listeners = cdp.send("DOMDebugger.getEventListeners", {"objectId": window})["listeners"]
    cdp.detach()
    return sum(1 for listener in listeners if listener["type"] == "resize")


def test_charts_that_instant_navigation_removed_are_purged(visit):
    v = visit()
    page = v.go("")
    mark_window(page)
    without_charts = window_resize_listeners(page)
    live = []
    for path in ("how-to-read/", "research-frameworks/", "notebooks/pytorch/", "how-to-read/"):
        follow(page, v.base_url + path)
        all_interactive(page)
        plots = page.locator(".fg-plot.js-plotly-plot").count()  # the class plotly.js gives a drawn plot
        assert plots, f"{path}: no chart drawn"
        live.append((path, plots, window_resize_listeners(page)))
    follow(page, v.base_url)
    assert kept_window(page), "a full page load, not instant navigation"
    assert [listeners - without_charts for _, _, listeners in live] == [plots for _, plots, _ in live], (
        f"resize listeners beyond the page's own ({without_charts}) per page (path, charts, listeners): {live}")
    assert window_resize_listeners(page) == without_charts, "charts of pages left behind still listen"


def test_a_failed_plotly_load_is_tried_again_on_the_next_page(visit):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    v = visit()
    page = v.go("")
    mark_window(page)
    attempts = []

    def fail_first(route):
        attempts.append(route.request.url)
        if len(attempts) == 1:
            route.abort()
        else:
            route.continue_()

    page.route("**/plotly-cartesian.min.js", fail_first)
    follow(page, v.base_url + "how-to-read/")
    with page.expect_event("requestfailed", lambda request: "plotly" in request.url, timeout=15_000):
        page.locator(".fg-plot").first.hover()
    assert page.locator(".fg-plot .main-svg").count() == 0
    assert page.locator(".fg-plot .fg-plot__static").count() == 2, "a failed load must leave the static pictures"
    follow(page, v.base_url + "research-frameworks/")
    try:
        with page.expect_request("**/plotly-cartesian.min.js", timeout=15_000):
            page.locator(".fg-plot").first.hover()
    except PlaywrightTimeout:
        pytest.fail("after a failed load, a chart on the next page did not ask for plotly.js again")
    page.locator(".fg-plot").first.locator(".main-svg").first.wait_for(timeout=20_000)
    assert len(attempts) == 2, f"plotly.js requested {len(attempts)} times"
    assert kept_window(page), "a full page load, not instant navigation"
    assert any("could not load" in error for error in v.errors), f"the failed load was not reported: {v.errors}"


def test_only_regions_that_scroll_sideways_take_keyboard_focus(visit):
    page = visit().go("how-to-read/")
    focusable = page.evaluate("""() => {
        const table = cells => `<table><tr>${"<td>a&nbsp;long&nbsp;cell&nbsp;value</td>".repeat(cells)}</tr></table>`;
        document.querySelector("article").insertAdjacentHTML("beforeend", table(40) + table(2));
        window.dispatchEvent(new Event("resize"));
        return window.fgScrollRegions.then(
            () => [...document.querySelectorAll("article > table")].map(t => t.getAttribute("tabindex")));
    }""")
    assert focusable == ["0", None], "a wide table must take focus (to scroll it), a narrow one not"


def test_notebook_page_shows_outputs_and_its_figure(visit):
    page = visit().go("notebooks/pytorch/")
    assert page.locator(".jp-OutputArea-output").first.is_visible()
    assert page.locator(".fg-plot .fg-plot__static .trace").count() >= 1, "the figure has no static picture"
    interactive(page)
    assert page.locator(".fg-nb-stamp").inner_text().startswith("Executed")
    heading = page.locator("article h2").first
    opacity = lambda: heading.locator(".headerlink").evaluate("e => getComputedStyle(e).opacity")  # noqa: E731
    assert opacity() == "0", "a heading's permalink shows before the heading is hovered"
    heading.hover()
    page.wait_for_function("e => getComputedStyle(e).opacity === '1'",
                           arg=heading.locator(".headerlink").element_handle(), timeout=5_000)


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


def site_pages(site):
    """Every page of the built site, as a path under the site's address."""
    return sorted(str(p.relative_to(site)).removesuffix("index.html") for p in site.rglob("*.html"))


# Once scroll-regions.js has decided which regions take focus (it starts a frame after the load and
# measures while the browser is idle); only violations are collected, though every rule still
# runs. The site navigation is the same on every page: it is checked on the first page only, which
# saves a quarter of axe's time.
AXE_RUN = ("(context) => new Promise(requestAnimationFrame).then(() => window.fgScrollRegions)"
           ".then(() => axe.run(context || document, "
           "{runOnly: ['wcag2a', 'wcag2aa', 'best-practice'], resultTypes: ['violations']}))")
WITHOUT_NAVIGATION = {"exclude": [[".md-sidebar--primary"]]}
# Notebook cells away from the screen are not rendered (content-visibility: auto, fieldguide.css),
# and axe cannot find the background of text that is not rendered: it reports colour contrast that
# the reader, who sees each cell rendered, never meets (dequelabs/axe-core#2768). axe checks the
# cells rendered, as a reader sees them.
RENDER_ALL = ".jp-Cell { content-visibility: visible !important; }"


def test_no_serious_accessibility_violations_on_any_page(browser, base_url, site):
    """axe-core over every page of the built site in both palettes: one browser page per palette,
    reused for every address, with axe loaded into each document; the two palettes run side by side."""
    tabs = {}
    for scheme in ("light", "dark"):
        context = browser.new_context(color_scheme=scheme, viewport={"width": 1280, "height": 900})
        context.add_init_script(path=str(AXE))
        tabs[scheme] = context.new_page()
    paths, serious, started = site_pages(site), [], time.monotonic()
    try:
        for index, path in enumerate(paths):
            for tab in tabs.values():
                tab.goto(base_url + path, wait_until="load")
                tab.add_style_tag(content=RENDER_ALL)
            for tab in tabs.values():
                tab.evaluate(f"context => {{ window.fgAxe = ({AXE_RUN})(context); }}",
                             WITHOUT_NAVIGATION if index else None)
            for scheme, tab in tabs.items():
                serious += [f"{path or '/'} ({scheme}): {r['id']} ({r['impact']}): {r['help']} at "
                            f"{[n['target'] for n in r['nodes'][:3]]}"
                            for r in tab.evaluate("window.fgAxe")["violations"]
                            if r["impact"] in ("serious", "critical") and r["id"] not in AXE_KNOWN]
    finally:
        for tab in tabs.values():
            tab.context.close()
    print(f"\naxe-core: {len(paths)} pages in two palettes in {time.monotonic() - started:.0f} s")
    assert serious == [], "\n".join(serious)


def test_stack_selector_filters_with_the_keyboard(visit):
    from scripts.site.registry import load_registry

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
