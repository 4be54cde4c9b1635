"""Record notebooks on a GPU machine: run each recipe's cells in one Python process, write the
notebook with its outputs and a provenance record, and write the GPU benchmark rows.

    python3 -m scripts.gpu.record --out DIR [--dry-run] [recipe ...]

Recipes are scripts/gpu/recipes/<notebook-id>.py: a '# part: <id>' line, then cells separated by
'# %%' lines (Markdown cells start '# %% [markdown]'). They run where the GPU is, under that machine's Python, which has
PyTorch, Triton, JAX and nvcc but no Jupyter: so cells run through exec() here, stdout and the value
of a cell's last expression become its outputs, and the notebook is written as plain JSON. A recipe
records benchmark rows with ``record(**row)``.

--dry-run parses and compiles every cell and writes the notebooks without outputs, on any machine.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import datetime as dt
import importlib.metadata
import io
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

from scripts import ROOT

HERE = Path(__file__).resolve().parent
RECIPES = HERE / "recipes"
PACKAGES = ["torch", "triton", "jax", "jaxlib", "cupy-cuda13x", "numpy"]
CELL = re.compile(r"^# %%(?P<header>.*)$", re.MULTILINE)
SERIES = ROOT / "docs" / "data" / "gpu-bench.csv"


def parse(path: Path) -> list[dict]:
    text = path.read_text(encoding="utf-8")
    marks = list(CELL.finditer(text))
    cells = []
    for i, mark in enumerate(marks):
        body = text[mark.end():marks[i + 1].start() if i + 1 < len(marks) else len(text)].strip("\n")
        if "[markdown]" in mark.group("header"):
            lines = [line[2:] if line.startswith("# ") else line.lstrip("#") for line in body.splitlines()]
            cells.append({"cell_type": "markdown", "metadata": {}, "source": "\n".join(lines)})
        else:
            cells.append({"cell_type": "code", "metadata": {}, "source": body, "outputs": [],
                          "execution_count": None})
    return cells


def run_cell(source: str, namespace: dict, filename: str = "<cell>") -> tuple[list[dict], bool]:
    """Execute one cell like a notebook would; return its outputs and whether it raised.

    Code is compiled under ``filename``, which should be a file holding the cell's source:
    Triton's @jit reads a kernel's source back with inspect, as IPython allows too."""
    outputs: list[dict] = []
    tree = ast.parse(source)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    buffer = io.StringIO()
    failed = False
    value = None
    try:
        with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
            exec(compile(tree, filename, "exec"), namespace)
            if last is not None:
                value = eval(compile(ast.Expression(last.value), filename, "eval"), namespace)
    except Exception as exc:  # recorded like Jupyter would, then the run stops
        failed = True
        outputs.append({"output_type": "error", "ename": type(exc).__name__, "evalue": str(exc),
                        "traceback": traceback.format_exc().splitlines()})
    text = buffer.getvalue()
    if text:
        outputs.insert(0, {"output_type": "stream", "name": "stdout", "text": text})
    if value is not None:
        outputs.append({"output_type": "execute_result", "execution_count": None, "metadata": {},
                        "data": {"text/plain": repr(value)}})
    return outputs, failed


def _version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _command(args: list[str]) -> str:
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=60).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def provenance(command: str) -> dict:
    import torch

    nvcc = _command(["nvcc", "--version"]).splitlines()
    return {
        "gpu": torch.cuda.get_device_name(0),
        "driver": _command(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"]) or "unknown",
        "cuda": torch.version.cuda,
        "nvcc": nvcc[-1] if nvcc else None,
        "python": platform.python_version(),
        "packages": {n: v for n in PACKAGES if (v := _version(n))},
        "date": dt.date.today().isoformat(),
        "command": command,
        "host_cpu": next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                          if line.startswith("model name")), platform.processor()),
    }


def notebook(cells: list[dict], meta: dict) -> dict:
    return {
        "nbformat": 4, "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                     "language_info": {"name": "python"}, "fieldguide": meta},
        "cells": [dict(cell, id=f"cell-{i}") for i, cell in enumerate(cells)],
    }


def record(recipe: Path, out: Path, dry_run: bool, command: str, rows: list[dict], work: Path) -> float:
    cells = parse(recipe)
    notebook_id = recipe.stem.replace("_", "-")
    part = re.search(r"^# part: ([a-z-]+)$", recipe.read_text(encoding="utf-8").split("# %%")[0], re.MULTILINE)
    if not part:
        raise SystemExit(f"{recipe}: name the notebook's part in a '# part: <id>' line before the first cell")
    meta = {"part": part.group(1), "packages": PACKAGES}
    started = time.perf_counter()
    if dry_run:
        for number, cell in enumerate(cells, start=1):
            if cell["cell_type"] == "code":
                compile(cell["source"], f"{recipe}, cell {number}", "exec")
        meta["recorded"] = {"gpu": "(dry run)", "date": dt.date.today().isoformat(), "command": command}
    else:
        workdir = work / notebook_id
        workdir.mkdir(parents=True, exist_ok=True)
        namespace = {"__name__": "__main__", "WORKDIR": workdir,
                     "record": lambda **row: rows.append({"notebook": notebook_id, **row})}
        count = 0
        cwd = os.getcwd()
        os.chdir(workdir)
        try:
            for number, cell in enumerate(cells, start=1):
                if cell["cell_type"] != "code":
                    continue
                count += 1
                source_file = workdir / f"cell_{number}.py"
                source_file.write_text(cell["source"] + "\n", encoding="utf-8")
                cell["outputs"], failed = run_cell(cell["source"], namespace, str(source_file))
                cell["execution_count"] = count
                for output in cell["outputs"]:
                    if output["output_type"] == "execute_result":
                        output["execution_count"] = count
                if failed:
                    error = cell["outputs"][-1]
                    raise SystemExit(f"{recipe}, cell {number}: {error['ename']}: {error['evalue']}\n"
                                     + "\n".join(error["traceback"][-15:]))
        finally:
            os.chdir(cwd)
        meta["recorded"] = provenance(command)
    meta["recorded"]["duration_s"] = round(time.perf_counter() - started, 1)
    target = out / f"{notebook_id}.ipynb"
    target.write_text(json.dumps(notebook(cells, meta), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return meta["recorded"]["duration_s"]


def write_rows(rows: list[dict], path: Path, meta: dict) -> None:
    """The GPU series, checked against docs/data/gpu-bench.schema.yaml, with provenance per row."""
    import torch

    from scripts.bench.provenance import commit, write_csv

    versions = " ".join(f"{k}={v}" for k, v in [("python", meta["python"]), *meta["packages"].items()])
    versions += f" cuda={meta['cuda']} driver={meta['driver']}"
    run = {"cpu": meta["host_cpu"], "cores": os.cpu_count(), "threads": torch.get_num_threads(),
           "versions": versions, "date": meta["date"], "script": "scripts/gpu/record.py",
           "commit": os.environ.get("FIELDGUIDE_COMMIT") or commit()}
    write_csv(path, [{**row, **run} for row in rows])


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recipes", nargs="*", help="recipe names (default: all)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--dry-run", action="store_true")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "fieldguide-gpu",
                        help="scratch folder for the recipes' files (kept out of --out)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    recipes = [RECIPES / f"{name}.py" for name in args.recipes] or sorted(RECIPES.glob("*.py"))
    command = "python3 -m scripts.gpu.record --out OUT " + " ".join(args.recipes)
    if not args.dry_run:  # compile times must include compiling: start from empty caches
        for var, name in (("TORCHINDUCTOR_CACHE_DIR", "inductor-cache"), ("TRITON_CACHE_DIR", "triton-cache")):
            shutil.rmtree(args.work / name, ignore_errors=True)
            os.environ[var] = str(args.work / name)
    rows: list[dict] = []
    failures = []
    for recipe in recipes:
        print(f"recording {recipe.stem} ...", flush=True)
        recipe_rows: list[dict] = []
        try:  # a failing recipe writes no notebook and no rows; the others still record
            seconds = record(recipe, args.out, args.dry_run, command.strip(), recipe_rows, args.work)
        except SystemExit as exc:
            failures.append(str(exc))
            print(f"  FAILED: {exc}", flush=True)
            continue
        rows += recipe_rows
        print(f"  {seconds} s, {len(recipe_rows)} rows", flush=True)
    if rows and not args.dry_run:
        shutil.copy(SERIES.with_suffix(".schema.yaml"), args.out / "gpu-bench.schema.yaml")
        write_rows(rows, args.out / "gpu-bench.csv", provenance(command))
        print(f"{len(rows)} rows -> {args.out / 'gpu-bench.csv'}")
    for failure in failures:
        print(f"\nFAILED {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
