"""The first paint of every chart: its plotly figure drawn at build time into an inline SVG.

The picture is drawn by the site's own plotly.js, themed by the site's own charts.js, in the
Chromium the browser tests use (driven by Playwright), so it is the figure the reader's browser
would draw. The palette's colours and font are drawn as stand-in values and then replaced by
Material's CSS variables: the picture follows the light and dark schemes with no script.
charts.js swaps in the interactive chart, in the same box, when the reader reaches for it.

Pictures are cached by content (figure, size, plotly.js, charts.js, this module): a build starts
the browser only for a figure it has not drawn before.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
from pathlib import Path

from scripts import ROOT
from scripts.site.errors import BuildError

CHROMIUM = Path(os.environ.get("FIELDGUIDE_CHROMIUM", "/usr/bin/chromium"))
PLOTLY_BUNDLE = ROOT / "node_modules" / "plotly.js-cartesian-dist-min" / "plotly-cartesian.min.js"
CHARTS_JS = ROOT / "docs" / "assets" / "javascripts" / "charts.js"
WIDTH = 720  # the page's text column (as svg.WIDTH); narrower screens scale the picture down
HEIGHT = 450  # plotly.js's own default, which the interactive chart gets in the same box
# The font stack Material uses without web fonts, first a name no machine has, to find it by: text is
# measured in this stack while drawing.
FONT = "fgfont, -apple-system, BlinkMacSystemFont, Helvetica, Arial, sans-serif"
# Stand-ins for the palette's variables while drawing, and how plotly.js writes them into the SVG.
STAND_INS = {
    "--md-default-fg-color": ("#010203", "rgb(1, 2, 3)"),
    "--md-default-fg-color--lightest": ("#040506", "rgb(4, 5, 6)"),
    "--md-text-font-family": (FONT, FONT),
}
_PAGE = ("<!doctype html><html><head><style>body { margin: 0; "
         + " ".join(f"{name}: {value};" for name, (value, _) in STAND_INS.items())
         + " }</style></head><body></body></html>")
_DRAW = """async ([figure, width, height]) => {
    const url = await Plotly.toImage({data: figure.data, layout: fgCharts.themed(figure.layout || {})},
                                     {format: "svg", width, height});
    return decodeURIComponent(url.slice(url.indexOf(",") + 1));
}"""
_ROOT_TAG = re.compile(r"^<svg\b[^>]*>")
_CLIP_ID = re.compile(r'id="clip([0-9a-f]{6})')


def size(figure: dict) -> tuple[int, int]:
    layout = figure.get("layout") or {}
    return int(layout.get("width") or WIDTH), int(layout.get("height") or HEIGHT)


def _digest(*parts: bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(hashlib.sha256(part).digest())
    return h.hexdigest()[:20]


def finish(svg: str, key: str, width: int, height: int, label: str) -> str:
    """plotly.js's SVG as the page's picture: the palette's variables in place of the stand-ins,
    ids that do not change from build to build, a box that scales with the page, and a name."""
    if not _ROOT_TAG.match(svg):
        raise BuildError(f"static picture {key}", "plotly.js did not return an SVG")
    for name, (_, drawn) in STAND_INS.items():
        svg = svg.replace(drawn, f"var({name})")
    # plotly.js names clip paths after a random id per plot: the key keeps the build reproducible
    # and two pictures on a page apart.
    for uid in set(_CLIP_ID.findall(svg)):
        svg = svg.replace(uid, key[:6])
    root = (f'<svg class="fg-plot__static" xmlns="http://www.w3.org/2000/svg" '
            f'xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 {width} {height}" '
            f'preserveAspectRatio="xMidYMin meet" role="img"><title>{html.escape(label)}</title>')
    return _ROOT_TAG.sub(lambda _: root, svg, count=1)


class StaticCharts:
    """Draws figures into static pictures, from the cache folder when it can."""

    def __init__(self, cache: Path):
        self.cache = cache
        self._scripts = _digest(PLOTLY_BUNDLE.read_bytes(), CHARTS_JS.read_bytes(),
                                Path(__file__).read_bytes())
        self._playwright = self._browser = self._page = None
        self.drawn = 0  # pictures this build drew rather than took from the cache

    def key(self, figure: dict) -> str:
        text = json.dumps(figure, sort_keys=True, separators=(",", ":"), default=str)
        return _digest(self._scripts.encode(), "{}x{}".format(*size(figure)).encode(), text.encode())

    def picture(self, figure: dict, label: str) -> str:
        width, height = size(figure)
        key = self.key(figure)
        path = self.cache / f"{key}.svg"
        if not path.is_file():
            path.parent.mkdir(parents=True, exist_ok=True)
            plain = json.loads(json.dumps(figure, default=str))  # dates as the page's JSON has them
            svg = self._page_with_plotly().evaluate(_DRAW, [plain, width, height])
            path.write_text(svg, encoding="utf-8")
            self.drawn += 1
        return finish(path.read_text(encoding="utf-8"), key, width, height, label)

    def plot(self, figure: dict, label: str) -> str:
        """The chart's box: the picture inside, the figure in an attribute for charts.js.

        The figure travels in an attribute, not a <script>: Material's instant navigation re-runs
        every <script> in the content as JavaScript, whatever its type, and attributes stay out of
        the search index. The box is focusable, so keyboard users can make the chart interactive;
        role="group", not "img": the interactive chart holds buttons (zoom, download)."""
        data = html.escape(json.dumps(figure, separators=(",", ":"), default=str), quote=True)
        aria = html.escape(f"{label} Hover, touch or focus it for the interactive chart.")
        return (f'<div class="fg-plot" role="group" aria-label="{aria}" tabindex="0" data-search-exclude '
                f'style="height: {size(figure)[1]}px" data-figure="{data}">{self.picture(figure, label)}</div>')

    def _page_with_plotly(self):
        if self._page is None:
            if not CHROMIUM.exists():
                raise BuildError(str(CHROMIUM), "missing: charts are drawn at build time in Chromium. Install it "
                                                "with `make browser` (Debian: apt-get install chromium), or set "
                                                "FIELDGUIDE_CHROMIUM to a Chromium or Chrome binary")
            from playwright.sync_api import sync_playwright

            self._playwright = sync_playwright().start()
            self._browser = self._playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
            self._page = self._browser.new_page()
            self._page.set_content(_PAGE)
            self._page.add_script_tag(path=str(PLOTLY_BUNDLE))
            self._page.add_script_tag(path=str(CHARTS_JS))
        return self._page

    def close(self) -> None:
        if self._browser is not None:
            self._browser.close()
            self._playwright.stop()
        self._playwright = self._browser = self._page = None
