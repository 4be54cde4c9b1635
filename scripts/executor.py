"""Executes notebooks into a content-addressed cache outside docs/.

A notebook re-executes only when its cache key changes. The key covers what can change its
outputs: the code cells (and their tags), the kernel environment's lock file, the bytes of the
input files it declares, and ``EXECUTOR_VERSION``. Markdown edits never re-execute: the page is
assembled from the current Markdown cells and the cached outputs (see ``merge``).

Notebook metadata, under ``fieldguide``:
    env      the environment (requirements/<env>.lock, kernel ``fieldguide-<env>``)
    inputs   files it reads, relative to the repository root
    timeout  seconds for the whole notebook (default NOTEBOOK_TIMEOUT)
    packages distributions whose versions the environment stamp reports
    part     for a notebook not named after a tool: the part of the guide it belongs to
    recorded provenance of a notebook recorded on other hardware; never executed here
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from jupyter_core.utils import ensure_async

from scripts.errors import BuildError

# Bump when a change here alters what executed notebooks contain.
EXECUTOR_VERSION = "1"
CELL_TIMEOUT = 300
NOTEBOOK_TIMEOUT = 600
RAISES_TAG = "raises-exception"  # nbclient's own tag: the cell is expected to fail
ANSI = re.compile(r"\x1b\[[0-9;]*m")

# Tools write caches under $HOME and /tmp by default; these keep them in the build cache and
# keep every library off the network.
OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "WANDB_MODE": "offline",
    "WANDB_SILENT": "true",
    "DO_NOT_TRACK": "1",
    "PYTHONHASHSEED": "0",
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
}
CACHE_ENV = {
    "XDG_CACHE_HOME": "xdg",
    "TORCHINDUCTOR_CACHE_DIR": "inductor",
    "TRITON_CACHE_DIR": "triton",
    "HF_HOME": "huggingface",
    "WANDB_DIR": "wandb",
    "WANDB_CACHE_DIR": "wandb-cache",
    "WANDB_CONFIG_DIR": "wandb-config",
    "WANDB_DATA_DIR": "wandb-data",
    "MPLCONFIGDIR": "matplotlib",
    "POCL_CACHE_DIR": "pocl",
    "NUMBA_CACHE_DIR": "numba",
    "KERAS_HOME": "keras",
    "JAX_COMPILATION_CACHE_DIR": "jax",
    "TMPDIR": "tmp",
}

STAMP_CODE = """
import json as _j, os as _o, platform as _p, sys as _s, importlib.metadata as _m
def _v(name):
    try:
        return _m.version(name)
    except _m.PackageNotFoundError:
        return None
_cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), _p.processor())
print(_j.dumps({"python": _p.python_version(), "cpu": _cpu, "cores": _o.cpu_count(),
                "packages": {n: _v(n) for n in %r if _v(n)}}))
