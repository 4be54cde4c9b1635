"""Unit tests of scripts/site/static_charts.py; the browser tests and test_site.py see real pictures."""

import pytest

from scripts.site import static_charts
from scripts.site.errors import BuildError
from scripts.site.static_charts import StaticCharts, finish

# The shape of what plotly.js's SVG export returns, with the stand-ins for the palette.
DRAWN = ('<svg class="main-svg" xmlns="http://www.w3.org/2000/svg" width="720" height="300" style="">'
         '<defs id="defs-a1b2c3"><clipPath id="clipa1b2c3xyplot"><rect/></clipPath></defs>'
         '<path class="xgrid" style="stroke: rgb(4, 5, 6);"/><text style="font-family: '
         + static_charts.STAND_INS["--md-text-font-family"][1] + '; fill: rgb(1, 2, 3);">0</text>'
         '<g clip-path="url(#clipa1b2c3xyplot)"/></svg>')


def test_a_drawn_picture_takes_the_palettes_variables_a_stable_id_and_a_name():
    svg = finish(DRAWN, "0f0f0f0f", 720, 300, "Chart: <Loss>.")
    assert svg.startswith('<svg class="fg-plot__static" ')
    assert 'viewBox="0 0 720 300"' in svg and 'width="720"' not in svg
    assert "<title>Chart: &lt;Loss&gt;.</title>" in svg
    assert "rgb(1, 2, 3)" not in svg and "fill: var(--md-default-fg-color)" in svg
    assert "stroke: var(--md-default-fg-color--lightest)" in svg
    assert "font-family: var(--md-text-font-family)" in svg
    assert "a1b2c3" not in svg and 'id="clip0f0f0fxyplot"' in svg and "url(#clip0f0f0fxyplot)" in svg


def test_without_chromium_the_build_stops_and_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setattr(static_charts, "CHROMIUM", tmp_path / "no-chromium")
    with pytest.raises(BuildError, match=r"no-chromium: missing: charts are drawn at build time.*make browser"):
        StaticCharts(tmp_path / "cache").picture({"data": [], "layout": {}}, "Chart: empty.")


def test_a_picture_drawn_before_comes_from_the_cache_without_a_browser(tmp_path, monkeypatch):
    monkeypatch.setattr(static_charts, "CHROMIUM", tmp_path / "no-chromium")
    pictures = StaticCharts(tmp_path / "cache")
    figure = {"data": [{"type": "bar", "y": [1, 2]}], "layout": {"height": 300}}
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / f"{pictures.key(figure)}.svg").write_text(DRAWN)
    assert pictures.picture(figure, "Chart: bars.").startswith('<svg class="fg-plot__static" ')
    assert pictures.drawn == 0
    changed = {**figure, "data": [{"type": "bar", "y": [1, 3]}]}
    assert pictures.key(changed) != pictures.key(figure)
