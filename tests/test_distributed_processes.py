"""No process started by the distributed-training notebooks and benchmarks outlives its run.

scripts/notebook_helpers/distributed_launch.py marks every process it starts (and the notebooks mark Ray's) with
MARKER in its environment; ``survivors`` finds marked processes still running. These tests show
that the finder sees a marked process, that a run which hangs is killed with everything it started,
and that after a full build of the site no marked process, and no torchrun or Ray process of this
checkout, is left."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scripts.notebook_helpers import distributed_launch
from scripts.notebook_helpers.distributed_launch import MARKER, run_group, survivors
from tests.conftest import ROOT

# Command-line fragments of processes that the part's notebooks start (torchrun and Ray's own).
LAUNCHERS = ("torch.distributed.run", "raylet", "gcs_server", "default_worker.py")

# A parent that starts a child, and both sleep: a stand-in for torchrun and its ranks.
TREE = ("import subprocess, sys, time; "
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)']); time.sleep(120)")


def leftover_launchers() -> list[tuple[int, str]]:
    """Processes of this checkout whose command line names a distributed launcher."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if str(ROOT) in cmdline and any(name in cmdline for name in LAUNCHERS):
            found.append((int(entry.name), cmdline.strip()))
    return found


def test_a_marked_process_is_found_until_it_ends():
    label = f"test-finder-{os.getpid()}"
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                            env={**os.environ, MARKER: label})
    try:
        deadline = time.monotonic() + 10
        while not survivors(label) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [pid for pid, _ in survivors(label)] == [proc.pid]
    finally:
        proc.kill()
        proc.wait()
    assert survivors(label) == []


def test_a_run_that_hangs_is_killed_with_its_children():
    label = f"test-timeout-{os.getpid()}"
    with pytest.raises(TimeoutError, match="ran longer than 3 s and was killed"):
        run_group([sys.executable, "-c", TREE], timeout=3, env=distributed_launch.loopback_env(label))
    assert survivors(label) == [], "a process of the killed run is still alive"


def test_a_run_that_ends_leaves_no_child_behind():
    label = f"test-orphan-{os.getpid()}"
    # The parent exits at once; its child would sleep on, orphaned, if run_group did not end the group.
    orphaning = TREE.rsplit(";", 1)[0]
    result = run_group([sys.executable, "-c", orphaning], timeout=30, env=distributed_launch.loopback_env(label))
    assert result.returncode == 0, result.stderr
    assert survivors(label) == [], "the child of a finished run is still alive"


def test_without_the_group_kill_the_orphan_survives():
    """The check above can fail: the same command without run_group leaves its child running."""
    label = f"test-control-{os.getpid()}"
    orphaning = TREE.rsplit(";", 1)[0]
    subprocess.run([sys.executable, "-c", orphaning], env={**os.environ, MARKER: label}, check=True, timeout=30)
    left = survivors(label)
    try:
        assert left, "expected the orphaned child to be found"
    finally:
        for pid, _ in left:
            os.kill(pid, signal.SIGKILL)


def test_no_process_outlives_the_build(site):
    assert survivors() == [], f"processes started by distributed runs outlived the build: {survivors()}"
    assert leftover_launchers() == [], f"torchrun or Ray processes outlived the build: {leftover_launchers()}"
