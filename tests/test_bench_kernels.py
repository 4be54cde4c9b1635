"""The kernel benchmark: a smoke run writes a valid CSV with one row per implementation and size
(libraries only at the peak-probe size), and the committed measurement file validates."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.datafiles import read_csv
from scripts.datasets import PROVENANCE_FIELDS, load_schema
from tests.conftest import ROOT, run_smoke

SCHEMA = ROOT / "docs" / "data" / "kernel-bench.schema.yaml"
ALL = ("NumPy", "PyTorch", "JAX (XLA)", "numba", "OpenCL")
LIBRARIES = ("NumPy", "PyTorch", "JAX (XLA)")


def load(path: Path) -> list[dict]:
    fields, key, _ = load_schema(SCHEMA)
    return read_csv(path, fields + PROVENANCE_FIELDS, key).rows


def check_rows(rows: list[dict], sizes: set[int], peak_size: int) -> None:
    expected = {(i, n) for i in ALL for n in sizes} | {(i, peak_size) for i in LIBRARIES}
    assert {(r["implementation"], r["n"]) for r in rows} == expected
    peaks = {r["peak_gflops"] for r in rows}
    assert len(peaks) == 1, "every row divides by the same measured peak"
    peak = peaks.pop()
    for r in rows:
        where = f"{r['implementation']}, n={r['n']}"
        assert 0 < r["time_q1"] <= r["time_median"] <= r["time_q3"], where
        assert r["repeats"] >= 3, where
        assert r["gflops"] == pytest.approx(2 * r["n"] ** 3 / (r["time_median"] / 1e3) / 1e9, rel=0.02), where
        assert r["gflops"] <= r["gflops_best"] <= peak * 1.0001, where
        assert r["peak_fraction"] == pytest.approx(100 * r["gflops"] / peak, abs=0.1), where
        assert r["rel_error"] < 1e-4, where  # float32 products agree with float64 to rounding
        assert r["size"] == f"n = {r['n']}", where
    assert max(r["gflops_best"] for r in rows) == pytest.approx(peak, rel=0.001), "the peak is the fastest call"


def test_smoke_run_writes_a_valid_csv(tmp_path):
    out = tmp_path / "kernel-bench.csv"
    result = run_smoke("scripts.bench_kernels", out)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    rows = load(out)
    check_rows(rows, {32, 64}, 96)
    assert {r["script"] for r in rows} == {"scripts/bench_kernels.py"}
    assert {r["threads"] for r in rows} == {2}


def test_committed_measurements_validate():
    rows = load(ROOT / "docs" / "data" / "kernel-bench.csv")
    check_rows(rows, {256, 512, 1024}, 2048)
    assert min(r["repeats"] for r in rows) >= 6
