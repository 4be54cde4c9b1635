"""The Triton Inference Server notebook stops the server it starts.

The notebook starts `tritonserver`, one Python backend stub per model and the stubs' child
processes; all of them inherit the kernel's working folder. After an execution in a cache of its
own (so that it always runs), no process may still have its working folder there.
"""

import os
import subprocess
import time
from pathlib import Path

from scripts.site import executor
from tests.conftest import ROOT

NOTEBOOK = ROOT / "notebooks" / "triton-inference-server.ipynb"
GRACE_S = 10  # the kernel's own child processes exit just after it; a leaked server never does


def processes_in(folder: Path) -> list[str]:
    """'pid name' of every readable process whose working folder lies under ``folder``."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cwd = os.readlink(proc / "cwd")
            name = (proc / "comm").read_text().strip()
        except OSError:  # ended meanwhile, or not ours to read
            continue
        if Path(cwd.removesuffix(" (deleted)")).is_relative_to(folder):
            found.append(f"{proc.name} {name}")
    return found


def remaining_after_grace(folder: Path) -> list[str]:
    deadline = time.monotonic() + GRACE_S
    while (left := processes_in(folder)) and time.monotonic() < deadline:
        time.sleep(0.5)
    return left


def test_processes_in_finds_a_process_by_its_working_folder(tmp_path):
    child = subprocess.Popen(["sleep", "60"], cwd=tmp_path)
    try:
        assert processes_in(tmp_path) == [f"{child.pid} sleep"]
        assert processes_in(tmp_path / "elsewhere") == []
    finally:
        child.kill()
        child.wait()
    assert processes_in(tmp_path) == []


def test_notebook_leaves_no_server_process(tmp_path):
    notebook = executor.Notebook.read(NOTEBOOK)
    ws = executor.Workspace(ROOT, tmp_path)
    todo = executor.plan([notebook], ws)
    assert [nb.id for nb in todo.stale] == [notebook.id], "an empty cache must execute the notebook"
    executor.execute_stale(todo, ws, jobs=1, log=lambda message: None)  # raises if a cell fails
    left = remaining_after_grace(tmp_path)
    assert not left, f"processes still running after the notebook ended: {left}"
