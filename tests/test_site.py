"""Tests on the built HTML of the real site (built once per run, see conftest.py)."""

import html as html_text
import json
import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import nbformat
import pytest

from scripts.site import site_checks
from scripts.site.registry import load_registry
from tests.conftest import ROOT

REGISTRY = load_registry(ROOT / "docs" / "data")


def page(site, path):
    return (site / path).read_text(encoding="utf-8")


_ARTICLE = re.compile(r'<article class="md-content__inner md-typeset">(.*?)</article>', re.DOTALL)


def content(site, path):
    """A page's own content, without Material's navigation, which links every page of the site."""
    found = _ARTICLE.search(page(site, path))
    assert found, f"{path}: no content area (<article class=\"md-content__inner\">)"
    return found.group(1)


def test_every_internal_link_and_anchor_resolves(site, site_url):
    assert site_checks.check_links(site, base=urlsplit(site_url).path) == []


def test_link_checker_catches_broken_links_and_anchors(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "index.html").write_text('<h2 id="here">x</h2><a href="../b/">b</a><a href="#gone">g</a>'
                                               '<a href="#here">ok</a><a href="../notebooks/x/#cell">nb</a>')
    (tmp_path / "notebooks" / "x").mkdir(parents=True)
    (tmp_path / "notebooks" / "x" / "index.html").write_text('<h1 id="title">x</h1>')
    problems = site_checks.check_links(tmp_path)
    assert problems == ["a/index.html: #gone (no anchor #gone in a/index.html)",
                        "a/index.html: ../b/ (no such file: b)",
                        "a/index.html: ../notebooks/x/#cell (no anchor #cell in notebooks/x/index.html)"]


def test_no_page_loads_anything_from_another_host(site):
    assert site_checks.check_third_party(site) == []


@pytest.mark.parametrize("html, kind", [
    ('<link rel="stylesheet" href="https://fonts.googleapis.com/css?family=Roboto">', "link stylesheet"),
    ('<link rel="preconnect" href="https://fonts.gstatic.com">', "link preconnect"),
    ('<script src="https://cdn.plot.ly/plotly-2.js"></script>', "script"),
    ('<img src="//example.org/logo.png" alt="logo">', "img"),
    ('<iframe src="https://www.youtube.com/embed/x"></iframe>', "iframe"),
    ('<div style="background: url(https://example.org/bg.png)"></div>', "div style"),
])
def test_third_party_check_catches_each_kind(tmp_path, html, kind):
    (tmp_path / "index.html").write_text(html)
    problems = site_checks.check_third_party(tmp_path)
    assert len(problems) == 1 and f"<{kind}>" in problems[0]


def test_third_party_check_reads_stylesheets(tmp_path):
    (tmp_path / "x.css").write_text('@import "https://fonts.googleapis.com/css2?family=Inter";')
    assert len(site_checks.check_third_party(tmp_path)) == 1


def test_no_github_api_call_from_the_repository_link(site):
    html = page(site, "index.html")
    assert 'data-md-component="source"' not in html
    assert 'class="md-source"' in html


@pytest.mark.parametrize("tool_id", sorted(REGISTRY.tools))
def test_every_tool_has_a_page_with_its_card(site, tool_id):
    tool = REGISTRY.tools[tool_id]
    html = page(site, f"{tool.part}/{tool.id}/index.html")
    card = re.search(r'<div class="fg-card">(.*?)</div>', html, re.DOTALL)
    assert card, f"{tool_id}: no card"
    text = card.group(1)
    assert "Facts last verified " + tool.verified.isoformat() in text
    for url in tool.sources.values():
        assert f'href="{url}"' in text.replace("&amp;", "&")
    if tool.successor:
        successor = REGISTRY.tools[tool.successor]
        href = f"../{successor.id}/" if successor.part == tool.part else f"../../{successor.part}/{successor.id}/"
        assert f'successor: <a href="{href}">{successor.name}</a>' in text


@pytest.mark.parametrize("part_id", sorted(REGISTRY.parts))
def test_part_index_lists_its_tools(site, part_id):
    html = content(site, f"{part_id}/index.html")
    for tool in REGISTRY.tools_in(part_id):
        assert f'href="{tool.id}/"' in html, f"{part_id} index does not link {tool.id}"


