"""Matrix-multiply benchmark: the same float32 C = A @ B through two vendor libraries (NumPy's
OpenBLAS, PyTorch's oneDNN/MKL), one compiler (XLA through JAX) and two hand-written kernels (a
numba loop nest compiled by LLVM, and the tiled OpenCL kernel from the OpenCL notebook), on the CPU.

    .venvs/main/bin/python -m scripts.bench.kernels    # full run, writes docs/data/kernel-bench.csv
    .venvs/main/bin/python -m scripts.bench.kernels --smoke --out /tmp/k.csv   # tiny sizes, 2 processes

The full run starts 25 measuring processes (5 implementations x 5 processes) and takes about 5
minutes on a quiet 2-core machine; run it on a machine with nothing else running.

How it runs. Every implementation is a configuration that runs in several independent worker
processes, in the randomised interleaved order of scripts/bench/harness.py, each pinned to THREADS
CPUs with every library told to use that many threads before it is imported. A worker measures
one implementation at every size: the inputs are fixed random matrices (seeded); the first call
compiles and warms up, and its result is compared with a float64 NumPy product; after more
warm-up calls, single calls are timed for at least a minimum measured time. A row reports the
median time with its quartiles (per process, then the median over the processes), the lowest and
highest per-process median (the spread between processes), and the GFLOP/s these imply
(2 n^3 floating-point operations per multiply).

The machine's peak is measured, not taken from a data sheet: the largest matrices (n = 2048 in the
full run) are multiplied by the three library implementations only, and the peak is the highest
throughput any row reaches at the median time of its fastest process (gflops_high), a sustained
rate rather than a single lucky call; every row's ``peak_fraction`` divides by it.

OpenCL: PoCL (pocl-binary-distribution) cannot compile kernels on CPUs that its LLVM 14 does not
know; Intel's CPU runtime (intel-opencl-rt) works on them. A first process looks for an OpenCL
device in this environment that compiles the kernel, preferring PoCL. If none does, the OpenCL
workers run in the `opencl` side environment (``.venvs/opencl``, see requirements/opencl.in); their
rows then carry that environment's versions.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from scripts import ROOT
from scripts.bench import harness
from scripts.bench.harness import Job, sig, summarise

DEFAULT_OUT = ROOT / "docs" / "data" / "kernel-bench.csv"
SCRIPT = "scripts/bench/kernels.py"
OPENCL_PYTHON = harness.environment_python("opencl")
THREADS = 2
SEED = 0
TILE = 16
WARM_CALLS = 2  # untimed calls after the first one, before the timed calls
PROBE_TIMEOUT = 300  # seconds for the process that looks for an OpenCL device

SETTINGS = {
    "full": {"sizes": [256, 512, 1024], "peak_size": 2048, "min_time": 1.0, "min_calls": 5, "warmup_time": 0.2},
    "smoke": {"sizes": [32, 64], "peak_size": 96, "min_time": 0.02, "min_calls": 3, "warmup_time": 0.0},
}
IMPLEMENTATIONS = {  # name shown in charts: kind
    "NumPy": "vendor library",
    "PyTorch": "vendor library",
    "JAX (XLA)": "ML compiler",
    "numba": "hand-written kernel",
    "OpenCL": "hand-written kernel",
}
LIBRARIES = ("NumPy", "PyTorch", "JAX (XLA)")
PACKAGES = ["numpy", "torch", "jax", "jaxlib", "numba", "llvmlite", "pyopencl", "pocl-binary-distribution",
            "intel-opencl-rt"]

OPENCL_KERNEL = """
#define TILE %d
__kernel void matmul_tiled(__global const float *A, __global const float *B, __global float *C,
                           const int M, const int K, const int N) {
    __local float sA[TILE][TILE];
    __local float sB[TILE][TILE];
    int tx = get_local_id(0), ty = get_local_id(1);
    int col = get_global_id(0), row = get_global_id(1);
    float acc = 0.0f;
    for (int t = 0; t < (K + TILE - 1) / TILE; ++t) {
        int ka = t * TILE + tx, kb = t * TILE + ty;
        sA[ty][tx] = (row < M && ka < K) ? A[row * K + ka] : 0.0f;
        sB[ty][tx] = (kb < K && col < N) ? B[kb * N + col] : 0.0f;
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int k = 0; k < TILE; ++k) acc += sA[ty][k] * sB[k][tx];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (row < M && col < N) C[row * N + col] = acc;
}
""" % TILE


def inputs(n: int):
    import numpy as np

    rng = np.random.default_rng(SEED + n)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    return a, b, a.astype(np.float64) @ b.astype(np.float64)


def rel_error(result, reference) -> float:
    import numpy as np

    return float(np.abs(np.asarray(result, dtype=np.float64) - reference).max() / np.abs(reference).max())


# ---------------------------------------------------------------------------------------------
# Each factory returns (prepare(a, b) -> call, describe(n) -> what did the work); call() runs one
# complete multiply and returns a host array, so every timing includes waiting for the result.

def numpy_impl():
    import numpy as np

    def prepare(a, b):
        return lambda: a @ b
    cfg = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    return prepare, lambda n: f"a @ b: {cfg.get('name', 'BLAS')} {cfg.get('version', '')}".strip()


def torch_impl(threads: int):
    import torch

    torch.set_num_threads(threads)

    def prepare(a, b):
        ta, tb = torch.from_numpy(a), torch.from_numpy(b)
        return lambda: torch.mm(ta, tb).numpy()
    blas = "MKL" if torch.backends.mkl.is_available() else "BLAS"
    return prepare, lambda n: f"torch.mm ({blas}), {torch.get_num_threads()} threads"


def jax_impl():
    import re

    import jax
    import jax.numpy as jnp
    import numpy as np

    matmul = jax.jit(jnp.matmul)

    def prepare(a, b):
        ja, jb = jax.device_put(a), jax.device_put(b)
        return lambda: np.asarray(matmul(ja, jb))

    def describe(n):
        """What XLA's optimised HLO does with the dot at this size (it may hand it to a library)."""
        x = jnp.zeros((n, n), jnp.float32)
        hlo = matmul.lower(x, x).compile().as_text()
        entry = hlo[hlo.index("ENTRY"):]
        custom = re.search(r'"kind":"__(\w+?)_fusion"', entry)
        libraries = {"ynn": "YNNPACK", "xnn": "XNNPACK", "onednn": "oneDNN"}
        how = (f"dot handed to {libraries.get(custom.group(1), custom.group(1))}" if custom
               else "dot code generated by XLA")
        return f"jax.jit(jnp.matmul), XLA CPU: {how}"
    return prepare, describe


