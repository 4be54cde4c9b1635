import html
import html as html_module
import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from scripts.site.catalog import load_catalog
from scripts.site.charts import Charts, figure, load_specs, render
from scripts.site.datasets import Column, Dataset
from scripts.site.errors import BuildError
from scripts.site.placeholders import expand
from scripts.site.registry import load_registry
from tests.conftest import ROOT

REGISTRY = load_registry(ROOT / "docs" / "data")


def charts_for(docs):
    """The charts of a docs folder, built the way the site builds them (with directory URLs)."""
    return Charts(docs, REGISTRY, load_catalog(docs, REGISTRY), directory_urls=True)


def dataset(rows, columns=("name", "value", "group")):
    return Dataset("demo.csv", rows, [Column(c, c.title(), "ms" if c == "value" else None) for c in columns],
                   "Measured by a test.", "data/demo.csv")


def spec_dir(tmp_path, specs):
    folder = tmp_path / "charts"
    folder.mkdir(exist_ok=True)
    (folder / "demo.yaml").write_text(yaml.safe_dump(specs, sort_keys=False))
    return folder


BASE = {"id": "demo", "title": "Demo", "data": "demo.csv", "kind": "bar",
        "encoding": {"x": "name", "y": "value"}, "caption": "A caption."}


def one_spec(tmp_path, **change):
    return load_specs(spec_dir(tmp_path, [{**BASE, **change}]))["demo"]


@pytest.mark.parametrize("change, expected", [
    ({"kind": "pie"}, "field 'kind': expected one of bar, grouped-bar, scatter, heatmap, timeline"),
    ({"encoding": {"x": "name"}}, "field 'encoding.y': required for a bar chart"),
    ({"encoding": {"x": "name", "y": "value", "z": "value"}}, "field 'encoding.z': not used by a bar chart"),
    ({"title": ""}, "field 'title': required value is empty"),
    ({"colour": "red"}, "field 'colour': unknown field"),
])
def test_bad_spec_names_file_chart_and_field(tmp_path, change, expected):
    with pytest.raises(BuildError) as err:
        one_spec(tmp_path, **change)
    assert "demo.yaml, chart demo" in str(err.value) and expected in str(err.value)


def test_duplicate_chart_ids_across_files_are_refused(tmp_path):
    folder = spec_dir(tmp_path, [BASE])
    shutil.copy(folder / "demo.yaml", folder / "other.yaml")
    with pytest.raises(BuildError, match=r"other.yaml, chart demo, field 'id': duplicate chart id"):
        load_specs(folder)


def test_bar_figure_carries_the_numbers_and_axis_units(tmp_path):
    fig = figure(one_spec(tmp_path), dataset([{"name": "a", "value": 1.5, "group": "g"},
                                              {"name": "b", "value": 2.5, "group": "g"}]))
    assert fig["data"][0]["type"] == "bar"
    assert fig["data"][0]["x"] == ["a", "b"] and fig["data"][0]["y"] == [1.5, 2.5]
    assert fig["layout"]["yaxis"]["title"]["text"] == "Value (ms)"


def test_grouped_bar_has_one_trace_per_group(tmp_path):
    spec = one_spec(tmp_path, kind="grouped-bar", encoding={"x": "name", "y": "value", "color": "group"})
    fig = figure(spec, dataset([{"name": "a", "value": 1, "group": "g1"}, {"name": "a", "value": 2, "group": "g2"}]))
    assert [t["name"] for t in fig["data"]] == ["g1", "g2"] and fig["layout"]["barmode"] == "group"


def test_unknown_encoding_column_is_named(tmp_path):
    spec = one_spec(tmp_path, encoding={"x": "name", "y": "latency"})
    with pytest.raises(BuildError, match=r"has no column 'latency'"):
        figure(spec, dataset([{"name": "a", "value": 1, "group": "g"}]))


def test_labels_are_escaped_in_figure_table_and_caption(tmp_path, pictures):
    hostile = "<script>alert(1)</script>"
    spec = one_spec(tmp_path, title=f"T {hostile}", caption=hostile)
    html = render(spec, dataset([{"name": hostile, "value": 1.0, "group": "g"}]), "part/page.md", True, pictures)
    assert "<script>alert" not in html
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 3  # title, caption, table
    figure_json = html_module.unescape(html.split('data-figure="')[1].split('"')[0])
    assert json.loads(figure_json)["data"][0]["x"] == ["&lt;script&gt;alert(1)&lt;/script&gt;"]


