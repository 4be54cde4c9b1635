"""The kernel benchmark: a smoke run writes a valid CSV with one row per implementation and size
(libraries only at the peak-probe size), and the committed measurement file validates."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from scripts.site.datafiles import read_csv
from scripts.site.datasets import PROVENANCE_FIELDS, load_schema
from tests.bench_checks import check_provenance, check_spread, check_timeout_reported
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
        assert r["peak_fraction"] == pytest.approx(100 * r["gflops"] / peak, abs=0.1), where
        assert r["rel_error"] < 1e-4, where  # float32 products agree with float64 to rounding
        assert r["size"] == f"n = {r['n']}", where
        if r["processes"]:
            check_spread(r, "time_median", "gflops", "peak_fraction")
            assert r["gflops_low"] == pytest.approx(2 * r["n"] ** 3 / r["time_median_high"] / 1e6, rel=0.02), where
            assert r["gflops_high"] <= peak, where
    if rows[0]["processes"]:
        assert max(r["gflops_high"] for r in rows) == peak, "the peak is the best process median of any row"


def test_smoke_run_writes_a_valid_csv(tmp_path):
    out = tmp_path / "kernel-bench.csv"
    result = run_smoke("scripts.bench.kernels", out)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    rows = load(out)
    check_rows(rows, {32, 64}, 96)
    assert {r["script"] for r in rows} == {"scripts/bench/kernels.py"}
    for r in rows:
        check_provenance(r, processes=2, threads=2)
    assert "numba" in {r["implementation"] for r in rows if "threading layer" in r["engine"]}


def test_more_threads_than_cpus_are_refused(tmp_path):
    out = tmp_path / "kernel-bench.csv"
    threads = len(os.sched_getaffinity(0)) + 1
    result = run_smoke("scripts.bench.kernels", out, "--threads", str(threads), timeout=120)
    assert result.returncode != 0 and f"{threads} threads asked for, but the affinity mask allows" in result.stderr
    assert not out.exists()


def test_a_worker_timeout_fails_its_row_and_writes_nothing(tmp_path):
    out = tmp_path / "kernel-bench.csv"
    proc = run_smoke("scripts.bench.kernels", out, "--timeout", "0.3")
    check_timeout_reported(proc, out, "NumPy", "0.3")


def test_committed_measurements_validate():
    rows = load(ROOT / "docs" / "data" / "kernel-bench.csv")
    check_rows(rows, {256, 512, 1024}, 2048)
    assert min(r["repeats"] for r in rows) >= 6
    measured = [r for r in rows if r["processes"]]
    assert measured in ([], rows), "one run writes the file: every row has the harness's columns, or none"
