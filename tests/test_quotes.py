"""Numbers quoted in prose from data files and notebook outputs."""

import nbformat
import pytest

from scripts.site import quotes
from scripts.site.datasets import Column, Dataset
from scripts.site.errors import BuildError

BENCH = Dataset("bench.csv", [
    {"engine": "eager", "batch": 1, "latency": 2.0},
    {"engine": "eager", "batch": 32, "latency": 9.0},
    {"engine": "onnx", "batch": 32, "latency": 6.0},
    {"engine": "onnx, int8", "batch": 32, "latency": 4.0},
], [Column("engine", "Engine"), Column("batch", "Batch"), Column("latency", "Latency", "ms")], "", "data/bench.csv")


def executed(*cells):
    nb = nbformat.v4.new_notebook()
    nb.metadata["fieldguide"] = {"execution": {"date": "2026-11-30"}}
    for tags, text in cells:
        cell = nbformat.v4.new_code_cell("...")
        cell.metadata["tags"] = tags
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
        nb.cells.append(cell)
    return nb


NB = executed((["values"], "size_kb = 32.9\nruns = 3\nroute = torch.onnx.export\n"), ([], "hidden = 1\n"))


def sources(run=True):
    return quotes.Sources({"bench.csv": BENCH}, lambda i: NB if run else None, {"onnx"})


def text(html):
    return html.split(">", 1)[1].rsplit("<", 1)[0]


def test_value_from_one_row_of_a_data_file_with_its_origin():
    html = quotes.value(sources(), "bench.csv[engine=onnx, batch=32].latency | .1f")
    assert text(html) == "6.0"
    assert 'title="docs/data/bench.csv: engine=onnx, batch=32; latency"' in html


def test_a_comma_inside_a_selected_value_is_escaped():
    assert text(quotes.value(sources(), r"bench.csv[engine=onnx\, int8, batch=32].latency")) == "4.0"
    with pytest.raises(BuildError, match="expected column=value"):
        quotes.value(sources(), "bench.csv[engine=onnx, int8, batch=32].latency")


def test_values_printed_by_a_tagged_cell_only():
    assert text(quotes.value(sources(), "onnx/size_kb")) == "32.9"
    assert text(quotes.value(sources(), "onnx/runs | 03d")) == "003"
    assert text(quotes.value(sources(), "onnx/route")) == "torch.onnx.export"
    with pytest.raises(BuildError, match=r"prints no value 'hidden' in a cell tagged 'values'; it prints: size_kb, runs, route"):
        quotes.value(sources(), "onnx/hidden")


def test_ratio_and_change_of_two_values():
    a, b = "bench.csv[engine=eager, batch=32].latency", "bench.csv[engine=onnx, batch=32].latency"
    assert text(quotes.ratio(sources(), f"{a} / {b} | .2f")) == "1.50"
    assert text(quotes.change(sources(), f"{b} / {a} | .0%")) == "-33%"


@pytest.mark.parametrize("arg, message", [
    ("bench.csv[engine=eager].latency", r"selection \[engine=eager\] matches 2 rows; it must match exactly one"),
    ("bench.csv[engine=tvm].latency", r"matches 0 rows"),
    ("bench.csv[motor=eager].latency", r"has no column 'motor'"),
    ("bench.csv[engine=onnx].speed", r"has no column 'speed'"),
    ("other.csv[engine=onnx].latency", r"unknown data file"),
    ("bench.csv[engine=onnx].latency | d", r"format 'd' does not apply to 6.0"),
    ("nope/size_kb", r"unknown notebook"),
    ("a value", r"expected <file>.csv\[column=value, ...\].column or <notebook id>/<name>"),
])
def test_bad_quotes_stop_the_build(arg, message):
    with pytest.raises(BuildError, match=message):
        quotes.value(sources(), arg)


def test_ratio_needs_numbers():
    with pytest.raises(BuildError, match=r"onnx/route: is 'torch.onnx.export', not a number"):
        quotes.ratio(sources(), "onnx/route / onnx/runs")


def test_a_notebook_not_run_in_a_preview_says_so():
    assert "(not run)" in quotes.value(sources(run=False), "onnx/size_kb")


def test_a_value_printed_twice_is_refused():
    nb = executed((["values"], "x = 1\n"), (["values"], "x = 2\n"))
    with pytest.raises(BuildError, match="value 'x' is printed twice"):
        quotes.notebook_values(nb, "notebooks/n.ipynb")
