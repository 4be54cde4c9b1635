"""The serving benchmark: its smoke run serves the same model with every engine, writes a valid CSV
with a row per engine and concurrency level, and leaves no server process behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.bench import serving
from scripts.site.datafiles import read_csv
from scripts.site.datasets import PROVENANCE_FIELDS, load_schema
from tests.conftest import ROOT, run_smoke

SCHEMA = ROOT / "docs" / "data" / "serving-bench.schema.yaml"
SERVER_MARKERS = ("vllm.entrypoints", "llama_cpp.server", "serve-transformers")


def servers_running() -> list[str]:
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # the process ended while the list was read
            continue
        if any(marker in text for marker in SERVER_MARKERS):
            found.append(f"{cmdline.parent.name}: {text[:200]}")
    return found


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    before = servers_running()
    out = tmp_path_factory.mktemp("serving") / "serving-bench.csv"
    result = run_smoke("scripts.bench.serving", out, "--processes", "1", timeout=1500)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    fields, key, _ = load_schema(SCHEMA)
    return before, read_csv(out, fields + PROVENANCE_FIELDS, key).rows


def test_every_engine_is_measured_at_every_level(smoke):
    _, rows = smoke
    setting = serving.SETTINGS["smoke"]
    assert {(r["engine"], r["concurrency"]) for r in rows} == {(e.name, c) for e in serving.ENGINES
                                                               for c in setting["levels"]}
    for r in rows:
        where = (r["engine"], r["concurrency"])
        assert r["requests"] == setting["levels"][r["concurrency"]] and r["new_tokens"] == setting["new_tokens"], where
        assert r["ttft_p50_low"] <= r["ttft_p50"] <= r["ttft_p50_high"], where
        assert r["throughput_low"] <= r["throughput"] <= r["throughput_high"], where
        assert r["ttft_p50"] > 0 and r["throughput"] > 0 and r["processes"] == 1, where


def test_no_server_outlives_the_run(smoke):
    before, _ = smoke
    assert servers_running() == before