def numba_impl(threads: int):
    import numba
    import numpy as np

    numba.set_num_threads(threads)

    @numba.njit(parallel=True, fastmath=True)
    def matmul(a, b, c):
        n, k = a.shape
        m = b.shape[1]
        for i in numba.prange(n):  # rows split across threads
            for j in range(m):
                c[i, j] = 0.0
            for p in range(k):  # i-k-j order: the inner loop runs along rows of b and c, vectorisable
                aip = a[i, p]
                for j in range(m):
                    c[i, j] += aip * b[p, j]

    def prepare(a, b):
        c = np.empty((a.shape[0], b.shape[1]), dtype=np.float32)

        def call():
            matmul(a, b, c)
            return c
        return call
    return prepare, lambda n: (f"parallel i-k-j loop nest, njit(parallel=True, fastmath=True), "
                               f"{numba.get_num_threads()} threads, {numba.threading_layer()} threading layer")


def register_intel_opencl() -> None:
    """Make Intel's CPU OpenCL runtime visible to PyOpenCL's ICD loader, if it is installed here."""
    runtime = Path(sys.prefix) / "lib" / "libintelocl.so"
    if runtime.exists() and "OCL_ICD_VENDORS" not in os.environ:
        vendors = Path(os.environ.get("TMPDIR", "/tmp")) / f"fieldguide-opencl-vendors-{os.getpid()}"
        vendors.mkdir(parents=True, exist_ok=True)
        (vendors / "intel-cpu.icd").write_text(f"{runtime}\n")
        os.environ["OCL_ICD_VENDORS"] = str(vendors)


