"""Provenance for benchmark scripts: what every row of a measurement CSV records about its run,
and a writer that validates rows against the file's schema before anything is written."""

from __future__ import annotations

import csv
import datetime as dt
import importlib.metadata
import os
import platform
import statistics
import subprocess
from pathlib import Path

from scripts.datafiles import validate_value
from scripts.datasets import PROVENANCE_FIELDS, load_schema

ROOT = Path(__file__).resolve().parent.parent


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        # Data files are what the benchmarks write, so they do not make the code differ from the commit.
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":!docs/data"],
                               cwd=ROOT, capture_output=True, text=True).stdout.strip()
        return out.stdout.strip() + ("+changes" if dirty else "") if out.returncode == 0 else "unknown"
    except OSError:
        return "unknown"


def versions(packages: list[str]) -> str:
    found = []
    for name in packages:
        try:
            found.append(f"{name}={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            pass
    return " ".join([f"python={platform.python_version()}"] + found)


def run_record(packages: list[str], threads: int, script: str) -> dict:
    """The provenance columns for every row written by one run of a benchmark script."""
    return {"cpu": cpu_model(), "cores": os.cpu_count(), "threads": threads, "versions": versions(packages),
            "date": dt.date.today().isoformat(), "script": script, "commit": commit()}


def summarise(samples: list[float]) -> dict:
    """Median and spread (interquartile range, min, max) of repeated timings."""
    ordered = sorted(samples)
    q = statistics.quantiles(ordered, n=4) if len(ordered) >= 2 else [ordered[0]] * 3
    return {"median": statistics.median(ordered), "q1": q[0], "q3": q[2], "min": ordered[0], "max": ordered[-1],
            "n": len(ordered)}


def write_csv(path: Path, rows: list[dict]) -> None:
    """Write rows (own columns + provenance) after checking each against <name>.schema.yaml."""
    fields, _, _ = load_schema(path.with_suffix(".schema.yaml"))
    fields = fields + PROVENANCE_FIELDS
    for i, row in enumerate(rows, start=2):
        for f in fields:
            validate_value(row.get(f.name), f, f"{path}, row {i}")
    tmp = path.with_suffix(".csv.tmp")
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow([f.header for f in fields])
        for row in rows:
            writer.writerow(["" if row.get(f.name) is None else row[f.name] for f in fields])
    os.replace(tmp, path)
