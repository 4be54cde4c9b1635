"""Lighthouse 12 (its default mobile preset: simulated slow 4G and a 4x slower CPU) over one page of
each kind, in the browser tests' Chromium, against the built site served with gzip.

A run's score moves with whatever else the machine is doing: on a shared two-core machine one
page scored from 0.48 to 0.89 in three runs in a row. Other work only ever slows a run down, so a
page passes when its best run reaches the bar; a page that really got heavier (plotly.js drawing
charts during the load, as before the static pictures) fails every run. Runs stop at the first
that passes. Layout shift is not a matter of speed: it must be 0 in every run.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.browser import CHROMIUM
from tests.conftest import ROOT

pytestmark = pytest.mark.browser
LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
PAGES = {
    "home": "",
    "part index with charts": "research-frameworks/",
    "tool page": "edge-mobile/tensorflow-lite/",
    "notebook page with a chart": "notebooks/pytorch/",
}
MIN_SCORE = 0.95
RUNS = 3


def lighthouse(url: str, out: Path) -> dict:
    """One Lighthouse run: the performance score, total blocking time (ms), cumulative layout
    shift, the bytes the page transferred (compressed, as served), and Lighthouse's measure of the
    machine's speed during the run (its benchmark index: higher is faster)."""
    if not LIGHTHOUSE.exists():
        pytest.fail(f"{LIGHTHOUSE} is missing: run `npm ci` (make setup does)")
    subprocess.run([str(LIGHTHOUSE), url, f"--chrome-path={CHROMIUM}", "--only-categories=performance",
                    "--output=json", f"--output-path={out}", "--quiet",
                    "--chrome-flags=--headless=new --no-sandbox"], check=True, timeout=180)
    report = json.loads(out.read_text())
    audits = report["audits"]
    return {"score": report["categories"]["performance"]["score"],
            "tbt": round(audits["total-blocking-time"]["numericValue"]),
            "cls": audits["cumulative-layout-shift"]["numericValue"],
            "bytes": round(audits["total-byte-weight"]["numericValue"]),
            "benchmark": round(report["environment"]["benchmarkIndex"])}


@pytest.mark.parametrize("kind", PAGES)
def test_lighthouse_mobile_performance(base_url, tmp_path, kind):
    runs = []
    while len(runs) < RUNS and not (runs and runs[-1]["score"] >= MIN_SCORE):
        runs.append(lighthouse(base_url + PAGES[kind], tmp_path / f"run{len(runs)}.json"))
    print(f"\nLighthouse, {kind} ({PAGES[kind] or '/'}): " + "; ".join(
        f"score {r['score']:.2f}, TBT {r['tbt']} ms, CLS {r['cls']:.3f}, {r['bytes'] / 1000:.0f} KB, "
        f"benchmark index {r['benchmark']}" for r in runs))
    assert [r["cls"] for r in runs] == [0] * len(runs), f"{kind}: layout shifts during the load"
    best = max(r["score"] for r in runs)
    assert best >= MIN_SCORE, f"{kind}: best performance score {best:.2f} of {len(runs)} runs, below {MIN_SCORE}"
