"""The export-matrix benchmark: its smoke run writes a valid CSV with the expected pairs, and the
committed CSV covers every source/target pair."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts import bench_exports
from scripts.datafiles import read_csv
from scripts.datasets import PROVENANCE_FIELDS, load_schema
from tests.conftest import ROOT, run_smoke

SCHEMA = ROOT / "docs" / "data" / "export-matrix.schema.yaml"


def load(path: Path) -> list[dict]:
    fields, key, _ = load_schema(SCHEMA)
    return read_csv(path, fields + PROVENANCE_FIELDS, key).rows


def test_every_pair_has_a_route_and_the_schema_lists_every_choice():
    fields = {f.name: f for f in load_schema(SCHEMA)[0]}
    assert set(bench_exports.ROUTES) == {(s, t) for s in bench_exports.SOURCES for t in bench_exports.TARGETS}
    assert set(fields["source"].choices) == set(bench_exports.SOURCES)
    assert set(fields["target"].choices) == set(bench_exports.TARGETS)
    assert set(bench_exports.SMOKE_PAIRS) <= set(bench_exports.ROUTES)


def test_short_error_keeps_the_first_line_and_type():
    try:
        raise ValueError("first line\n  second line")
    except ValueError as exc:
        assert bench_exports.short_error(exc) == "ValueError: first line"
    assert len(bench_exports.short_error(RuntimeError("x" * 1000))) <= 220


def test_smoke_run_writes_valid_rows(tmp_path):
    out = tmp_path / "export-matrix.csv"
    proc = run_smoke("scripts.bench_exports", out, timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]
    rows = {(r["source"], r["target"]): r for r in load(out)}
    assert set(rows) == set(bench_exports.SMOKE_PAIRS)
    for pair in [("PyTorch", "ONNX"), ("Keras (TensorFlow)", "LiteRT")]:
        row = rows[pair]
        assert row["outcome"] == "runs" and row["works"] == "yes", row
        assert row["max_abs_diff"] is not None and row["max_abs_diff"] < 1e-3, row
        assert row["top1_agree"] == 100.0, row
        assert row["convert_median"] > 0 and row["size"] > 20, row  # 6,570 float32 weights are 26 kB
        assert row["threads"] == 1 and row["script"] == "scripts/bench_exports.py"
    assert rows[("JAX", "ExecuTorch")]["outcome"] == "no path"
    assert rows[("JAX", "ExecuTorch")]["convert_median"] is None


def test_committed_matrix_covers_every_pair():
    rows = load(ROOT / "docs" / "data" / "export-matrix.csv")
    assert {(r["source"], r["target"]) for r in rows} == set(bench_exports.ROUTES)
    for row in rows:
        assert row["works"] == {"runs": "yes", "converts only": "partial"}.get(row["outcome"], "no"), row
        if row["outcome"] == "runs":
            assert row["max_abs_diff"] is not None and row["max_abs_diff"] < 1e-3, row
        if row["outcome"] in ("fails", "not installed"):
            assert row["error"], row
