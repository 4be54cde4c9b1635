"""The collective benchmark: a smoke run writes a valid CSV with every collective at every size,
and the committed measurement file validates."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.bench.collectives import BUS_FACTOR, OPERATIONS
from scripts.site.datafiles import read_csv
from scripts.site.datasets import PROVENANCE_FIELDS, load_schema
from tests.conftest import ROOT, run_smoke

SCHEMA = ROOT / "docs" / "data" / "collective-bench.schema.yaml"


def load(path: Path) -> list[dict]:
    fields, key, _ = load_schema(SCHEMA)
    return read_csv(path, fields + PROVENANCE_FIELDS, key).rows


def check_rows(rows: list[dict], sizes: set[int]) -> None:
    assert {(r["operation"], r["bytes"]) for r in rows} == {(op, b) for op in OPERATIONS for b in sizes}
    for r in rows:
        where = f"{r['operation']}, {r['size']}"
        assert r["time_low"] <= r["time_median"] <= r["time_high"], where
        assert 0 < r["time_q1"] <= r["time_q3"], where
        assert r["ranks"] == 2 and r["calls"] >= 3, where
        assert r["algbw"] == pytest.approx(r["bytes"] / (r["time_median"] / 1e3) / 1e9, rel=0.01), where
        assert r["busbw"] == pytest.approx(r["algbw"] * BUS_FACTOR[r["operation"]](2), rel=0.01), where
        assert r["script"] == "scripts/bench/collectives.py" and r["threads"] == 1, where


def test_smoke_run_writes_a_valid_csv(tmp_path):
    out = tmp_path / "collective-bench.csv"
    result = run_smoke("scripts.bench.collectives", out, "--processes", "1")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    rows = load(out)
    check_rows(rows, {2 ** 10, 2 ** 16})
    assert {r["processes"] for r in rows} == {1}


def test_committed_measurements_validate():
    rows = load(ROOT / "docs" / "data" / "collective-bench.csv")
    check_rows(rows, {2 ** k for k in range(10, 25, 2)})
    assert min(r["processes"] for r in rows) >= 3
