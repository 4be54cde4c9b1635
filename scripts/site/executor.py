"""Executes notebooks into a content-addressed cache outside docs/.

A notebook re-executes only when its cache key changes. The key covers what can change its
outputs: the code cells (and their tags), the kernel environment's lock file and interpreter (as
recorded in ``.venvs/<env>/.installed``), the declared inputs and packages, and this module's
constants that reach the kernel (``KEYED``). Markdown edits never re-execute: the page is
assembled from the current Markdown cells and the cached outputs (see ``merge``).

Kernels start from an allow-list of the build's environment variables, so nothing unkeyed
(``PYTHONPATH``, ``KERAS_BACKEND``, ...) reaches them. A repository module that a notebook imports
must be one of its declared inputs, or the build fails.

Notebook metadata, under ``fieldguide``:
    env      the environment (requirements/<env>.lock, kernel ``fieldguide-<env>``)
    inputs   files it reads, relative to the repository root
    timeout  seconds for the whole notebook (default NOTEBOOK_TIMEOUT)
    packages distributions whose versions the environment stamp reports
    exclusive  true when the page quotes its timings: it runs alone, after the others
    part     for a notebook not named after a tool: the part of the guide it belongs to
    recorded provenance of a notebook recorded on other hardware; never executed here
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import hashlib
import json
import multiprocessing
import os
import re
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from jupyter_core.utils import ensure_async

from scripts import ROOT
from scripts.site import environments
from scripts.site.addresses import notebook_source
from scripts.site.errors import BuildError

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

# The only variables a kernel inherits from the build's environment; everything else it sees is set here.
INHERITED_ENV = ("PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "LC_CTYPE", "TZ")
THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")

STAMP_CODE = """
import json as _j, os as _o, platform as _p, sys as _s, importlib.metadata as _m
def _v(name):
    try:
        return _m.version(name)
    except _m.PackageNotFoundError:
        return None
_cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), _p.processor())
_root = %r + _o.sep
_skip = tuple(_o.path.join(_root, d) + _o.sep for d in (".venvs", ".cache"))
_repo = sorted({_o.path.relpath(f, _root) for f in (getattr(m, "__file__", None) for m in list(_s.modules.values()))
                if isinstance(f, str) and f.startswith(_root) and not f.startswith(_skip)})
print(_j.dumps({"python": _p.python_version(), "cpu": _cpu, "cores": len(_o.sched_getaffinity(0)),
                "packages": {n: _v(n) for n in %r if _v(n)}, "repository_modules": _repo}))
"""

# Everything above that reaches a kernel or its outputs: part of every cache key, so that a change
# here re-executes what it affects without a version number to remember.
KEYED = (OFFLINE_ENV, CACHE_ENV, INHERITED_ENV, THREAD_ENV, STAMP_CODE, RAISES_TAG)


@dataclass
class Notebook:
    """A source notebook and what its metadata declares."""

    path: Path
    id: str
    env: str | None
    inputs: list[str]
    timeout: int
    packages: list[str]
    exclusive: bool
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
                   list(meta.get("packages", [])), bool(meta.get("exclusive", False)), meta.get("part"), recorded, nb)

    @property
    def where(self) -> str:
        return notebook_source(self.id)



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


def usable_cpus() -> int:
    """CPUs this process may run on: its affinity mask, which a container or taskset may narrow."""
    return len(os.sched_getaffinity(0))


def cache_key(notebook: Notebook, ws: Workspace, interpreter: dict) -> str:
    """What the executed notebook depends on; ``interpreter`` is the environment's record."""
    lock = ws.lock_file(notebook.env)
    if not lock.is_file():
        raise BuildError(notebook.where, f"environment {notebook.env!r} has no lock file {lock.relative_to(ws.root)}; "
                                         f"known environments: {', '.join(known_envs(ws))}")
    digest = hashlib.sha256(json.dumps({
        "executor": KEYED,
        "env": notebook.env,
        "interpreter": [interpreter.get(k) for k in ("python", "implementation", "platform")],
        "packages": notebook.packages,
        "exclusive": notebook.exclusive,
        "code": code_fingerprint(notebook.nb),
    }, sort_keys=True).encode())
    digest.update(lock.read_bytes())
    for name in sorted(notebook.inputs):
        path = ws.root / name
        if not path.is_file():
            raise BuildError(notebook.where, f"declared input {name!r} does not exist")
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
    env = {var: os.environ[var] for var in INHERITED_ENV if var in os.environ}
    env.update(OFFLINE_ENV)
    for var, sub in CACHE_ENV.items():
        (ws.tool_caches / sub).mkdir(parents=True, exist_ok=True)
        env[var] = str(ws.tool_caches / sub)
    for var in THREAD_ENV:
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


