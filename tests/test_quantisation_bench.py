"""The quantisation benchmark: its smoke run writes a valid CSV in which every method appears at
every batch size, sizes and errors order as the formats' bits say, each speed-up and size ratio is
taken against the float32 model of its own runtime, and a missing environment stops the run
before anything starts, naming the command that creates it."""

from __future__ import annotations

import pytest

from scripts.bench import harness, quantisation
from scripts.site.datafiles import read_csv
from scripts.site.datasets import PROVENANCE_FIELDS, load_schema
from tests.conftest import ROOT, run_smoke

SCHEMA = ROOT / "docs" / "data" / "quantisation-bench.schema.yaml"


@pytest.fixture(scope="module")
def smoke_rows(tmp_path_factory):
    out = tmp_path_factory.mktemp("quantisation") / "quantisation-bench.csv"
    result = run_smoke("scripts.bench.quantisation", out, "--processes", "1")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    fields, key, _ = load_schema(SCHEMA)
    return {(r["method"], r["batch"]): r for r in read_csv(out, fields + PROVENANCE_FIELDS, key).rows}


def test_every_method_is_measured_at_every_batch_size(smoke_rows):
    batches = quantisation.SETTINGS["smoke"]["batches"]
    assert set(smoke_rows) == {(m.name, b) for m in quantisation.METHODS for b in batches}
    for row in smoke_rows.values():
        assert row["latency_p50_low"] <= row["latency_p50"] <= row["latency_p50_high"], row["method"]
        assert row["processes"] == 1 and row["repeats"] >= quantisation.SETTINGS["smoke"]["min_calls"]


def test_sizes_and_errors_follow_the_formats(smoke_rows):
    row = {name: smoke_rows[(name, 1)] for name, _ in smoke_rows}
    # the same float32 model in three runtimes: identical predictions, rounding-level differences
    assert row["float32"]["rel_error"] == 0
    for name in ("onnxruntime float32", "openvino float32"):
        assert row[name]["rel_error"] < 1e-5 and row[name]["agreement"] == 1, name
    for name, r in row.items():
        if r["weights"] != "float32":
            assert r["size_mb"] < row[r["reference"]]["size_mb"], name
            assert 0 < r["rel_error"] < 0.5, name
    # fewer bits, more rounding: both 4-bit methods err more than int8 weight-only
    assert min(row["torchao int4 weight-only"]["rel_error"], row["bitsandbytes nf4"]["rel_error"]) \
        > row["torchao int8 weight-only"]["rel_error"]
    assert row["bitsandbytes nf4"]["size_mb"] < row["bitsandbytes int8"]["size_mb"]


def test_ratios_are_taken_against_the_same_runtimes_float32(smoke_rows):
    for (name, batch), r in smoke_rows.items():
        reference = smoke_rows[(r["reference"], batch)]
        assert reference["runtime"] == r["runtime"] and reference["weights"] == "float32", name
        # ratios are rounded to 3 decimals, from values rounded to 4 significant digits
        assert r["speedup"] == pytest.approx(reference["latency_p50"] / r["latency_p50"], rel=2e-3, abs=5e-4), name
        assert r["size_ratio"] == pytest.approx(reference["size_mb"] / r["size_mb"], rel=2e-3, abs=5e-4), name
        assert r["speedup_low"] <= r["speedup"] <= r["speedup_high"], name


def test_a_missing_environment_stops_the_run(tmp_path, monkeypatch):
    monkeypatch.setattr(harness, "ROOT", tmp_path)
    with pytest.raises(SystemExit, match=r"finetune.*missing: run `make env-finetune`"):
        quantisation.main(["--smoke", "--out", str(tmp_path / "q.csv"), "--methods", "bitsandbytes nf4"])
    assert not (tmp_path / "q.csv").exists()