def test_home_page_maps_every_part_and_tool(site):
    html = content(site, "index.html")
    for part in REGISTRY.parts.values():
        assert f'href="{part.id}/"' in html, f"the home page does not link {part.id}"
    for tool in REGISTRY.tools.values():
        assert f'href="{tool.part}/{tool.id}/"' in html, f"the home page does not link {tool.id}"


def test_navigation_follows_the_parts(site):
    html = page(site, "index.html")
    nav = html[html.index('class="md-nav md-nav--primary"'):]
    entries = re.findall(r'<(?:a|label)\b([^>]*)>\s*<span class="md-ellipsis">\s*([^<]+?)\s*</span>', nav)
    labels = [text for attrs, text in entries if "md-nav__link" in attrs and 'href="#' not in attrs]
    sections = [label for label in labels if label in {p.title for p in REGISTRY.parts.values()}]
    assert sections == [part.title for part in REGISTRY.parts.values()]
    assert labels.index("How to read this guide") < labels.index(sections[0])
    assert labels.index(sections[-1]) < labels.index("Contributing")


def notebook_ids():
    return sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("notebook_id", notebook_ids())
def test_notebook_page_shows_outputs_stamp_and_links(site, notebook_id):
    html = page(site, f"notebooks/{notebook_id}/index.html")
    assert "jp-OutputArea-output" in html, "no outputs rendered"
    assert 'class="fg-nb-stamp"' in html
    assert f'href="{notebook_id}.ipynb" download' in html
    assert "colab.research.google.com/github/" in html
    downloaded = nbformat.reads(page(site, f"notebooks/{notebook_id}/{notebook_id}.ipynb"), as_version=4)
    assert any(c.get("outputs") for c in downloaded.cells if c.cell_type == "code")
    # what mkdocs-jupyter inlines is gone: the stylesheet is shared, the prompts and copy text are out
    assert "<style" not in html
    assert "notebook.css" in html
    assert "In&nbsp;[" not in html and "Copied!" not in html.split('id="__config"')[0]
    # headings carry the site's permalinks, which Material shows on hover only
    assert 'class="anchor-link"' not in html and 'class="headerlink" title="Permanent link"' in html


class _Plots(HTMLParser):
    def __init__(self):
        super().__init__()
        self.figures = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "fg-plot" in (attrs.get("class") or "").split() and attrs.get("data-figure"):
            self.figures.append(attrs["data-figure"])


def plot_figures(html):
    parser = _Plots()
    parser.feed(html)
    return parser.figures


def test_notebook_plotly_figure_survives(site):
    html = page(site, "notebooks/pytorch/index.html")
    figures = plot_figures(html)
    assert figures, "the loss curve is missing"
    figure = json.loads(figures[0])
    assert figure["data"][0]["type"] == "scatter" and len(figure["data"][0]["y"]) > 100


def test_every_chart_arrives_as_a_static_picture_in_the_palettes_colours(site):
    from scripts.site.static_charts import STAND_INS

    boxes = pictures = 0
    for path in site.rglob("*.html"):
        html = path.read_text(encoding="utf-8")
        boxes += html.count('<div class="fg-plot" ')
        pictures += len(re.findall(r'data-figure="[^"]*"><svg class="fg-plot__static" ', html))
        leaked = [drawn for _, drawn in STAND_INS.values() if drawn in html]
        assert not leaked, f"{path.relative_to(site)}: the palette's stand-ins {leaked} were left in a picture"
    assert boxes and pictures == boxes, f"{boxes} charts, {pictures} of them with a static picture"


def test_notebook_stylesheet_is_shared_and_trimmed(site):
    css = page(site, "assets/stylesheets/notebook.css")
    assert 50_000 < len(css) < 300_000, len(css)
    assert '[data-md-color-scheme="slate"] .jupyter-wrapper{' in css


def test_search_index_has_prose_and_code_not_noise(site):
    index = json.loads(page(site, "search/search_index.json"))
    notebook = " ".join(d["text"] for d in index["docs"] if d["location"].startswith("notebooks/pytorch/"))
    assert "loss.backward()" in notebook
    assert "autograd" in notebook
    for noise in ("In [", "Copied!", '"type":"scatter"'):
        assert noise not in notebook, noise


def test_links_into_notebook_pages_are_checked(site):
    # the PyTorch card links its notebook (the navigation lists it too, so look in the content only)
    html = content(site, "research-frameworks/pytorch/index.html")
    assert 'href="../../notebooks/pytorch/"' in html, "the PyTorch page does not link its notebook"


