"""The inference benchmark: a smoke run writes a valid CSV with one row per engine, model and batch
size, and the committed measurement file validates against its schema."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.datafiles import read_csv
from scripts.datasets import PROVENANCE_FIELDS, load_schema
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
        assert r["setup"] == pytest.approx(r["convert"] + r["load"] + r["first_call"], abs=0.01), where
        assert r["peak_rss"] >= r["baseline_rss"] > 0, where
        if r["engine"] == "eager":
            assert r["speedup"] == 1.0, where
        if r["engine"] in F32_ENGINES:  # same weights, float32: only rounding differs
            assert r["precision"] == "f32" and r["max_abs_diff"] < 1e-3, where
        else:  # OpenVINO's default: bf16 on CPUs that have it, where the outputs move further
            assert r["max_abs_diff"] < (0.5 if r["precision"] == "bf16" else 1e-3), where


def test_smoke_run_writes_a_valid_csv(tmp_path):
    out = tmp_path / "inference-bench.csv"
    result = run_smoke("scripts.bench_inference", out, timeout=900)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    rows = load(out)
    check_rows(rows, {1, 4})
    assert {r["script"] for r in rows} == {"scripts/bench_inference.py"}


def test_committed_measurements_validate():
    rows = load(ROOT / "docs" / "data" / "inference-bench.csv")
    check_rows(rows, {1, 32})
    assert min(r["repeats"] for r in rows) >= 20