def undeclared_modules(notebook: Notebook, imported: list[str]) -> str | None:
    """A message naming repository modules the notebook imported without declaring them as inputs."""
    missing = [name for name in imported if name not in notebook.inputs]
    if not missing:
        return None
    return (f"imports {', '.join(missing)} from the repository without declaring {'it' if len(missing) == 1 else 'them'} "
            f"in metadata.fieldguide.inputs; declare {'it' if len(missing) == 1 else 'them'} so that an edit there "
            f"runs the notebook again")


async def _execute(notebook: Notebook, ws: Workspace, workdir: Path, threads: int,
                   cell_timeout: int) -> nbformat.NotebookNode:
    """Run one notebook in its environment's kernel; return the executed copy or raise BuildError."""
    from jupyter_client.kernelspec import NoSuchKernel
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    nb = copy.deepcopy(notebook.nb)
    env = kernel_env(ws, threads)
    os.environ["JUPYTER_PATH"] = env["JUPYTER_PATH"]  # the kernel spec manager reads it here
    deadline = time.monotonic() + notebook.timeout
    client = NotebookClient(
        nb,
        kernel_name=f"fieldguide-{notebook.env}",
        timeout=cell_timeout,
        timeout_func=lambda cell: max(1, int(min(cell_timeout, deadline - time.monotonic()))),
        resources={"metadata": {"path": str(workdir)}},
        allow_errors=False,
    )
    where = notebook.where
    started = time.monotonic()
    number, cell = 0, None
    client.reset_execution_trackers()
    try:
        async with client.async_setup_kernel(env=env, cwd=str(workdir)):
            info = await client.async_wait_for_reply(await ensure_async(client.kc.kernel_info()))
            nb.metadata["language_info"] = info["content"]["language_info"]
            for number, cell in enumerate(nb.cells, start=1):
                await client.async_execute_cell(cell, number - 1, execution_count=client.code_cells_executed + 1)
            number, cell = 0, nbformat.v4.new_code_cell(STAMP_CODE % (str(ws.root), notebook.packages))
            nb.cells.append(cell)  # nbclient writes outputs through the notebook's cell list
            stamp = await client.async_execute_cell(cell, len(nb.cells) - 1, store_history=False)
            nb.cells.pop()
    except NoSuchKernel:
        raise BuildError(where, f"environment {notebook.env!r} is not set up (no kernel 'fieldguide-{notebook.env}'); "
                                f"run `{environments.rebuild_command(notebook.env)}`") from None
    except CellTimeoutError:
        whole = time.monotonic() >= deadline - 1
        limit = f"the notebook's limit of {notebook.timeout} s" if whole else f"the per-cell limit of {cell_timeout} s"
        raise BuildError(where, f"cell {number}: timed out ({limit})\n  {cell.source.strip()[:300]}") from None
    except (CellExecutionError, DeadKernelError) as exc:
        if cell is None:
            raise _died_before_first_cell(notebook, exc) from None
        raise BuildError(where, describe_failure(notebook, number, cell, exc)) from None
    except Exception as exc:  # a kernel that never started leaves nbclient's objects half made
        if cell is None:
            raise _died_before_first_cell(notebook, exc) from None
        raise
    text = "".join(o.get("text", "") for o in stamp.outputs if o.output_type == "stream")
    record = json.loads(text.strip().splitlines()[-1])
    problem = undeclared_modules(notebook, record.pop("repository_modules"))
    if problem:
        raise BuildError(where, problem)
    record["date"] = time.strftime("%Y-%m-%d")
    record["duration_s"] = round(time.monotonic() - started, 1)
    record["env"] = notebook.env
    nb.metadata.fieldguide["execution"] = record
    return nb


def _died_before_first_cell(notebook: Notebook, exc: Exception) -> BuildError:
    detail = ANSI.sub("", f"{type(exc).__name__}: {exc}")[:1000]
    return BuildError(notebook.where, f"the kernel 'fieldguide-{notebook.env}' died before running the first cell "
                                      f"({detail}); if the environment is broken, rebuild it with "
                                      f"`{environments.rebuild_command(notebook.env)}`")


def _run_one(path: str, root: str, cache: str, key: str, threads: int, cell_timeout: int) -> tuple[str, str | None]:
    """Worker entry point: returns (notebook id, error message or None)."""
    ws = Workspace(Path(root), Path(cache))
    notebook = Notebook.read(Path(path))
    # A folder of its own: a second build running beside this one never shares or deletes it.
    (ws.tool_caches / "run").mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix=f"{notebook.id}.{key}.", dir=ws.tool_caches / "run"))
    try:
        executed = asyncio.run(_execute(notebook, ws, workdir, threads, cell_timeout))
    except BuildError as exc:
        return notebook.id, str(exc)
    except Exception as exc:  # anything else still names the notebook
        return notebook.id, f"{notebook.where}: {type(exc).__name__}: {exc}"
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    atomic_write(cached_path(notebook, ws, key), nbformat.writes(executed))
    return notebook.id, None