"""


@dataclass
class Notebook:
    """A source notebook and what its metadata declares."""

    path: Path
    id: str
    env: str | None
    inputs: list[str]
    timeout: int
    packages: list[str]
    part: str | None
    recorded: dict | None
    nb: nbformat.NotebookNode = field(repr=False)

    @classmethod
    def read(cls, path: Path) -> "Notebook":
        try:
            nb = nbformat.read(path, as_version=4)
        except Exception as exc:  # nbformat raises several unrelated types for bad JSON
            raise BuildError(str(path), f"not a readable notebook: {exc}") from None
        meta = nb.metadata.get("fieldguide")
        if not isinstance(meta, dict):
            raise BuildError(str(path), "metadata.fieldguide is missing; it must declare at least 'env'")
        recorded = meta.get("recorded")
        env = meta.get("env")
        if not recorded and not env:
            raise BuildError(str(path), "metadata.fieldguide.env is missing: name the environment it runs in")
        return cls(path, path.stem, env, list(meta.get("inputs", [])), int(meta.get("timeout", NOTEBOOK_TIMEOUT)),
                   list(meta.get("packages", [])), meta.get("part"), recorded, nb)


@dataclass(frozen=True)
class Workspace:
    """Where sources, environments and the cache live; paths are absolute."""

    root: Path
    cache: Path

    @property
    def executed(self) -> Path:
        return self.cache / "executed"

    @property
    def tool_caches(self) -> Path:
        return self.cache / "tools"

    def lock_file(self, env: str) -> Path:
        return self.root / "requirements" / f"{env}.lock"

    def venv(self, env: str) -> Path:
        return self.root / ".venvs" / env


def code_fingerprint(nb: nbformat.NotebookNode) -> list:
    return [(c.source, sorted(c.metadata.get("tags", []))) for c in nb.cells if c.cell_type == "code"]


def cache_key(notebook: Notebook, ws: Workspace) -> str:
    digest = hashlib.sha256()
    digest.update(f"executor {EXECUTOR_VERSION}\nenv {notebook.env}\n".encode())
    digest.update(json.dumps(code_fingerprint(notebook.nb)).encode())
    lock = ws.lock_file(notebook.env)
    if not lock.is_file():
        raise BuildError(str(notebook.path), f"environment {notebook.env!r} has no lock file {lock.relative_to(ws.root)}; "
                                             f"known environments: {', '.join(known_envs(ws))}")
    digest.update(lock.read_bytes())
    for name in sorted(notebook.inputs):
        path = ws.root / name
        if not path.is_file():
            raise BuildError(str(notebook.path), f"declared input {name!r} does not exist")
        digest.update(f"\ninput {name}\n".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def known_envs(ws: Workspace) -> list[str]:
    return sorted(p.stem for p in (ws.root / "requirements").glob("*.lock"))


def cached_path(notebook: Notebook, ws: Workspace, key: str) -> Path:
    return ws.executed / f"{notebook.id}.{key}.ipynb"


def atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


def kernel_env(ws: Workspace, threads: int) -> dict[str, str]:
    env = dict(os.environ, **OFFLINE_ENV)
    for var, sub in CACHE_ENV.items():
        (ws.tool_caches / sub).mkdir(parents=True, exist_ok=True)
        env[var] = str(ws.tool_caches / sub)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[var] = str(threads)
    # Each environment registers its kernel under its own prefix (see the Makefile).
    env["JUPYTER_PATH"] = os.pathsep.join(str(p) for p in sorted((ws.root / ".venvs").glob("*/share/jupyter")))
    return env


def describe_failure(notebook: Notebook, number: int, cell: nbformat.NotebookNode, exc: Exception) -> str:
    """Cell number, failing line and exception first; the traceback after."""
    where = f"cell {number}"
    errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
    if not errors:
        return f"{where}\n  {type(exc).__name__}: {ANSI.sub('', str(exc))[:3000]}"
    err = errors[0]
    trace = ANSI.sub("", "\n".join(err.get("traceback", [])))
    lines = re.findall(r"Cell In\[\d+\], line (\d+)", trace)
    source_lines = cell.source.splitlines()
    if lines and 0 < int(lines[0]) <= len(source_lines):
        where += f", line {lines[0]}: {source_lines[int(lines[0]) - 1].strip()}"
    return f"{where}\n  {err.ename}: {err.evalue}\n\n{trace[-3000:]}"


async def _execute(notebook: Notebook, ws: Workspace, threads: int, cell_timeout: int) -> nbformat.NotebookNode:
    """Run one notebook in its environment's kernel; return the executed copy or raise BuildError."""
    from jupyter_client.kernelspec import NoSuchKernel
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    nb = copy.deepcopy(notebook.nb)
    env = kernel_env(ws, threads)
    os.environ["JUPYTER_PATH"] = env["JUPYTER_PATH"]  # the kernel spec manager reads it here
    workdir = ws.tool_caches / "run" / notebook.id
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    deadline = time.monotonic() + notebook.timeout
    client = NotebookClient(
        nb,
        kernel_name=f"fieldguide-{notebook.env}",
        timeout=cell_timeout,
        timeout_func=lambda cell: max(1, int(min(cell_timeout, deadline - time.monotonic()))),
        resources={"metadata": {"path": str(workdir)}},
        allow_errors=False,
    )
    where = str(notebook.path.relative_to(ws.root)) if notebook.path.is_relative_to(ws.root) else str(notebook.path)
    started = time.monotonic()
    number, cell = 0, None
    client.reset_execution_trackers()
    try:
        async with client.async_setup_kernel(env=env, cwd=str(workdir)):
            info = await client.async_wait_for_reply(await ensure_async(client.kc.kernel_info()))
            nb.metadata["language_info"] = info["content"]["language_info"]
            for number, cell in enumerate(nb.cells, start=1):
                await client.async_execute_cell(cell, number - 1, execution_count=client.code_cells_executed + 1)
            number, cell = 0, nbformat.v4.new_code_cell(STAMP_CODE % (notebook.packages,))
            nb.cells.append(cell)  # nbclient writes outputs through the notebook's cell list
            stamp = await client.async_execute_cell(cell, len(nb.cells) - 1, store_history=False)
            nb.cells.pop()
    except NoSuchKernel:
        raise BuildError(where, f"environment {notebook.env!r} is not set up (no kernel 'fieldguide-{notebook.env}'); "
                                f"run `make env-{notebook.env}`") from None
    except CellTimeoutError:
        whole = time.monotonic() >= deadline - 1
        limit = f"the notebook's limit of {notebook.timeout} s" if whole else f"the per-cell limit of {cell_timeout} s"
        raise BuildError(where, f"cell {number}: timed out ({limit})\n  {cell.source.strip()[:300]}") from None
    except (CellExecutionError, DeadKernelError) as exc:
        raise BuildError(where, describe_failure(notebook, number, cell, exc)) from None
    text = "".join(o.get("text", "") for o in stamp.outputs if o.output_type == "stream")
    record = json.loads(text.strip().splitlines()[-1])
    record["date"] = time.strftime("%Y-%m-%d")
    record["duration_s"] = round(time.monotonic() - started, 1)
    record["env"] = notebook.env
    nb.metadata.fieldguide["execution"] = record
    return nb


