"""The export-matrix benchmark: its smoke run writes a valid CSV with the expected pairs, and the
committed CSV covers every source/target pair."""

from __future__ import annotations

from pathlib import Path

from scripts.bench import exports
from scripts.site.datafiles import read_csv
from scripts.site.datasets import PROVENANCE_FIELDS, load_schema
from tests.bench_checks import check_provenance, check_spread
from tests.conftest import ROOT, run_smoke

SCHEMA = ROOT / "docs" / "data" / "export-matrix.schema.yaml"


def load(path: Path) -> list[dict]:
    fields, key, _ = load_schema(SCHEMA)
    return read_csv(path, fields + PROVENANCE_FIELDS, key).rows


def test_every_pair_has_a_route_and_the_schema_lists_every_choice():
    fields = {f.name: f for f in load_schema(SCHEMA)[0]}
    assert set(exports.ROUTES) == {(s, t) for s in exports.SOURCES for t in exports.TARGETS}
    assert set(fields["source"].choices) == set(exports.SOURCES)
    assert set(fields["target"].choices) == set(exports.TARGETS)
    assert set(exports.SMOKE_PAIRS) <= set(exports.ROUTES)


def test_short_error_keeps_the_first_line_and_type():
    try:
        raise ValueError("first line\n  second line")
    except ValueError as exc:
        assert exports.short_error(exc) == "ValueError: first line"
    assert len(exports.short_error(RuntimeError("x" * 1000))) <= 220


def test_smoke_run_writes_valid_rows(tmp_path):
    out = tmp_path / "export-matrix.csv"
    proc = run_smoke("scripts.bench.exports", out, timeout=900)
    assert proc.returncode == 0, proc.stderr[-4000:]
    rows = {(r["source"], r["target"]): r for r in load(out)}
    assert set(rows) == set(exports.SMOKE_PAIRS)
    for pair in [("PyTorch", "ONNX"), ("Keras (TensorFlow)", "LiteRT")]:
        row = rows[pair]
        assert row["outcome"] == "runs" and row["works"] == "yes", row
        assert row["max_abs_diff"] is not None and row["max_abs_diff"] < 1e-3, row
        assert row["top1_agree"] == 100.0, row
        assert row["convert_median"] > 0 and row["size"] > 20, row  # 6,570 float32 weights are 26 kB
        assert row["convert_min"] <= row["convert_median_low"] and row["convert_median_high"] <= row["convert_max"]
        check_spread(row, "convert_median")
        assert row["repeats"] >= 2 and row["convert_ties"] == "none", row  # the only timed pair of its source
        assert row["script"] == "scripts/bench/exports.py"
        check_provenance(row, processes=2, threads=1)
    no_path = rows[("JAX", "ExecuTorch")]
    assert no_path["outcome"] == "no path" and no_path["convert_median"] is None
    assert no_path["processes"] == 0 and no_path["cpu_list"] is None and no_path["threads"] == 1


def test_a_worker_timeout_fails_its_pair(tmp_path):
    out = tmp_path / "export-matrix.csv"
    proc = run_smoke("scripts.bench.exports", out, "--timeout", "0.3", timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]  # a failing pair is a result of the matrix
    rows = {(r["source"], r["target"]): r for r in load(out)}
    for pair in [("PyTorch", "ONNX"), ("Keras (TensorFlow)", "LiteRT")]:
        assert rows[pair]["outcome"] == "fails" and rows[pair]["works"] == "no", rows[pair]
        assert rows[pair]["error"].startswith("process 1 of 2 (position "), rows[pair]
        assert rows[pair]["error"].endswith("timed out after 0.3 s and was killed"), rows[pair]


def test_ties_list_the_targets_of_a_source_whose_spreads_overlap():
    def row(target, low, high):
        return {"source": "JAX", "target": target, "convert_median_low": low, "convert_median_high": high}
    rows = [row("ONNX", 1.0, 2.0), row("LiteRT", 1.5, 3.0), row("OpenVINO IR", 4.0, 5.0),
            {"source": "JAX", "target": "Core ML", "convert_median_low": None}]
    exports.add_ties(rows)
    assert [r.get("convert_ties") for r in rows] == ["LiteRT", "ONNX", "none", None]


def test_committed_matrix_covers_every_pair():
    rows = load(ROOT / "docs" / "data" / "export-matrix.csv")
    assert {(r["source"], r["target"]) for r in rows} == set(exports.ROUTES)
    for row in rows:
        assert row["works"] == {"runs": "yes", "converts only": "partial"}.get(row["outcome"], "no"), row
        if row["outcome"] == "runs":
            assert row["max_abs_diff"] is not None and row["max_abs_diff"] < 1e-3, row
        if row["outcome"] in ("fails", "not installed"):
            assert row["error"], row
    measured = [r for r in rows if r["processes"] is not None]
    assert measured in ([], rows), "one run writes the file: every row has the harness's columns, or none"
    for row in measured:
        if row["convert_median"] is not None:
            check_spread(row, "convert_median")
