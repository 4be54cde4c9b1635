"""Framework benchmark: the Rosetta digits MLP (64-128-10, Adam 1e-3, batch 64) trained and run in
PyTorch, TensorFlow, Keras 3 on three backends, JAX + Flax + Optax, MLX, Lightning and fastai.

    python -m scripts.bench_frameworks            # full run, writes docs/data/framework-bench.csv
    python -m scripts.bench_frameworks --smoke --out /tmp/x.csv   # 2 epochs, few repeats, 1 thread

How it runs. The parent splits scikit-learn's digits once (test_size=0.25, random_state=0,
stratified) into an .npz file. One untimed process then imports every framework, so that the
timed imports read their files from the page cache. Then, for each thread setting, every
implementation in docs/research-frameworks/rosetta/ runs in a fresh subprocess through
docs/research-frameworks/rosetta/harness.py, which pins the process to that many CPUs and sets the
libraries' thread variables before anything is imported, times the import of the implementation
file (which imports its framework), trains for a fixed number of epochs timing each one, and times
single predict() calls at batch 1 and batch 256 after warm-up calls. Every run gets its own empty
cache folders (XLA, Inductor, and $TMPDIR, where MLX keeps compiled kernels), so its first epoch
includes all of its tracing and compiling.

Reported per framework and thread setting: import time (one sample per row), the first epoch,
the median epoch after it with quartiles, the median latency of one predict() call with
quartiles, test accuracy, the process's peak resident memory (ru_maxrss), and the lines of code
of the implementation file.
"""

from __future__ import annotations

import argparse
import ast
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROSETTA = ROOT / "docs" / "research-frameworks" / "rosetta"
HARNESS = ROSETTA / "harness.py"
DEFAULT_OUT = ROOT / "docs" / "data" / "framework-bench.csv"
SCRIPT = "scripts/bench_frameworks.py"

# label: (implementation, Keras backend or None). The labels are the CSV's `framework` choices.
RUNS = {
    "PyTorch": ("pytorch", None),
    "TensorFlow": ("tensorflow", None),
    "Keras (TensorFlow)": ("keras", "tensorflow"),
    "Keras (JAX)": ("keras", "jax"),
    "Keras (PyTorch)": ("keras", "torch"),
    "JAX + Flax": ("jax", None),
    "MLX": ("mlx", None),
    "Lightning": ("lightning", None),
    "fastai": ("fastai", None),
}
PACKAGES = ["numpy", "torch", "tensorflow-cpu", "keras", "jax", "jaxlib", "flax", "optax", "mlx", "mlx-cpu",
            "lightning", "fastai", "fastcore", "scikit-learn"]
SETTINGS = {
    "full": {"epochs": 20, "latency_repeats": 200, "threads": (1, 2)},
    "smoke": {"epochs": 2, "latency_repeats": 4, "threads": (1,)},
}
PREWARM = ("import numpy, torch, tensorflow, keras, jax, flax.nnx, optax, mlx.core, mlx.nn, lightning, "
           "fastai.learner")


def count_loc(path: Path) -> int:
    """Lines of code above the `if __name__ == "__main__":` block, without blank lines, comments
    or docstrings."""
    text = path.read_text(encoding="utf-8")
    text = text.split('\nif __name__ == "__main__":', 1)[0]
    docstrings: set[int] = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                docstrings.update(range(first.lineno, first.end_lineno + 1))
    code_lines: set[int] = set()
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER}
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type not in skip:
            code_lines.update(range(token.start[0], token.end[0] + 1))
    return len(code_lines - docstrings)


def write_data(path: Path) -> None:
    import numpy as np
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        (X / 16.0).astype("float32"), y, test_size=0.25, random_state=0, stratify=y)
    np.savez(path, X_train=X_train, y_train=y_train, X_test=X_test, y_test=y_test)


def child_env(workdir: Path) -> dict:
    """The environment of one run: its own empty caches under ``workdir``, so that every first epoch
    pays for tracing and compiling as on a new machine (MLX keeps compiled kernels under $TMPDIR)."""
    env = dict(os.environ)
    env.update({
        "TF_CPP_MIN_LOG_LEVEL": "2", "JAX_PLATFORMS": "cpu", "PYTHONHASHSEED": "0", "PYTHONWARNINGS": "ignore",
        "TORCHINDUCTOR_CACHE_DIR": str(workdir / "inductor"), "XDG_CACHE_HOME": str(workdir / "xdg"),
        "KERAS_HOME": str(workdir / "keras"), "TMPDIR": str(workdir / "tmp"),
    })
    for var in ("JAX_COMPILATION_CACHE_DIR", "KERAS_BACKEND"):
        env.pop(var, None)
    (workdir / "tmp").mkdir(parents=True, exist_ok=True)
    return env


