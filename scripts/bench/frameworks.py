"""Framework benchmark: the Rosetta digits MLP (64-128-10, Adam 1e-3, batch 64) trained and run in
PyTorch, TensorFlow, Keras 3 on three backends, JAX + Flax + Optax, MLX, Lightning and fastai.

    .venvs/main/bin/python -m scripts.bench.frameworks    # full run, writes docs/data/framework-bench.csv
    .venvs/main/bin/python -m scripts.bench.frameworks --smoke --out /tmp/x.csv   # 2 epochs, 1 thread, 2 processes

The full run starts 90 worker processes (9 frameworks x 2 thread settings x 5 processes) and takes
about 15 to 20 minutes on a quiet 2-core machine; run it on a machine with nothing else running.

How it runs. The parent splits scikit-learn's digits once (test_size=0.25, random_state=0,
stratified) into an .npz file. One untimed process then imports every framework, so that the
timed imports read their files from the page cache. Then every framework and thread setting is a
configuration that runs in several independent worker processes, in the randomised interleaved
order of scripts/bench/harness.py, each process pinned to that many CPUs with the libraries'
thread variables set and its own empty cache folders (XLA, Inductor, and $TMPDIR, where MLX keeps
compiled kernels), so that its first epoch includes all of its tracing and compiling. A worker
times the import of the implementation file in docs/research-frameworks/rosetta/ (which imports
its framework), trains a fixed number of epochs (the implementation times each one), and times
single predict() calls at batch 1 and batch 256 after warm-up, for at least a minimum measured
time.

Reported per framework and thread setting, each the median over the processes with the lowest and
highest per-process value (the spread between processes): import time, the first epoch, the
median epoch after the first (with quartiles), the median latency of one predict() call (with
quartiles); and test accuracy, the process's peak resident memory (ru_maxrss) and the lines of code
of the implementation file.
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import io
import resource
import shutil
import sys
import tempfile
import time
import tokenize
from pathlib import Path

from scripts import ROOT
from scripts.bench import harness
from scripts.bench.harness import Job, median, summarise

ROSETTA = ROOT / "docs" / "research-frameworks" / "rosetta"
DEFAULT_OUT = ROOT / "docs" / "data" / "framework-bench.csv"
SCRIPT = "scripts/bench/frameworks.py"

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
    "full": {"epochs": 20, "threads": (1, 2), "min_time": 1.0, "min_calls": 20, "warmup_time": 0.2},
    "smoke": {"epochs": 2, "threads": (1,), "min_time": 0.02, "min_calls": 3, "warmup_time": 0.0},
}
PREWARM = ("numpy", "torch", "tensorflow", "keras", "jax", "flax.nnx", "optax", "mlx.core", "mlx.nn", "lightning",
           "fastai.learner")
LOADED = ("torch", "tensorflow", "jax", "mlx")  # frameworks whose presence in a process the CSV reports


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


def worker(impl: str, epochs: int, data: Path, setting: dict, min_time: float) -> None:
    """One process: import the implementation, train, time predict(); print the result."""
    import numpy as np

    arrays = np.load(data)
    X_train, y_train, X_test, y_test = (arrays[k] for k in ("X_train", "y_train", "X_test", "y_test"))
    # The implementations live under docs/: a __pycache__ there would be copied into the site.
    sys.dont_write_bytecode = True
    start = time.perf_counter()
    spec = importlib.util.spec_from_file_location(f"{impl}_mlp", ROSETTA / f"{impl}_mlp.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    import_s = time.perf_counter() - start
    result = module.train(X_train, y_train, X_test, y_test, epochs=epochs, seed=0)
    predict = result["predict"]
    timing = {"min_time": min_time, "min_calls": setting["min_calls"], "warmup_time": setting["warmup_time"],
              "warmup_calls": 3}
    b1 = harness.time_calls(lambda: predict(X_test[:1]), **timing)
    b256 = harness.time_calls(lambda: predict(X_test[:256]), **timing)
    harness.emit({
        "import_s": import_s, "epoch_s": [float(s) for s in result["epoch_seconds"]],
        "accuracy": float(result["accuracy"]), "latency_b1_s": b1, "latency_b256_s": b256,
        "loaded": [m for m in LOADED if m in sys.modules],
        "maxrss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,  # Linux reports KiB
    }, PACKAGES)


def prewarm() -> None:
    """Import every framework once, so that the timed imports read their files from the page cache."""
    for name in PREWARM:
        importlib.import_module(name)
    harness.emit({}, PACKAGES)


def spread(summary, name: str, digits: int) -> dict:
    """The median and the spread between processes as the CSV's columns ``name``, ``name_low``, ``name_high``."""
    return {name: round(summary.median, digits), f"{name}_low": round(summary.low, digits),
            f"{name}_high": round(summary.high, digits)}