@dataclass
class Plan:
    """What a build will do: notebooks already cached, to execute, and recorded elsewhere.

    ``unready`` maps a stale notebook's id to why its environment cannot run it; such a notebook
    has no key, since the key names the environment's interpreter."""

    fresh: dict[str, Path] = field(default_factory=dict)
    stale: list[Notebook] = field(default_factory=list)
    recorded: list[Notebook] = field(default_factory=list)
    keys: dict[str, str] = field(default_factory=dict)
    unready: dict[str, str] = field(default_factory=dict)
    created: float = field(default_factory=time.time)


def plan(notebooks: list[Notebook], ws: Workspace) -> Plan:
    result = Plan()
    for notebook in notebooks:
        if notebook.recorded:
            result.recorded.append(notebook)
            continue
        if not ws.lock_file(notebook.env).is_file():
            cache_key(notebook, ws, {})  # raises, naming the known environments
        problem = environments.problem(ws.root, notebook.env)
        if problem:
            result.unready[notebook.id] = f"{problem}; rebuild it with `{environments.rebuild_command(notebook.env)}`"
            result.stale.append(notebook)
            continue
        key = cache_key(notebook, ws, environments.read(ws.root, notebook.env))
        result.keys[notebook.id] = key
        path = cached_path(notebook, ws, key)
        if path.is_file():
            result.fresh[notebook.id] = path
        else:
            result.stale.append(notebook)
    return result


def share(notebooks: list[Notebook], index: int, count: int) -> list[Notebook]:
    """Shard ``index`` (1-based) of ``count``: every count-th notebook in id order, so that each
    runner, planning from the same cache, picks a disjoint share and together they cover all."""
    if not 1 <= index <= count:
        raise ValueError(f"shard {index}/{count}: expected 1 <= index <= count")
    return sorted(notebooks, key=lambda nb: nb.id)[index - 1::count]


@contextlib.contextmanager
def _repository_on_path():
    root = str(ROOT)
    added = root not in sys.path
    if added:
        sys.path.insert(0, root)
    try:
        yield
    finally:
        if added and root in sys.path:
            sys.path.remove(root)


def _run_batch(notebooks: list[Notebook], ws: Workspace, keys: dict[str, str], jobs: int,
               cell_timeout: int, log) -> list[str]:
    threads = max(1, usable_cpus() // jobs)
    failures = []
    # spawn: a worker never inherits the build's threads and locks (MkDocs, the server's watcher). It
    # imports this module by name from the sys.path it is given, which MkDocs restores after loading
    # the hook, so the repository is put back on it while the workers start.
    spawn = multiprocessing.get_context("spawn")
    with _repository_on_path(), ProcessPoolExecutor(max_workers=jobs, mp_context=spawn) as pool:
        futures = [pool.submit(_run_one, str(nb.path), str(ws.root), str(ws.cache), keys[nb.id], threads, cell_timeout)
                   for nb in notebooks]
        for future in futures:
            notebook_id, error = future.result()
            if error:
                failures.append(error)
            else:
                log(f"executed notebook {notebook_id}")
    return failures


def execute_stale(todo: Plan, ws: Workspace, jobs: int, cell_timeout: int = CELL_TIMEOUT, log=print,
                  only: list[Notebook] | None = None) -> None:
    """Execute the stale notebooks (or ``only`` those of them), ``jobs`` at a time, then the exclusive
    ones alone; raise one BuildError listing all failures."""
    todo_list = todo.stale if only is None else only
    if not todo_list:
        return
    unready = [f"{nb.where}: {todo.unready[nb.id]}" for nb in todo_list if nb.id in todo.unready]
    if unready:
        raise BuildError("notebook environments are not ready", "\n".join(unready))
    shared = [nb for nb in todo_list if not nb.exclusive]
    failures = _run_batch(shared, ws, todo.keys, max(1, min(jobs, len(shared))), cell_timeout, log) if shared else []
    for notebook in (nb for nb in todo_list if nb.exclusive):  # their timings are quoted: nothing runs beside them
        failures += _run_batch([notebook], ws, todo.keys, 1, cell_timeout, log)
    if failures:
        raise BuildError("notebook execution failed", "\n\n".join(failures))
    for notebook in todo_list:
        todo.fresh[notebook.id] = cached_path(notebook, ws, todo.keys[notebook.id])
    done = {nb.id for nb in todo_list}
    todo.stale = [nb for nb in todo.stale if nb.id not in done]


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
