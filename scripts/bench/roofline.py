"""Roofline benchmark: this machine's memory bandwidth, measured as STREAM measures it, and the
memory-bound kernels the roofline chapter places against it, all in PyTorch on the CPU.

    .venvs/main/bin/python -m scripts.bench.roofline    # full run, writes docs/data/roofline-bench.csv
    .venvs/main/bin/python -m scripts.bench.roofline --smoke --out /tmp/r.csv   # tiny arrays, for tests

The four STREAM kernels (copy, scale, add, triad: McCalpin's STREAM benchmark,
https://www.cs.virginia.edu/stream/ref.html) run on float32 arrays of 2^26 elements (256 MiB each,
far larger than any CPU cache, as STREAM's rules ask), writing into an array allocated once; the
add kernel is also the chapter's vector add. A row-wise softmax runs on a 4096 x 16384 matrix
(256 MiB). Each kernel's operation and byte counts come from its code
(scripts/notebook_helpers/roofline.py): bytes are the compulsory traffic, each array read or written
once, as STREAM counts them. The roofline's compute roof, the peak float32 rate, is the matrix
multiply benchmark's (scripts/bench/kernels.py).

How it runs (scripts/bench/harness.py): each kernel is a configuration run in several worker
processes in randomised interleaved order, pinned to THREADS CPUs with PyTorch told to use that
many threads before it is imported. A worker fills its arrays from a seeded generator, checks one
call's result against NumPy in float64, warms up, then times single calls for at least a minimum
measured time. Rows report the median time with its quartiles (per process, then the median over
processes), the lowest and highest process median, and the bandwidth and operation rate these imply.

The full run starts 25 processes (5 kernels x 5) and takes about 3 minutes on a quiet 2-core
machine; run it with nothing else running.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from scripts import ROOT
from scripts.bench import harness
from scripts.bench.harness import Job, sig, summarise
from scripts.notebook_helpers.roofline import SCALAR, count, kernel

DEFAULT_OUT = ROOT / "docs" / "data" / "roofline-bench.csv"
SCRIPT = "scripts/bench/roofline.py"
THREADS = 2
SEED = 0
KERNELS = ("copy", "scale", "vector add", "triad", "softmax")
SETTINGS = {
    "full": {"vector": (2 ** 26,), "matrix": (4096, 16384), "min_time": 2.0, "min_calls": 5, "warmup_time": 0.3},
    "smoke": {"vector": (2 ** 12,), "matrix": (16, 256), "min_time": 0.02, "min_calls": 3, "warmup_time": 0.0},
}
PACKAGES = ["torch", "numpy"]


def shape_of(name: str, setting: dict) -> tuple[int, ...]:
    return setting["matrix"] if name == "softmax" else setting["vector"]


def shape_label(shape: tuple[int, ...]) -> str:
    (n, *rest) = shape
    if not rest and n & (n - 1) == 0:
        return f"2^{n.bit_length() - 1}"
    return " x ".join(str(d) for d in shape)


def reference(name: str, arrays):
    """The kernel's result computed another way: NumPy in float64."""
    import numpy as np

    x = [a.astype(np.float64) for a in arrays]
    if name == "softmax":
        e = np.exp(x[0] - x[0].max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    return {"copy": lambda: x[0], "scale": lambda: SCALAR * x[0], "vector add": lambda: x[0] + x[1],
            "triad": lambda: x[0] + SCALAR * x[1]}[name]()


def worker(name: str, setting: dict, min_time: float) -> None:
    """One process: time one kernel; print the samples for the parent."""
    import numpy as np
    import torch

    torch.set_num_threads(harness.worker_threads())
    k = kernel(name)
    shapes = k.shapes(shape_of(name, setting))
    rng = np.random.default_rng(SEED)
    arrays = [rng.standard_normal(s, dtype=np.float32) for s in shapes[:-1]]
    inputs = [torch.from_numpy(a) for a in arrays]
    out = torch.empty(shapes[-1])

    def call():
        k.run(*inputs, out)
    call()  # first touch of the output's pages, outside the check
    expected = reference(name, arrays)
    error = float(np.abs(out.numpy() - expected).max() / max(np.abs(expected).max(), 1e-30))
    if error > 1e-6:
        raise SystemExit(f"{name}: relative error {error:.2e} against NumPy in float64")
    samples = harness.time_calls(call, min_time, setting["min_calls"], setting["warmup_time"], 1)
    harness.emit({"samples": samples, "rel_error": error, "threads": torch.get_num_threads()}, PACKAGES)


def rows_from(outcomes: list, setting: dict, provenance) -> list[dict]:
    rows = []
    for outcome in outcomes:
        name = outcome.job.key
        shape = shape_of(name, setting)
        counted = count(name, shape)
        time_ms = summarise([r["samples"] for r in outcome.results]).scaled(1000)

        def rate(amount: float, ms: float) -> float:
            return sig(amount / ms / 1e6)  # per millisecond -> per second, in units of 1e9
        rows.append({
            "name": name, "shape": shape_label(shape), "elements": shape[0] if len(shape) == 1 else shape[0] * shape[1],
            "flops": counted.flops, "bytes": counted.bytes, "intensity": sig(counted.intensity, 4),
            "time_median": sig(time_ms.median), "time_q1": sig(time_ms.q1), "time_q3": sig(time_ms.q3),
            "time_median_low": sig(time_ms.low), "time_median_high": sig(time_ms.high), "repeats": time_ms.samples,
            "bandwidth": rate(counted.bytes, time_ms.median), "bandwidth_low": rate(counted.bytes, time_ms.high),
            "bandwidth_high": rate(counted.bytes, time_ms.low),
            "gflops": rate(counted.flops, time_ms.median), "gflops_low": rate(counted.flops, time_ms.high),
            "gflops_high": rate(counted.flops, time_ms.low),
            "rel_error": sig(max(r["rel_error"] for r in outcome.results), 3),
            "engine": f"{kernel(name).describe}, PyTorch, {outcome.results[0]['threads']} threads",
            **provenance(outcome),
        })
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny arrays and few calls (for tests)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="CSV to write (schema beside the default)")
    parser.add_argument("--threads", type=int, default=THREADS, help="cores and threads PyTorch may use")
    parser.add_argument("--worker", choices=KERNELS, help=argparse.SUPPRESS)
    harness.add_arguments(parser, timeout=300)
    args = parser.parse_args(argv)
    setting = SETTINGS["smoke" if args.smoke else "full"]
    min_time = args.min_time if args.min_time is not None else setting["min_time"]
    if args.worker:
        worker(args.worker, setting, min_time)
        return 0

    run = harness.Run.from_args(args, SCRIPT, PACKAGES, args.threads)

    from scripts.bench.provenance import write_csv  # PyYAML only

    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="bench-roofline-"))
    try:
        command = ["-m", "scripts.bench.roofline", "--min-time", str(min_time)] + (["--smoke"] if args.smoke else [])
        jobs = [Job(name, [sys.executable, *command, "--worker", name], args.threads, key=name) for name in KERNELS]
        outcomes = run.execute(jobs, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    run.stop_on_failure(outcomes, args.out)
    rows = rows_from(outcomes, setting, run.provenance)
    for row in rows:
        print(f"  {row['name']:10} {row['shape']:>14}  median {row['time_median']:9.3f} ms  "
              f"{row['bandwidth']:6.2f} GB/s ({row['bandwidth_low']:.2f} to {row['bandwidth_high']:.2f} between "
              f"processes)  {row['gflops']:6.2f} GFLOP/s at {row['intensity']:.3f} FLOP/B")
    write_csv(args.out, rows, schema=DEFAULT_OUT.with_suffix(".schema.yaml"))
    print(f"wrote {len(rows)} rows to {args.out} in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
