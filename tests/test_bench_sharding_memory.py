"""The sharding memory benchmark: a smoke run writes a valid CSV in which FSDP2 holds half of DDP's
model state per process, and the committed measurement file validates."""

from __future__ import annotations

from pathlib import Path

from scripts.bench.sharding_memory import STRATEGIES
from scripts.site.datafiles import read_csv
from scripts.site.datasets import PROVENANCE_FIELDS, load_schema
from tests.conftest import ROOT, run_smoke

SCHEMA = ROOT / "docs" / "data" / "sharding-memory.schema.yaml"


def load(path: Path) -> dict[str, dict]:
    fields, key, _ = load_schema(SCHEMA)
    return {r["strategy"]: r for r in read_csv(path, fields + PROVENANCE_FIELDS, key).rows}


def check_rows(rows: dict[str, dict]) -> None:
    for label, row in rows.items():
        assert row["ranks"] == STRATEGIES[label][0], label
        assert row["model_state_mib"] == row["formula_mib"], label  # counted bytes equal the accounting
        assert row["rss_growth_low"] <= row["rss_growth_mib"] <= row["rss_growth_high"], label
        assert row["peak_growth_mib"] >= row["rss_growth_mib"] * 0.99, label
    ddp, fsdp = rows["DDP"], rows["FSDP2"]
    for column in ("params_mib", "grads_mib", "optimizer_mib"):
        assert abs(2 * fsdp[column] / ddp[column] - 1) < 1e-3, column  # the CSV keeps four digits


def test_smoke_run_writes_a_valid_csv(tmp_path):
    out = tmp_path / "sharding-memory.csv"
    result = run_smoke("scripts.bench.sharding_memory", out, "--processes", "1")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    rows = load(out)
    assert set(rows) == {"DDP", "FSDP2"}
    check_rows(rows)


def test_committed_measurements_validate():
    rows = load(ROOT / "docs" / "data" / "sharding-memory.csv")
    assert set(rows) == set(STRATEGIES)
    check_rows(rows)
    assert rows["FSDP2"]["rss_growth_mib"] < rows["DDP"]["rss_growth_mib"]
    assert min(r["processes"] for r in rows.values()) >= 3
