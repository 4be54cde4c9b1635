"""The inference benchmark: a smoke run writes a valid CSV with one row per engine, model and batch
size, and the committed measurement file validates against its schema."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from scripts.site.datafiles import read_csv
from scripts.site.datasets import PROVENANCE_FIELDS, load_schema
from tests.bench_checks import check_provenance, check_spread, check_timeout_reported
from tests.conftest import ROOT, run_smoke

SCHEMA = ROOT / "docs" / "data" / "inference-bench.schema.yaml"
ENGINES = ("eager", "torch-compile", "torchscript", "torch-export", "onnxruntime", "openvino-f32",
           "openvino-default", "keras-xla", "jax-jit")
F32_ENGINES = tuple(e for e in ENGINES if e != "openvino-default")


def load(path: Path):
    fields, key, _ = load_schema(SCHEMA)
    return read_csv(path, fields + PROVENANCE_FIELDS, key).rows


def check_rows(rows: list[dict], batches: set[int]) -> None:
    assert {(r["engine"], r["model"], r["batch"]) for r in rows} == {
        (e, m, b) for e in ENGINES for m in ("cnn", "transformer") for b in batches}
    for r in rows:
        where = f"{r['engine']}, {r['model']}, batch {r['batch']}"
        assert 0 < r["latency_q1"] <= r["latency_p50"] <= r["latency_q3"], where
        assert r["latency_p50"] <= r["latency_p90"], where
        assert r["repeats"] >= 3, where
        assert r["throughput"] == pytest.approx(r["batch"] / r["latency_p50"] * 1000, rel=0.01), where
        if r["processes"]:  # the one-time cost is the median over processes of each process's sum
            check_spread(r, "latency_p50", "speedup", "setup")
            assert r["setup"] >= r["convert"], where
        else:  # measured in one process
            assert r["setup"] == pytest.approx(r["convert"] + r["load"] + r["first_call"], abs=0.01), where
        assert r["peak_rss"] >= r["baseline_rss"] > 0, where
        if r["engine"] == "eager":
            assert r["speedup"] == 1.0, where
        if r["engine"] in F32_ENGINES:  # same weights, float32: only rounding differs
            assert r["precision"] == "f32" and r["max_abs_diff"] < 1e-3, where
        else:  # OpenVINO's default: bf16 on CPUs that have it, where the outputs move further
            assert r["max_abs_diff"] < (0.5 if r["precision"] == "bf16" else 1e-3), where


def check_ties(rows: list[dict]) -> None:
    """Each row lists exactly the engines at its model and batch whose spread overlaps its own."""
    for r in rows:
        overlapping = {o["engine"] for o in rows if (o["model"], o["batch"]) == (r["model"], r["batch"])
                       and o["engine"] != r["engine"] and o["latency_p50_low"] <= r["latency_p50_high"]
                       and r["latency_p50_low"] <= o["latency_p50_high"]}
        listed = set() if r["latency_ties"] == "none" else set(r["latency_ties"].split(", "))
        assert listed == overlapping, (r["engine"], r["model"], r["batch"])


def test_smoke_run_writes_a_valid_csv(tmp_path):
    out = tmp_path / "inference-bench.csv"
    result = run_smoke("scripts.bench.inference", out, timeout=1500)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    rows = load(out)
    check_rows(rows, {1, 4})
    check_ties(rows)
    assert {r["script"] for r in rows} == {"scripts/bench/inference.py"}
    threads = min(2, len(os.sched_getaffinity(0)))
    for r in rows:
        check_provenance(r, processes=2, threads=threads)
        assert r["repeats"] >= 2 * 3, r
    blas = {r["engine"]: r["blas"] for r in rows}
    assert "torch: " in blas["eager"] and "torch: " not in blas["onnxruntime"], "each worker reports its own libraries"


def test_a_worker_timeout_fails_its_row_and_writes_nothing(tmp_path):
    out = tmp_path / "inference-bench.csv"
    proc = run_smoke("scripts.bench.inference", out, "--engines", "eager", "--models", "cnn", "--timeout", "0.3",
                     timeout=900)
    check_timeout_reported(proc, out, "engine eager, model cnn", "0.3")


def test_committed_measurements_validate():
    rows = load(ROOT / "docs" / "data" / "inference-bench.csv")
    check_rows(rows, {1, 32})
    assert min(r["repeats"] for r in rows) >= 20
    measured = [r for r in rows if r["processes"]]
    assert measured in ([], rows), "one run writes the file: every row has the harness's columns, or none"
    if measured:
        check_ties(rows)
