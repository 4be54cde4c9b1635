"""Checks shared by the benchmark scripts' tests: the harness's provenance and spread columns in
the rows a script wrote, and the report of a worker that timed out."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

from scripts.bench import provenance
from scripts.bench.harness import parse_cpu_list


def check_spread(row: dict, *names: str) -> None:
    """Each ``name`` lies between its lowest and highest per-process value."""
    for name in names:
        assert row[f"{name}_low"] <= row[name] <= row[f"{name}_high"], (name, row)


def check_provenance(row: dict, processes: int, threads: int) -> None:
    """The columns the harness adds to every row it measured."""
    assert row["processes"] == processes and row["order_seed"] == 0 and row["threads"] == threads, row
    positions = [int(p) for p in row["process_order"].split()]
    assert len(positions) == processes and positions == sorted(positions), row["process_order"]
    cpus = parse_cpu_list(row["cpu_list"])
    assert len(cpus) == threads and set(cpus) <= os.sched_getaffinity(0), row["cpu_list"]
    assert [entry.split(":")[0] for entry in row["smt_siblings"].split()] == [str(c) for c in cpus]
    assert row["cpu"] == provenance.cpu_model() and row["cpu_flags"] == provenance.cpu_flags()
    assert row["kernel"] == platform.release() and row["governor"]
    assert [float(v) >= 0 for v in row["load_avg"].split()] == [True] * 3, row["load_avg"]
    assert row["blas"] and row["versions"].startswith("python=")


def check_timeout_reported(proc: subprocess.CompletedProcess, out: Path, configuration: str, timeout: str) -> None:
    """A run whose workers time out stops with a report naming them, and writes nothing."""
    assert proc.returncode != 0, proc.stdout[-2000:]
    assert f"{configuration}: process 1 of 2 (position " in proc.stderr, proc.stderr[-3000:]
    assert f"timed out after {timeout} s and was killed" in proc.stderr, proc.stderr[-3000:]
    assert "was not written" in proc.stderr and not out.exists()
