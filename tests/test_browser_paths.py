"""The front door in a real browser: every learning path followed from the home page to its last
step, the stack diagram in both palettes (every tool on it, no serious axe finding, screenshots
saved), and the stack selector's ranked matches."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urljoin

import pytest
import yaml

from scripts.site.addresses import built_url, notebook_page
from scripts.site.registry import load_registry
from tests.browser import AXE
from tests.conftest import ROOT

pytestmark = pytest.mark.browser
PATHS = yaml.safe_load((ROOT / "docs" / "data" / "paths.yaml").read_text())["paths"]
REGISTRY = load_registry(ROOT / "docs" / "data")
SCHEMES = ("light", "dark")
# The other kinds of diagram, each on a page that has one: (page, figure).
DIAGRAMS = [("inference-serving/", "figure#diagram-torch-compile"), ("edge-mobile/", "figure#diagram-export-paths"),
            ("compilers/", "figure#diagram-cuda-trajectory"), ("compilers/", "figure#stack-compilers")]


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory) -> Path:
    """Where the screenshots go: $FIELDGUIDE_ARTIFACTS, or a folder of this test run's temporary files."""
    folder = Path(os.environ["FIELDGUIDE_ARTIFACTS"]) if os.environ.get("FIELDGUIDE_ARTIFACTS") \
        else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def at(url: str):
    """A predicate for wait_for_url that ignores the fragment, which Material's anchor tracking
    rewrites as the page scrolls."""
    return lambda current: current.partition("#")[0] == url.partition("#")[0]


def step_links(path: dict, base: str) -> list[list[str]]:
    """Each step's links as absolute URLs: its page, then its notebooks."""
    start = urljoin(base, "start-here/")
    return [[urljoin(start, built_url("start-here.md", step["page"], True))]
            + [urljoin(start, built_url("start-here.md", notebook_page(n), True)) for n in step.get("notebooks") or []]
            for step in path["steps"]]


@pytest.mark.parametrize("path", PATHS, ids=[p["id"] for p in PATHS])
def test_each_learning_path_leads_from_the_home_page_to_its_last_step(visit, base_url, path):
    v = visit()
    page = v.go("")
    failed = []
    page.on("response", lambda r: r.status >= 400 and failed.append(f"{r.status} {r.url}"))
    start = urljoin(base_url, "start-here/")
    page.locator(f'.md-content a[href$="start-here/#path-{path["id"]}"]').first.click()  # instant navigation makes links absolute
    page.wait_for_url(at(start))
    heading = page.locator(f"h2#path-{path['id']}")
    heading.wait_for()
    steps = page.locator(f"xpath=//h2[@id='path-{path['id']}']/following-sibling::div[contains(@class,'fg-path')][1]/ol/li")
    expected = step_links(path, base_url)
    assert steps.count() == len(expected)
    visited = []
    for i, links in enumerate(expected):
        assert steps.nth(i).locator("a").evaluate_all("els => els.map(e => e.href)") == links, path["steps"][i]["title"]
        for n, url in enumerate(links):
            steps.nth(i).locator("a").nth(n).click()
            page.wait_for_url(at(url))
            heading.wait_for(state="detached")  # the step's page has replaced Start here
            target = url.partition("#")[2]
            assert page.locator(f"#{target}" if target else "article h1").first.is_visible(), url
            assert "404" not in page.title(), url
            visited.append(url)
            page.go_back()
            page.wait_for_url(at(start))
            heading.wait_for()
    assert visited[-1] == expected[-1][-1], "the path was not followed to its last step"
    assert failed == [] and v.errors == [], failed + v.errors


def _text_overflowing_its_box(page, figure: str) -> list[str]:
    return page.evaluate("""sel => [...document.querySelectorAll(sel + ' svg a')].filter(a => {
        const box = a.querySelector('rect').getBBox(), text = a.querySelector('text').getBBox();
        return text.x + text.width > box.x + box.width - 2; }).map(a => a.textContent)""", figure)


def test_the_stack_diagram_shows_every_tool_in_both_palettes_with_no_serious_axe_finding(visit, artifacts):
    colours = {}
    for scheme in SCHEMES:
        v = visit(scheme)
        page = v.go("")
        drawn = page.locator("figure#stack svg a").evaluate_all(
            "els => els.map(e => e.getAttributeNS('http://www.w3.org/1999/xlink', 'href'))")
        assert sorted(drawn) == sorted(built_url("index.md", t.page, True) for t in REGISTRY.tools.values())
        assert _text_overflowing_its_box(page, "figure#stack") == []
        colours[scheme] = page.evaluate("""() => {
            const name = document.querySelector('#stack a .fg-d-name'), box = document.querySelector('#stack rect.fg-d-box');
            return [getComputedStyle(name).fill, getComputedStyle(box).fill]; }""")
        assert colours[scheme][0] != colours[scheme][1], "the tools' names are drawn in their boxes' colour"
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(artifacts / f"home-{scheme}.png"), full_page=True)
        page.screenshot(path=str(artifacts / f"stack-diagram-{scheme}.png"), full_page=True,
                        clip=page.locator("figure#stack").bounding_box())
        page.add_script_tag(path=str(AXE))
        result = page.evaluate("axe.run('#stack', {runOnly: ['wcag2a', 'wcag2aa', 'best-practice']})")
        serious = [f"{r['id']}: {r['help']}" for r in result["violations"] if r["impact"] in ("serious", "critical")]
        assert serious == [], serious
    assert colours["light"] != colours["dark"], "the diagram keeps one palette's colours in the other"
    print(f"\nscreenshots of the home page and the stack diagram, light and dark: {artifacts}")


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("path, figure", DIAGRAMS)
def test_the_other_diagrams_fit_their_text_and_pass_axe(visit, scheme, path, figure):
    page = visit(scheme).go(path)
    assert page.locator(f"{figure} svg").is_visible()
    assert _text_overflowing_its_box(page, figure) == []
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(f"axe.run('{figure}', {{runOnly: ['wcag2a', 'wcag2aa', 'best-practice']}})")
    assert [r["id"] for r in result["violations"] if r["impact"] in ("serious", "critical")] == []


def test_the_selector_ranks_matches_in_teaching_order_says_why_and_offers_the_path(visit):
    page = visit().go("")
    page.locator(".fg-selector input[value=train]").check()
    page.locator(".fg-selector input[value=nvidia]").check()
    listed = page.locator(".fg-selector__tools > li:visible")
    expected = [t.name for t in REGISTRY.in_teaching_order()
                if t.status != "renamed" and "train" in t.uses and "nvidia" in t.hardware]
    assert listed.locator(".fg-selector__name").all_inner_texts() == expected
    assert set(listed.locator(".fg-selector__why").all_inner_texts()) == {"Matches: Train, NVIDIA GPU"}
    offered = page.locator(".fg-selector__paths li:visible a")
    training = next(p for p in PATHS if "train" in p["uses"])
    assert offered.all_inner_texts() == [training["title"]]
    offered.first.click()
    page.wait_for_url(lambda url: url.partition("#")[0].endswith("/start-here/"))
    # Instant navigation changes the address before it swaps the content in: wait for the heading.
    page.locator(f"h2#path-{training['id']}").wait_for(state="visible", timeout=15_000)