def run_one(label: str, threads: int, setting: dict, data: Path, workdir: Path) -> dict:
    impl, backend = RUNS[label]
    env = child_env(Path(tempfile.mkdtemp(prefix=f"{impl}-{threads}-", dir=workdir)))
    cmd = [sys.executable, str(HARNESS), impl, "--threads", str(threads), "--epochs", str(setting["epochs"]),
           "--latency-repeats", str(setting["latency_repeats"]), "--data", str(data)]
    if backend:
        cmd += ["--backend", backend]
    proc = subprocess.run(cmd, cwd=env["TMPDIR"], env=env, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        raise SystemExit(f"bench_frameworks: {label} with {threads} thread(s) failed (exit {proc.returncode}):\n"
                         f"{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def row_for(label: str, threads: int, result: dict, loc: int) -> dict:
    from scripts.provenance import summarise

    epochs = result["epoch_s"]
    steady = summarise([s * 1000 for s in (epochs[1:] or epochs)])
    b1 = summarise([s * 1000 for s in result["latency_b1_s"]])
    b256 = summarise([s * 1000 for s in result["latency_b256_s"]])
    return {
        "framework": label, "setting": f"{threads} thread" + ("s" if threads > 1 else ""),
        "epochs": len(epochs), "import_time": round(result["import_s"], 3),
        "first_epoch": round(epochs[0], 4),
        "epoch_time": round(steady["median"], 3), "epoch_time_q1": round(steady["q1"], 3),
        "epoch_time_q3": round(steady["q3"], 3), "epoch_time_iqr": round(steady["q3"] - steady["q1"], 3),
        "latency_b1": round(b1["median"], 4), "latency_b1_q1": round(b1["q1"], 4), "latency_b1_q3": round(b1["q3"], 4),
        "latency_b1_iqr": round(b1["q3"] - b1["q1"], 4),
        "latency_b256": round(b256["median"], 4), "latency_b256_q1": round(b256["q1"], 4),
        "latency_b256_q3": round(b256["q3"], 4), "latency_b256_iqr": round(b256["q3"] - b256["q1"], 4),
        "accuracy": round(result["accuracy"], 4), "peak_rss": round(result["maxrss_mib"], 1), "loc": loc,
        "loaded": " ".join(result["loaded"]),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="2 epochs, few repeats, 1 thread: for tests")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="CSV to write (its schema is read from "
                        "beside the default file)")
    parser.add_argument("--frameworks", nargs="+", choices=list(RUNS), default=list(RUNS), metavar="NAME",
                        help=f"a subset of: {', '.join(RUNS)}")
    parser.add_argument("--threads", type=int, nargs="+", help="thread settings (default: 1 2; smoke: 1)")
    args = parser.parse_args(argv)
    setting = dict(SETTINGS["smoke" if args.smoke else "full"])
    if args.threads:
        setting["threads"] = tuple(args.threads)
    available = len(os.sched_getaffinity(0))
    if max(setting["threads"]) > available:
        raise SystemExit(f"bench_frameworks: {max(setting['threads'])} threads asked for, {available} CPUs available")

    from scripts.provenance import run_record, write_csv  # PyYAML only

    labels = [label for label in RUNS if label in args.frameworks]
    if "PyTorch" not in labels:
        labels.insert(0, "PyTorch")  # ratios are taken against it
    workdir = Path(tempfile.mkdtemp(prefix="bench-frameworks-"))
    started = time.perf_counter()
    rows = []
    try:
        data = workdir / "digits.npz"
        write_data(data)
        if not args.smoke:
            subprocess.run([sys.executable, "-c", PREWARM], env=child_env(workdir / "prewarm"),
                           capture_output=True, check=True)
        records = {threads: run_record(PACKAGES, threads, SCRIPT) for threads in setting["threads"]}
        for label in labels:  # each framework's thread settings run back to back
            for threads, record in records.items():
                t0 = time.perf_counter()
                result = run_one(label, threads, setting, data, workdir)
                row = row_for(label, threads, result, count_loc(ROSETTA / f"{RUNS[label][0]}_mlp.py"))
                rows.append({**row, **record})
                print(f"{label:20s} {threads} thread(s): import {row['import_time']:.2f} s, first epoch "
                      f"{row['first_epoch']:.2f} s, epoch {row['epoch_time']:.1f} ms, batch-1 "
                      f"{row['latency_b1']:.3f} ms, accuracy {row['accuracy']:.3f}, peak {row['peak_rss']:.0f} MiB "
                      f"({time.perf_counter() - t0:.0f} s)", flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    reference = {r["setting"]: r["epoch_time"] for r in rows if r["framework"] == "PyTorch"}
    for row in rows:
        row["epoch_vs_pytorch"] = round(row["epoch_time"] / reference[row["setting"]], 3)
    if args.out.resolve() != DEFAULT_OUT.resolve():
        shutil.copy(DEFAULT_OUT.with_suffix(".schema.yaml"), args.out.with_suffix(".schema.yaml"))
    write_csv(args.out, rows)
    print(f"wrote {len(rows)} rows to {args.out} in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