def _run_one(path: str, root: str, cache: str, threads: int, cell_timeout: int) -> tuple[str, str | None]:
    """Worker entry point: returns (notebook id, error message or None)."""
    ws = Workspace(Path(root), Path(cache))
    notebook = Notebook.read(Path(path))
    try:
        key = cache_key(notebook, ws)
        executed = asyncio.run(_execute(notebook, ws, threads, cell_timeout))
    except BuildError as exc:
        return notebook.id, str(exc)
    except Exception as exc:  # anything else still names the notebook
        return notebook.id, f"{path}: {type(exc).__name__}: {exc}"
    atomic_write(cached_path(notebook, ws, key), nbformat.writes(executed))
    return notebook.id, None


@dataclass
class Plan:
    """What a build will do: notebooks already cached, to execute, and recorded elsewhere."""

    fresh: dict[str, Path] = field(default_factory=dict)
    stale: list[Notebook] = field(default_factory=list)
    recorded: list[Notebook] = field(default_factory=list)
    keys: dict[str, str] = field(default_factory=dict)
    created: float = field(default_factory=time.time)


def plan(notebooks: list[Notebook], ws: Workspace) -> Plan:
    result = Plan()
    for notebook in notebooks:
        if notebook.recorded:
            result.recorded.append(notebook)
            continue
        key = cache_key(notebook, ws)
        result.keys[notebook.id] = key
        path = cached_path(notebook, ws, key)
        if path.is_file():
            result.fresh[notebook.id] = path
        else:
            result.stale.append(notebook)
    return result


def execute_stale(todo: Plan, ws: Workspace, jobs: int, cell_timeout: int = CELL_TIMEOUT, log=print) -> None:
    """Execute every stale notebook, ``jobs`` at a time; raise one BuildError listing all failures."""
    if not todo.stale:
        return
    threads = max(1, (os.cpu_count() or 1) // jobs)
    failures = []
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(_run_one, str(nb.path), str(ws.root), str(ws.cache), threads, cell_timeout)
                   for nb in todo.stale]
        for future in futures:
            notebook_id, error = future.result()
            if error:
                failures.append(error)
            else:
                log(f"executed notebook {notebook_id}")
    if failures:
        raise BuildError("notebook execution failed", "\n\n".join(failures))
    for notebook in todo.stale:
        todo.fresh[notebook.id] = cached_path(notebook, ws, todo.keys[notebook.id])


def prune(todo: Plan, ws: Workspace) -> None:
    """Delete cached executions that no current notebook uses, except those written since this
    plan was made (by another build running beside this one)."""
    keep = set(todo.fresh.values())
    for path in ws.executed.glob("*.ipynb"):
        if path not in keep and path.stat().st_mtime < todo.created:
            path.unlink(missing_ok=True)


def merge(source: nbformat.NotebookNode, executed: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The current source's Markdown with the cached code outputs (their code cells are identical)."""
    merged = copy.deepcopy(source)
    outputs = iter([c for c in executed.cells if c.cell_type == "code"])
    for cell in merged.cells:
        if cell.cell_type == "code":
            done = next(outputs)
            cell.outputs = done.outputs
            cell.execution_count = done.execution_count
    merged.metadata.fieldguide["execution"] = executed.metadata.fieldguide["execution"]
    return merged