def quartiles(summary, name: str, digits: int) -> dict:
    return {f"{name}_q1": round(summary.q1, digits), f"{name}_q3": round(summary.q3, digits),
            f"{name}_iqr": round(summary.q3 - summary.q1, digits)}


def row_for(label: str, threads: int, results: list[dict], loc: int) -> dict:
    """One row from the results of one framework's processes at one thread setting."""
    epochs = summarise([[s * 1000 for s in (r["epoch_s"][1:] or r["epoch_s"])] for r in results])
    b1 = summarise([r["latency_b1_s"] for r in results]).scaled(1000)
    b256 = summarise([r["latency_b256_s"] for r in results]).scaled(1000)
    return {
        "framework": label, "setting": f"{threads} thread" + ("s" if threads > 1 else ""),
        "epochs": len(results[0]["epoch_s"]),
        **spread(summarise([[r["import_s"]] for r in results]), "import_time", 3),
        **spread(summarise([[r["epoch_s"][0]] for r in results]), "first_epoch", 4),
        **spread(epochs, "epoch_time", 3), **quartiles(epochs, "epoch_time", 3),
        **spread(b1, "latency_b1", 4), **quartiles(b1, "latency_b1", 4), "latency_b1_calls": b1.samples,
        **spread(b256, "latency_b256", 4), **quartiles(b256, "latency_b256", 4), "latency_b256_calls": b256.samples,
        "accuracy": round(median([r["accuracy"] for r in results]), 4),
        "peak_rss": round(median([r["maxrss_mib"] for r in results]), 1), "loc": loc,
        "loaded": " ".join(results[0]["loaded"]),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="2 epochs, few calls, 1 thread: for tests")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="CSV to write (its schema is read from "
                        "beside the default file)")
    parser.add_argument("--frameworks", nargs="+", choices=list(RUNS), default=list(RUNS), metavar="NAME",
                        help=f"a subset of: {', '.join(RUNS)}")
    parser.add_argument("--threads", type=int, nargs="+", help="thread settings (default: 1 2; smoke: 1)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--epochs", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    harness.add_arguments(parser, timeout=600)
    args = parser.parse_args(argv)
    setting = dict(SETTINGS["smoke" if args.smoke else "full"])
    min_time = args.min_time if args.min_time is not None else setting["min_time"]
    if args.worker == "prewarm":
        prewarm()
        return 0
    if args.worker:
        worker(args.worker, args.epochs, args.data, setting, min_time)
        return 0
    if args.threads:
        setting["threads"] = tuple(args.threads)
    run = harness.Run.from_args(args, SCRIPT, PACKAGES, max(setting["threads"]))

    from scripts.bench.provenance import write_csv  # PyYAML only

    labels = [label for label in RUNS if label in args.frameworks]
    if "PyTorch" not in labels:
        labels.insert(0, "PyTorch")  # ratios are taken against it
    workdir = Path(tempfile.mkdtemp(prefix="bench-frameworks-"))
    started = time.perf_counter()
    try:
        data = workdir / "digits.npz"
        write_data(data)
        command = [sys.executable, "-m", "scripts.bench.frameworks"] + (["--smoke"] if args.smoke else [])
        if not args.smoke:
            run.once(Job("importing every framework once", command + ["--worker", "prewarm"], len(run.cpus)),
                     workdir, timeout=600)
        jobs = [Job(f"{label}, {threads} thread(s)",
                    command + ["--worker", RUNS[label][0], "--epochs", str(setting["epochs"]), "--data", str(data),
                               "--min-time", str(min_time)],
                    threads, env={"PYTHONWARNINGS": "ignore", **({"KERAS_BACKEND": RUNS[label][1]}
                                                                 if RUNS[label][1] else {})},
                    key=(label, threads))
                for label in labels for threads in setting["threads"]]
        outcomes = run.execute(jobs, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    run.stop_on_failure(outcomes, args.out)
    rows = []
    for outcome in outcomes:
        label, threads = outcome.job.key
        row = row_for(label, threads, outcome.results, count_loc(ROSETTA / f"{RUNS[label][0]}_mlp.py"))
        rows.append({**row, **run.provenance(outcome)})
        print(f"{label:20s} {threads} thread(s): import {row['import_time']:.2f} s, first epoch "
              f"{row['first_epoch']:.2f} s, epoch {row['epoch_time']:.1f} ms ({row['epoch_time_low']:.1f} to "
              f"{row['epoch_time_high']:.1f} between processes), batch-1 {row['latency_b1']:.3f} ms, "
              f"accuracy {row['accuracy']:.3f}, peak {row['peak_rss']:.0f} MiB", flush=True)
    reference = {r["setting"]: r["epoch_time"] for r in rows if r["framework"] == "PyTorch"}
    for row in rows:
        row["epoch_vs_pytorch"] = round(row["epoch_time"] / reference[row["setting"]], 3)
    write_csv(args.out, rows, schema=DEFAULT_OUT.with_suffix(".schema.yaml"))
    print(f"wrote {len(rows)} rows to {args.out} in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