def test_rendered_chart_has_figure_table_data_link_and_provenance(tmp_path, pictures):
    html = render(one_spec(tmp_path), dataset([{"name": "a", "value": 1.0, "group": "g"}]), "part/page.md",
                  True, pictures)
    assert '<figure class="fg-chart" id="chart-demo" aria-labelledby="chart-demo-title">' in html
    assert 'role="group" aria-label="Chart: Demo.' in html
    # the static picture sits in a box of the figure's height, which keyboard users can reach
    assert re.search(r'<div class="fg-plot" [^>]*tabindex="0"[^>]*style="height: 450px"[^>]*>'
                     r'<svg class="fg-plot__static" role="img"><title>Chart: Demo\.', html)
    assert "<details" in html and "<th scope=\"col\">Value (ms)</th>" in html
    assert 'href="../../data/chart-tables/demo.csv" download' in html
    assert 'href="../../data/demo.csv"' in html
    assert "Measured by a test." in html


def test_unknown_chart_placeholder_names_page_and_id():
    charts = charts_for(ROOT / "docs")
    with pytest.raises(BuildError, match=r"docs/x/page.md, placeholder 'chart: no-such-chart'.*unknown chart id"):
        expand("<!-- chart: no-such-chart -->", "x/page.md", {"chart": charts.placeholder})


def test_registry_charts_are_built_from_the_registry():
    charts = charts_for(ROOT / "docs")
    lifecycle = figure(charts.specs["tool-lifecycle"], charts.dataset(charts.specs["tool-lifecycle"]))
    drawn = {name for trace in lifecycle["data"] for name in trace["y"]}
    assert drawn == {html.escape(t.name, quote=False) for t in REGISTRY.tools.values()}
    matrix = charts.dataset(charts.specs["capability-matrix"])
    assert {r["value"] for r in matrix.rows} <= {"yes", "partial", "no"}


def test_filter_narrows_rows_and_refuses_to_match_nothing(tmp_path):
    docs = tmp_path / "docs"
    shutil.copytree(ROOT / "docs" / "data", docs / "data")
    charts = charts_for(docs)
    assert {r["benchmark"] for r in charts.dataset(charts.specs["gpu-fp32-matmul"]).rows} == {"fp32 matmul"}
    path = docs / "data" / "charts" / "gpu-recordings.yaml"
    path.write_text(path.read_text().replace("benchmark: fp32 matmul", "benchmark: fp64 matmul"))
    with pytest.raises(BuildError, match=r"chart gpu-fp32-matmul, field 'filter': no row"):
        charts_for(docs)


def test_a_csv_without_schema_stops_the_build(tmp_path):
    docs = tmp_path / "docs"
    shutil.copytree(ROOT / "docs" / "data", docs / "data")
    (docs / "data" / "orphan.csv").write_text("a,b\n1,2\n")
    with pytest.raises(BuildError, match=r"orphan.csv: has no schema"):
        charts_for(docs)


def fact_table(tmp_path, column: str, rows: str) -> Path:
    """docs/ with a copy of the real data and a facts table names.yaml: columns cuda, ``column``, source."""
    docs = tmp_path / "docs"
    shutil.copytree(ROOT / "docs" / "data", docs / "data")
    (docs / "data" / "names.schema.yaml").write_text(
        "description: d\nkey: [cuda]\ncolumns:\n"
        f"  - {{name: cuda, label: CUDA, kind: text}}\n  - {{name: {column}, label: L, kind: text}}\n"
        "  - {name: source, label: Source, kind: url}\n")
    (docs / "data" / "names.yaml").write_text("rows:\n" + rows)
    return docs


