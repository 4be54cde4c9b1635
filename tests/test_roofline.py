"""The roofline: operation and byte counts taken from the kernels' code match the formulas a reader
can check by hand, every plotted kernel's intensity matches its code at the shape that was
measured, a data file that disagrees stops the chapter naming the file, row and column, and the
benchmark's smoke run writes a valid CSV."""

from __future__ import annotations

import csv
import json
import subprocess

import pytest

from scripts.site.datafiles import read_csv
from scripts.site.datasets import PROVENANCE_FIELDS, load_schema
from tests.conftest import MAIN_PYTHON, ROOT, run_smoke

SCHEMA = ROOT / "docs" / "data" / "roofline-bench.schema.yaml"


def helper(*args: str) -> subprocess.CompletedProcess:
    assert MAIN_PYTHON.is_file(), "the main environment is missing: run `make env-main` (make test does)"
    return subprocess.run([str(MAIN_PYTHON), "-m", "scripts.notebook_helpers.roofline", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def counted(*specs: tuple) -> list[dict]:
    """Counts of (kernel, *shape) pairs, in one process: importing PyTorch takes a while."""
    result = helper("--count", *(f"{k}={','.join(map(str, shape))}" for k, *shape in specs))
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)


# Operations and compulsory bytes of one call, written out by hand for float32 (4 bytes).
FORMULAS = {
    "copy": lambda n: (0, 2 * 4 * n),
    "scale": lambda n: (n, 2 * 4 * n),
    "vector add": lambda n: (n, 3 * 4 * n),
    "triad": lambda n: (2 * n, 3 * 4 * n),
    "softmax": lambda r, c: (5 * r * c, 2 * 4 * r * c),   # max, subtract, exp, sum, divide
    "matmul": lambda n: (2 * n ** 3, 3 * 4 * n ** 2),
}


CASES = [("copy", 1000), ("scale", 1000), ("vector add", 1000), ("triad", 1000), ("softmax", 6, 10),
         ("matmul", 24)]


def test_counts_from_the_code_match_the_formulas():
    for (kernel, *shape), got in zip(CASES, counted(*CASES), strict=True):
        assert (got["flops"], got["bytes"]) == FORMULAS[kernel](*shape), (kernel, got["operators"])


def test_softmax_is_counted_from_its_elementary_operators():
    (got,) = counted(("softmax", 2, 3))
    assert got["operators"] == ["amax", "sub", "exp", "sum", "div", "copy_"]


def test_an_unknown_kernel_is_refused():
    result = helper("--count", "cumsum=8")
    assert result.returncode != 0 and "unknown kernel 'cumsum'" in result.stderr


@pytest.fixture(scope="module")
def placed() -> dict:
    result = helper()
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)


def test_every_plotted_kernel_has_the_intensity_of_its_code(placed):
    points = placed["points"]
    kernels = {(p["machine"], p["kernel"]) for p in points}
    assert {("cpu", "vector add"), ("cpu", "softmax"), ("cpu", "matmul")} <= kernels
    assert {k for m, k in kernels if m != "cpu"} == {"vector add", "softmax", "matmul"}
    for p in points:
        flops, moved = FORMULAS[p["kernel"]](*p["shape"])
        assert (p["flops"], p["bytes"]) == (flops, moved), p["where"]
        assert p["intensity"] == pytest.approx(flops / moved), p["where"]


def test_no_kernel_is_above_its_measured_roof(placed):
    roofs = {r["name"]: r for r in placed["roofs"]}
    cpu = roofs["this machine's CPU, measured"]
    gpu = next(r for name, r in roofs.items() if name.endswith("measured") and r is not cpu)
    for p in placed["points"]:
        roof = cpu if p["machine"] == "cpu" else gpu
        bound = min(roof["peak"], roof["bandwidth"] * p["intensity"])
        # 10%: the CPU's rows and its roofs come from separate processes of a shared machine
        assert p["gflops"] <= bound * 1.10, (p["where"], p["gflops"], bound)


def test_a_recorded_rate_that_disagrees_with_the_code_names_the_file_row_and_column(data_copy):
    path = data_copy / "gpu-bench.csv"
    rows = list(csv.reader(path.read_text().splitlines()))
    header = rows[0]
    line = next(i for i, r in enumerate(rows) if r[header.index("benchmark")] == "vector add")
    rows[line][header.index("bandwidth [GB/s]")] = str(float(rows[line][header.index("bandwidth [GB/s]")]) * 2)
    with path.open("w", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    result = helper(str(data_copy))
    assert result.returncode == 1
    assert f"{path}, row {line + 1}, column 'bandwidth'" in result.stderr


def test_smoke_run_writes_a_valid_csv(tmp_path):
    out = tmp_path / "roofline-bench.csv"
    result = run_smoke("scripts.bench.roofline", out, "--processes", "1")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    fields, key, _ = load_schema(SCHEMA)
    rows = read_csv(out, fields + PROVENANCE_FIELDS, key).rows
    assert [r["name"] for r in rows] == ["copy", "scale", "vector add", "triad", "softmax"]
    for r in rows:
        assert r["time_median_low"] <= r["time_median"] <= r["time_median_high"], r["name"]
        assert r["bandwidth"] == pytest.approx(r["bytes"] / r["time_median"] / 1e6, rel=2e-3), r["name"]
        assert r["rel_error"] <= 1e-6 and r["processes"] == 1, r["name"]
