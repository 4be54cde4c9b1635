"""The ZeRO memory accounting: it reproduces the paper's own example, the chart's data file is what
the formula gives, and the measured model-state bytes of the sharding benchmark equal it."""

from __future__ import annotations

import pytest
import yaml

from scripts.notebook_helpers import zero_memory
from scripts.site.datafiles import read_csv
from scripts.site.datasets import PROVENANCE_FIELDS, load_schema
from tests.conftest import ROOT

DATA = ROOT / "docs" / "data"


def test_the_papers_figure_1_example():
    # Rajbhandari et al., figure 1: 7.5B parameters, 64 devices, K = 12.
    paper_gb = {0: 120.0, 1: 31.4, 2: 16.6, 3: 1.88}
    for stage, gb in paper_gb.items():
        assert zero_memory.model_state_bytes(7.5e9, stage, 64) / 1e9 == pytest.approx(gb, abs=0.05), stage


def test_one_device_shards_nothing():
    assert {zero_memory.bytes_per_parameter(s, 1) for s in zero_memory.STAGES} == {16}


@pytest.mark.parametrize("stage, devices", [(4, 8), (1, 0)])
def test_bad_arguments_are_refused(stage, devices):
    with pytest.raises(ValueError):
        zero_memory.bytes_per_parameter(stage, devices)


def test_the_chart_data_is_what_the_formula_gives():
    committed = yaml.safe_load((DATA / "zero-memory.yaml").read_text())["rows"]
    assert committed == zero_memory.rows(), "run python -m scripts.notebook_helpers.zero_memory"


def test_measured_model_state_equals_the_float32_accounting():
    fields, key, _ = load_schema(DATA / "sharding-memory.schema.yaml")
    rows = read_csv(DATA / "sharding-memory.csv", fields + PROVENANCE_FIELDS, key).rows
    for row in rows:
        stage = 3 if row["strategy"].startswith("FSDP") else 0
        expected = zero_memory.model_state_bytes(row["parameters"], stage, row["ranks"], "fp32") / 2 ** 20
        assert row["model_state_mib"] == pytest.approx(expected, rel=1e-3), row["strategy"]