@pytest.mark.parametrize("notebook_id", notebook_ids())
def test_notebook_page_and_the_page_presenting_it_link_each_other(site, notebook_id):
    home = re.search(r'<p class="fg-nb-home"><a href="([^"]+)">(.*?)</a></p>',
                     content(site, f"notebooks/{notebook_id}/index.html"))
    assert home, f"notebooks/{notebook_id}: no link back at the top"
    tool = REGISTRY.tools.get(notebook_id)
    if tool is None:  # a notebook about no single tool belongs to a part
        part = nbformat.read(ROOT / "notebooks" / f"{notebook_id}.ipynb", as_version=4).metadata.fieldguide.part
        assert home.group(1) == f"../../{part}/"
        assert html_text.unescape(home.group(2)).endswith(f"Part overview: {REGISTRY.parts[part].title}")
        return
    assert home.group(1) == f"../../{tool.part}/{tool.id}/"
    assert html_text.unescape(home.group(2)).endswith(f"Tool page: {tool.name}")
    card = content(site, f"{tool.part}/{tool.id}/index.html")
    assert f'<a href="../../notebooks/{tool.id}/">Run it: notebook</a>' in card


@pytest.mark.parametrize("notebook_id", notebook_ids())
def test_notebook_pages_show_no_path_of_the_build_machine(site, notebook_id):
    html = content(site, f"notebooks/{notebook_id}/index.html")
    assert f"{ROOT}/" not in html
    # an absolute path (or one under ~) into installed packages; a relative one is the notebook's own
    leaked = re.findall(r"""(?:^|[\s>"'(=])((?:~|/)[^\s<"']*?/(?:site|dist)-packages/)""", html, re.MULTILINE)
    assert leaked == [], leaked[:3]


_FOOTER_LINK = re.compile(r'<a [^>]*class="md-footer__link[^"]*" aria-label="([^"]*)">.*?'
                          r'<div class="md-ellipsis">\s*(.*?)\s*</div>', re.DOTALL)


def test_footer_links_are_named_by_the_title_they_show(site):
    """A screen reader announces the aria-label; it must say what the link shows (WCAG 2.5.3)."""
    checked = 0
    for path in sorted(site.rglob("*.html")):
        for label, title in _FOOTER_LINK.findall(path.read_text(encoding="utf-8")):
            direction, _, named = html_text.unescape(label).partition(": ")
            assert named == html_text.unescape(title), f"{path.relative_to(site)}: {direction} link"
            checked += 1
    assert checked > 100


def test_external_link_checker_collects_and_reports(tmp_path, monkeypatch):
    from scripts.commands import linkcheck_external

    (tmp_path / "index.html").write_text('<a href="https://ok.example/a#x">a</a><a href="https://bad.example/">b</a>'
                                         '<a href="local/">c</a>')
    assert set(linkcheck_external.external_links(tmp_path)) == {"https://ok.example/a", "https://bad.example/"}
    monkeypatch.setattr(linkcheck_external, "check", lambda url: "HTTP 404" if "bad" in url else None)
    assert linkcheck_external.main([str(tmp_path)]) == 1


def test_preview_renders_unexecuted_notebooks_with_a_notice(tmp_path):
    """`make preview`: no notebook runs; without a cache, notebook pages say they were not executed."""
    from tests.conftest import run_build

    result = run_build(ROOT, tmp_path / "site", {"FIELDGUIDE_EXECUTE": "0", "FIELDGUIDE_CACHE": str(tmp_path / "cache")})
    assert result.returncode == 0, result.stderr[-3000:]
    assert "executing" not in result.stderr
    html = (tmp_path / "site" / "notebooks" / "pytorch" / "index.html").read_text()
    assert "Not executed in this preview" in html
    recorded = (tmp_path / "site" / "notebooks" / "cuda-gpu" / "index.html").read_text()
    assert "Recorded on NVIDIA H200" in recorded and "Not executed" not in recorded


def test_rosetta_page_shows_the_table_its_notebook_printed(site):
    html = page(site, "research-frameworks/rosetta/index.html")
    executed = nbformat.reads(page(site, "notebooks/rosetta/rosetta.ipynb"), as_version=4)
    results = next(c for c in executed.cells if "results" in c.metadata.get("tags", []))
    for framework in ("PyTorch", "MLX", "fastai"):
        assert framework in results.outputs[-1]["data"]["text/plain"]
        assert f"<th>{framework}</th>" in html
    assert 'class="fg-output"' in html