def test_fact_table_validates_and_renders(tmp_path):
    docs = fact_table(tmp_path, "hip", "  - {cuda: cudaMalloc, hip: hipMalloc, source: 'https://rocm.docs.amd.com/x'}\n")
    charts = charts_for(docs)
    html_out = charts.table("names.yaml", "gpu-programming/rocm.md")
    assert "<td>cudaMalloc</td>" in html_out and "<td>hipMalloc</td>" in html_out
    assert 'href="../../data/tables/names.csv" download' in html_out
    assert "data/tables/names.csv" in charts.downloads()
    (docs / "data" / "names.yaml").write_text("rows:\n  - {cuda: cudaFree, hip: hipFree}\n")
    with pytest.raises(BuildError, match=r"names.yaml, row 1, field 'source': missing"):
        charts_for(docs)
    with pytest.raises(BuildError, match=r"docs/p.md: unknown data file 'other.yaml'"):
        charts.table("other.yaml", "p.md")


def test_a_table_can_show_the_rows_that_match_a_selection(tmp_path):
    docs = fact_table(tmp_path, "kind", "  - {cuda: cudaMalloc, kind: memory, source: 'https://rocm.docs.amd.com/x'}\n"
                                        "  - {cuda: cudaStreamCreate, kind: streams, source: 'https://rocm.docs.amd.com/y'}\n")
    charts = charts_for(docs)
    html_out = charts.table("names.yaml[kind=streams]", "gpu-programming/rocm.md")
    assert "<td>cudaStreamCreate</td>" in html_out and "cudaMalloc" not in html_out
    with pytest.raises(BuildError, match=r"no row of names.yaml matches \{'kind': 'events'\}"):
        charts.table("names.yaml[kind=events]", "p.md")
    with pytest.raises(BuildError, match=r"has no column 'hip'"):
        charts.table("names.yaml[hip=x]", "p.md")
    with pytest.raises(BuildError, match=r"expected names.yaml\[column=value, ...\]"):
        charts.table("names.yaml[streams]", "p.md")


SPREAD = {"x": "name", "y": "value", "error_low": "low", "error_high": "high"}


def spread_rows(*rows):
    return dataset([dict(zip(("name", "value", "low", "high"), r)) for r in rows], ("name", "value", "low", "high"))


@pytest.mark.parametrize("encoding, expected", [
    ({"x": "name", "y": "value", "error_low": "low"},
     "field 'encoding.error_high': required with encoding.error_low"),
    ({"x": "name", "y": "value", "error_high": "high"},
     "field 'encoding.error_low': required with encoding.error_high"),
    ({**SPREAD, "error": "low"}, "field 'encoding.error': use either error or error_low and error_high"),
])
def test_interval_error_bars_need_both_ends_and_exclude_symmetric_ones(tmp_path, encoding, expected):
    with pytest.raises(BuildError, match=expected):
        one_spec(tmp_path, encoding=encoding)


@pytest.mark.parametrize("kind", ["bar", "scatter"])
def test_interval_error_bars_run_from_the_low_to_the_high_column(tmp_path, kind):
    fig = figure(one_spec(tmp_path, kind=kind, encoding=SPREAD),
                 spread_rows(("a", 2.0, 1.5, 3.0), ("b", 4.0, 4.0, 4.25)))
    error = fig["data"][0]["error_y"]
    assert error["symmetric"] is False and error["visible"] is True
    assert error["array"] == [1.0, 0.25] and error["arrayminus"] == [0.5, 0.0]


def test_interval_error_bars_are_left_out_when_no_row_has_them(tmp_path):
    fig = figure(one_spec(tmp_path, encoding=SPREAD), spread_rows(("a", 2.0, None, None), ("b", None, None, None)))
    assert "error_y" not in fig["data"][0]


def test_rows_without_a_value_get_no_error_bar(tmp_path):
    fig = figure(one_spec(tmp_path, encoding=SPREAD), spread_rows(("a", 2.0, 1.0, 3.0), ("b", None, None, None)))
    assert fig["data"][0]["error_y"]["array"] == [1.0, None]


@pytest.mark.parametrize("rows, expected", [
    ((("a", 2.0, 1.0, 3.0), ("b", 2.0, None, None)), r"chart demo, row name=b: has value but no low or high"),
    ((("a", 5.0, 1.0, 3.0),), r"chart demo, row name=a: value 5.0 is outside its interval \[1.0, 3.0\]"),
])
def test_a_row_with_a_missing_or_inconsistent_interval_is_named(tmp_path, rows, expected):
    with pytest.raises(BuildError, match=expected):
        figure(one_spec(tmp_path, encoding=SPREAD), spread_rows(*rows))
