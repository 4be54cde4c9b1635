"""Start the processes of a distributed run on this machine, and make sure that none outlives it.

The notebooks and benchmarks of the distributed-training part start several processes that talk
to each other (torchrun, torch.multiprocessing, Ray). Everything here keeps them contained:

- they communicate over the loopback interface only (127.0.0.1, ``GLOO_SOCKET_IFNAME=lo``), on a
  port that is free when the run starts;
- ``run_group`` starts a command in a process group (session) of its own, and before it returns,
  on success, failure or timeout alike, kills whatever is left of that group and waits until
  nothing is;
- every process started here carries ``MARKER`` in its environment, and ``survivors`` finds any
  that is still running, which is what tests/test_distributed_processes.py checks after a build.

Standard library only: the notebooks import it from both the main and the distributed environment.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MARKER = "FIELDGUIDE_DISTRIBUTED_RUN"
LOOPBACK = "127.0.0.1"
REAP_S = 10.0  # how long killed processes may take to disappear before that is an error


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


def loopback_env(label: str, threads: int = 1, extra: dict | None = None) -> dict:
    """This process's environment plus what keeps a run on the loopback interface and marks it.

    ``label`` names the run (a notebook id, a benchmark) in the marker; ``threads`` is each
    process's share of the CPU (two processes on two cores: one thread each)."""
    env = dict(os.environ)
    env.update({
        MARKER: label,
        "MASTER_ADDR": LOOPBACK,
        "GLOO_SOCKET_IFNAME": "lo",
        "OMP_NUM_THREADS": str(threads),
        "MKL_NUM_THREADS": str(threads),
        "OPENBLAS_NUM_THREADS": str(threads),
    })
    env.update(extra or {})
    return env


def _group_members(pgid: int) -> list[int]:
    """Live processes of process group ``pgid`` (zombies, already dead, do not count)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(entry.name))
    return members


def end_group(pgid: int) -> None:
    """Kill every process left in group ``pgid`` and wait until none is; raise if some stay."""
    deadline = time.monotonic() + REAP_S
    while members := _group_members(pgid):
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"processes {members} of group {pgid} survived SIGKILL for {REAP_S:.0f} s")
        time.sleep(0.05)


def run_group(command: list[str], timeout: float, env: dict, cwd: str | Path | None = None) -> subprocess.CompletedProcess:
    """Run ``command`` in a new session and return its result; nothing it started survives the call.

    The call returns when the command itself exits (processes it left behind are killed then, even
    if they hold its output open). A run that exceeds ``timeout`` seconds is killed with all its
    processes, and TimeoutError carries the end of its output."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=err, text=True,
                                start_new_session=True)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            end_group(proc.pid)
            proc.wait()
            out.seek(0), err.seek(0)
            raise TimeoutError(f"{' '.join(command)} ran longer than {timeout:.0f} s and was killed:\n"
                               f"{out.read()[-2000:]}\n{err.read()[-4000:]}") from None
        finally:
            end_group(proc.pid)  # the leader has exited or been killed; what it started goes too
        out.seek(0), err.seek(0)
        return subprocess.CompletedProcess(command, proc.returncode, out.read(), err.read())


def torchrun(*program: str, nproc: int, label: str, timeout: float = 120, cwd: str | Path | None = None,
             extra_env: dict | None = None) -> subprocess.CompletedProcess:
    """``torchrun`` with ``nproc`` processes of ``program`` (a script and its arguments, or ``-m``
    and a module) on this machine; raises RuntimeError naming the failure when any process fails."""
    command = [sys.executable, "-m", "torch.distributed.run", "--nnodes=1", f"--nproc-per-node={nproc}",
               f"--master-addr={LOOPBACK}", f"--master-port={free_port()}", *program]
    result = run_group(command, timeout, loopback_env(label, extra=extra_env), cwd)
    if result.returncode != 0:
        raise RuntimeError(f"torchrun {' '.join(program)} exited with {result.returncode}:\n"
                           f"{result.stdout[-2000:]}\n{result.stderr[-4000:]}")
    return result


def _environ(pid: str) -> bytes:
    try:
        return Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:  # gone, or not ours to read
        return b""


def _cmdline(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def _is_zombie(pid: str) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


def survivors(label: str | None = None) -> list[tuple[int, str]]:
    """Running processes other than this one that carry ``MARKER`` (with value ``label``, or any
    value when it is None), as (pid, command line)."""
    found = []
    needle = f"{MARKER}={label}".encode() if label else f"{MARKER}=".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        environ = _environ(entry.name)
        items = environ.split(b"\0")
        if any(item == needle or (label is None and item.startswith(needle)) for item in items) \
                and not _is_zombie(entry.name):
            found.append((int(entry.name), _cmdline(entry.name)))
    return found