def opencl_impl():
    """The tiled kernel on the first OpenCL device that compiles it (PoCL preferred); None if none does."""
    import warnings

    import numpy as np
    import pyopencl as cl

    warnings.filterwarnings("ignore", category=cl.CompilerWarning)
    devices = [d for p in cl.get_platforms() for d in p.get_devices()]
    devices.sort(key=lambda d: "Portable" not in d.platform.name)
    for device in devices:
        ctx = cl.Context([device])
        try:
            program = cl.Program(ctx, OPENCL_KERNEL).build()
        except cl.RuntimeError:
            continue
        queue = cl.CommandQueue(ctx)
        kernel = program.matmul_tiled
        mf = cl.mem_flags

        def prepare(a, b, ctx=ctx, queue=queue, kernel=kernel):
            m, k = a.shape
            n = b.shape[1]
            da = cl.Buffer(ctx, mf.READ_ONLY | mf.COPY_HOST_PTR, hostbuf=a)
            db = cl.Buffer(ctx, mf.READ_ONLY | mf.COPY_HOST_PTR, hostbuf=b)
            dc = cl.Buffer(ctx, mf.WRITE_ONLY, size=m * n * 4)
            out = np.empty((m, n), dtype=np.float32)
            size = (-(-n // TILE) * TILE, -(-m // TILE) * TILE)

            def call():
                kernel(queue, size, (TILE, TILE), da, db, dc, np.int32(m), np.int32(k), np.int32(n))
                cl.enqueue_copy(queue, out, dc)  # blocking: waits for the kernel
                return out
            return call
        runtime = f"{device.platform.name.strip()}, {device.version.split(' HSTR')[0].strip()}"
        return prepare, lambda n: f"{TILE}x{TILE} tiled kernel, local memory: {runtime}"
    return None


def build_implementation(name: str, threads: int):
    """(prepare, describe) for one implementation; None for OpenCL when no device here compiles."""
    if name == "OpenCL":
        register_intel_opencl()
        return opencl_impl()
    return {"NumPy": numpy_impl, "PyTorch": lambda: torch_impl(threads), "JAX (XLA)": jax_impl,
            "numba": lambda: numba_impl(threads)}[name]()


def worker(name: str, setting: dict, min_time: float) -> None:
    """One process: time one implementation at every size; print the results for the parent."""
    found = build_implementation(name, harness.worker_threads())
    if found is None:
        raise SystemExit(f"no OpenCL device in this environment compiles the kernel ({sys.prefix})")
    prepare, describe = found
    sizes = setting["sizes"] + ([setting["peak_size"]] if name in LIBRARIES else [])
    results = []
    for n in sizes:
        a, b, reference = inputs(n)
        call = prepare(a, b)
        rel = rel_error(call(), reference)  # first call: compiles, warms up
        samples = harness.time_calls(call, min_time, setting["min_calls"], setting["warmup_time"], WARM_CALLS)
        results.append({"n": n, "samples": samples, "rel_error": rel, "engine": describe(n)})
    harness.emit({"sizes": results}, PACKAGES)


def probe_opencl() -> None:
    """Report whether an OpenCL device in this environment compiles the kernel."""
    found = build_implementation("OpenCL", 1)
    harness.emit({"device": found[1](0) if found else None}, PACKAGES)


def rows_from(outcomes: list, provenance) -> list[dict]:
    """One row per implementation and size, with ``provenance(outcome)``'s columns; the peak is the
    highest gflops_high of them all."""
    rows = []
    for outcome in outcomes:
        name = outcome.job.key
        for i, first in enumerate(outcome.results[0]["sizes"]):
            n = first["n"]
            at = [r["sizes"][i] for r in outcome.results]
            time_ms = summarise([s["samples"] for s in at]).scaled(1000)
            flop = 2 * n ** 3
            rows.append({
                "implementation": name, "kind": IMPLEMENTATIONS[name], "size": f"n = {n}", "n": n,
                "time_median": sig(time_ms.median), "time_q1": sig(time_ms.q1), "time_q3": sig(time_ms.q3),
                "time_median_low": sig(time_ms.low), "time_median_high": sig(time_ms.high),
                "repeats": time_ms.samples,
                "gflops": sig(flop / time_ms.median / 1e6), "gflops_low": sig(flop / time_ms.high / 1e6),
                "gflops_high": sig(flop / time_ms.low / 1e6),
                "rel_error": sig(max(s["rel_error"] for s in at), 3), "engine": first["engine"],
                **provenance(outcome),
            })
    peak = max(row["gflops_high"] for row in rows)
    for row in rows:
        row["peak_gflops"] = peak
        for column in ("", "_low", "_high"):
            row[f"peak_fraction{column}"] = sig(100 * row[f"gflops{column}"] / peak, 3)
    order = list(IMPLEMENTATIONS)
    return sorted(rows, key=lambda row: (row["n"], order.index(row["implementation"])))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes and few calls (for tests)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="CSV to write (schema beside the default)")
    parser.add_argument("--threads", type=int, default=THREADS, help="cores and threads every library may use")
    parser.add_argument("--worker", choices=[*IMPLEMENTATIONS, "opencl-probe"], help=argparse.SUPPRESS)
    harness.add_arguments(parser, timeout=300)
    args = parser.parse_args(argv)
    setting = SETTINGS["smoke" if args.smoke else "full"]
    min_time = args.min_time if args.min_time is not None else setting["min_time"]
    if args.worker == "opencl-probe":
        probe_opencl()
        return 0
    if args.worker:
        worker(args.worker, setting, min_time)
        return 0

    run = harness.Run.from_args(args, SCRIPT, PACKAGES, args.threads)

    from scripts.bench.provenance import write_csv  # PyYAML only

    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="bench-kernels-"))
    try:
        command = ["-m", "scripts.bench.kernels", "--min-time", str(min_time)] + (["--smoke"] if args.smoke else [])
        probe = run.once(Job("looking for an OpenCL device", [sys.executable, *command, "--worker", "opencl-probe"],
                             args.threads), workdir, PROBE_TIMEOUT)
        opencl_python = sys.executable
        if probe["device"] is None:
            if not OPENCL_PYTHON.is_file():
                raise SystemExit("no OpenCL device in this environment can compile the kernel, and the opencl side "
                                 "environment is missing: run `make env-opencl` (see requirements/opencl.in)")
            print("  (OpenCL runs in the opencl side environment: no device here compiles the kernel)")
            opencl_python = str(OPENCL_PYTHON)
        jobs = [Job(name, [opencl_python if name == "OpenCL" else sys.executable, *command, "--worker", name],
                    args.threads, key=name) for name in IMPLEMENTATIONS]
        outcomes = run.execute(jobs, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    run.stop_on_failure(outcomes, args.out)
    rows = rows_from(outcomes, run.provenance)
    for row in rows:
        print(f"  n={row['n']:5} {row['implementation']:10} median {row['time_median']:9.3f} ms  "
              f"{row['gflops']:7.1f} GFLOP/s ({row['gflops_low']:.1f} to {row['gflops_high']:.1f} between processes)  "
              f"rel. error {row['rel_error']:.1e}")
    write_csv(args.out, rows, schema=DEFAULT_OUT.with_suffix(".schema.yaml"))
    print(f"peak (highest throughput at a process's median time): {rows[0]['peak_gflops']:.1f} GFLOP/s; wrote "
          f"{len(rows)} rows to {args.out} in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
