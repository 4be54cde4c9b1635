"""Matrix-multiply benchmark: the same float32 C = A @ B through two vendor libraries (NumPy's
OpenBLAS, PyTorch's oneDNN/MKL), one compiler (XLA through JAX) and two hand-written kernels (a
numba loop nest compiled by LLVM, and the tiled OpenCL kernel from the OpenCL notebook), on the CPU.

    python -m scripts.bench_kernels                        # full run, writes docs/data/kernel-bench.csv
    python -m scripts.bench_kernels --smoke --out /tmp/k.csv   # tiny sizes, few repeats

How it runs. The process is pinned to THREADS cores (sched_setaffinity) and every library is told
to use THREADS threads before it is imported. For each size the inputs are fixed random matrices
(seeded); each implementation is called once to compile and warm up, and its result is compared
with a float64 NumPy product. Then the implementations are timed in five rounds; in each round each
implementation makes two untimed calls and then a block of timed calls, so that all of them see the
same machine conditions, and a short pause before each block lets the previous library's spinning
worker threads go idle, so that they do not slow the next library down. A row reports
the median time, its quartiles, and the GFLOP/s that the median and the fastest call imply
(2 n^3 floating-point operations per multiply).

The machine's peak is measured, not taken from a data sheet: the largest matrices (n = 2048 in the
full run) are multiplied by the three library implementations only, and the highest GFLOP/s that any
single timed call reaches in the whole run is the peak that every row's ``peak_fraction`` divides by.

OpenCL: PoCL (pocl-binary-distribution) cannot compile kernels on CPUs that its LLVM 14 does not
know; Intel's CPU runtime (intel-opencl-rt) works on them. The benchmark uses the first OpenCL
device in this environment that compiles the kernel, preferring PoCL. If none does, it runs the
OpenCL part in the `opencl` side environment (``.venvs/opencl``, see requirements/opencl.in) through
``--worker opencl``, after the in-process rounds; that row then carries that environment's versions.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "docs" / "data" / "kernel-bench.csv"
SCRIPT = "scripts/bench_kernels.py"
OPENCL_PYTHON = ROOT / ".venvs" / "opencl" / "bin" / "python"
THREADS = 2
SEED = 0
TILE = 16
ROUNDS = 5
WARM_CALLS = 2  # untimed calls at the start of every block

SETTINGS = {
    "full": {"sizes": [256, 512, 1024], "peak_size": 2048, "repeats": {256: 100, 512: 50, 1024: 25, 2048: 10},
             "settle_s": 0.3},
    "smoke": {"sizes": [32, 64], "peak_size": 96, "repeats": {32: 3, 64: 3, 96: 3}, "settle_s": 0.02},
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


def limit_threads(threads: int) -> None:
    """Pin the process to `threads` cores and cap every library's pool; before numpy is imported."""
    os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:threads])
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS",
                "POCL_MAX_PTHREAD_COUNT", "TF_NUM_INTRAOP_THREADS"):
        os.environ[var] = str(threads)
    os.environ.setdefault("POCL_CACHE_DIR", str(Path(os.environ.get("TMPDIR", "/tmp")) / "fieldguide-pocl"))


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
                               f"{numba.get_num_threads()} threads")


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


def build_implementations(threads: int, with_opencl: bool = True) -> dict:
    impls = {"NumPy": numpy_impl(), "PyTorch": torch_impl(threads), "JAX (XLA)": jax_impl(),
             "numba": numba_impl(threads)}
    if with_opencl:
        register_intel_opencl()
        found = opencl_impl()
        if found:
            impls["OpenCL"] = found
    return impls


def summary(samples: list[float]) -> dict:
    ordered = sorted(samples)
    q = statistics.quantiles(ordered, n=4, method="inclusive") if len(ordered) >= 2 else [ordered[0]] * 3
    return {"median": statistics.median(ordered), "q1": q[0], "q3": q[2], "min": ordered[0], "n": len(ordered)}


def measure(impls: dict, sizes: list[int], repeats: dict, only: tuple | None = None, log=print,
            settle_s: float = 0.0) -> list[dict]:
    """Time every implementation in `impls` (or those in `only`) at every size.

    The timed calls are spread over ROUNDS rounds; in each round every implementation makes
    WARM_CALLS untimed calls and then its share of timed calls. Rounds put all implementations
    under the same machine conditions. Before each block the process sleeps `settle_s`: the worker
    threads of the library that ran before (OpenBLAS, OpenMP) keep spinning for a while after their
    last call, and on two cores they would otherwise take CPU time from the next library's threads."""
    results = []
    for n in sizes:
        a, b, reference = inputs(n)
        names = [name for name in impls if only is None or name in only]
        calls, errors = {}, {}
        for name in names:
            calls[name] = impls[name][0](a, b)
            errors[name] = rel_error(calls[name](), reference)  # first call: compiles, warms up
        samples = {name: [] for name in names}
        per_round = [len(chunk) for chunk in _split(repeats[n], ROUNDS)]
        for count in per_round:
            for name in names:
                time.sleep(settle_s)  # let the previous implementation's spinning threads go idle
                for _ in range(WARM_CALLS):
                    calls[name]()  # untimed: wake this implementation's threads
                for _ in range(count):
                    start = time.perf_counter()
                    calls[name]()
                    samples[name].append(time.perf_counter() - start)
        for name in names:
            stats = summary(samples[name])
            results.append({"implementation": name, "n": n, "stats": stats, "rel_error": errors[name],
                            "engine": impls[name][1](n)})
            log(f"  n={n:5} {name:10} median {stats['median'] * 1e3:9.3f} ms  "
                f"{2 * n ** 3 / stats['median'] / 1e9:7.1f} GFLOP/s  rel. error {errors[name]:.1e}")
    return results


def _split(total: int, parts: int) -> list[range]:
    parts = max(1, min(parts, total))
    return [range(total * i // parts, total * (i + 1) // parts) for i in range(parts)]


def run_opencl_worker(mode: str, threads: int, log=print) -> tuple[list[dict], str]:
    """The OpenCL rows measured in the opencl side environment; returns (results, its versions)."""
    if not OPENCL_PYTHON.is_file():
        raise SystemExit("no OpenCL device in this environment can compile the kernel, and the opencl side "
                         "environment is missing: run `make env-opencl` (see requirements/opencl.in)")
    log("  (OpenCL runs in the opencl side environment: no device here compiles the kernel)")
    proc = subprocess.run([str(OPENCL_PYTHON), "-m", "scripts.bench_kernels", "--worker", "opencl",
                           *(["--smoke"] if mode == "smoke" else []), "--threads", str(threads)],
                          cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"OpenCL worker failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    payload = json.loads(proc.stdout.strip().splitlines()[-1])
    for line in payload["log"]:
        log(line)
    return payload["results"], payload["versions"]


def worker_opencl(mode: str, threads: int) -> None:
    """--worker opencl: measure only the OpenCL kernel here and print the results as JSON."""
    import importlib.metadata
    import platform

    register_intel_opencl()
    found = opencl_impl()
    if not found:
        raise SystemExit("no OpenCL device in this environment compiles the kernel")
    lines: list[str] = []
    settings = SETTINGS[mode]
    results = measure({"OpenCL": found}, settings["sizes"], settings["repeats"], log=lines.append,
                      settle_s=settings["settle_s"])
    versions = [f"python={platform.python_version()}"]
    for name in ("numpy", "pyopencl", "pocl-binary-distribution", "intel-opencl-rt"):
        try:
            versions.append(f"{name}={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            pass
    print(json.dumps({"results": results, "log": lines, "versions": " ".join(versions)}))


def sig(value: float, digits: int = 4) -> float:
    """Round to significant digits: timings and rates span several orders of magnitude."""
    return float(f"{value:.{digits}g}")


def rows_from(results: list[dict], peak: float, record: dict, opencl_versions: str | None) -> list[dict]:
    rows = []
    for r in results:
        n, stats = r["n"], r["stats"]
        flop = 2 * n ** 3
        gflops = flop / stats["median"] / 1e9
        row = {
            "implementation": r["implementation"],
            "kind": IMPLEMENTATIONS[r["implementation"]],
            "size": f"n = {n}",
            "n": n,
            "time_median": sig(stats["median"] * 1e3),
            "time_q1": sig(stats["q1"] * 1e3),
            "time_q3": sig(stats["q3"] * 1e3),
            "repeats": stats["n"],
            "gflops": sig(gflops),
            "gflops_best": sig(flop / stats["min"] / 1e9),
            "peak_gflops": sig(peak),
            "peak_fraction": sig(100 * gflops / peak, 3),
            "rel_error": sig(r["rel_error"], 3),
            "engine": r["engine"],
            **record,
        }
        if r["implementation"] == "OpenCL" and opencl_versions:
            row["versions"] = opencl_versions
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes and few repeats (for tests)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="CSV to write (schema beside the default)")
    parser.add_argument("--threads", type=int, default=THREADS, help="cores and threads every library may use")
    parser.add_argument("--worker", choices=["opencl"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    mode = "smoke" if args.smoke else "full"
    limit_threads(args.threads)
    if args.worker == "opencl":
        worker_opencl(mode, args.threads)
        return 0

    from scripts.provenance import run_record, write_csv  # PyYAML only

    settings = SETTINGS[mode]
    started = time.monotonic()
    print(f"kernel benchmark ({mode}): sizes {settings['sizes']}, peak probe n={settings['peak_size']}, "
          f"{args.threads} threads")
    impls = build_implementations(args.threads)
    results = measure(impls, settings["sizes"], settings["repeats"], settle_s=settings["settle_s"])
    results += measure(impls, [settings["peak_size"]], settings["repeats"], only=LIBRARIES,
                       settle_s=settings["settle_s"])
    opencl_versions = None
    if "OpenCL" not in impls:
        opencl_results, opencl_versions = run_opencl_worker(mode, args.threads)
        results += opencl_results
    peak = max(2 * r["n"] ** 3 / r["stats"]["min"] / 1e9 for r in results)
    record = run_record(PACKAGES, args.threads, SCRIPT)
    rows = rows_from(results, peak, record, opencl_versions)
    order = list(IMPLEMENTATIONS)
    rows.sort(key=lambda row: (row["n"], order.index(row["implementation"])))
    if args.out.resolve() != DEFAULT_OUT.resolve():  # write_csv reads the schema beside the output
        args.out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(DEFAULT_OUT.with_suffix(".schema.yaml"), args.out.with_suffix(".schema.yaml"))
    write_csv(args.out, rows)
    print(f"peak (fastest single call): {peak:.1f} GFLOP/s; wrote {len(rows)} rows to {args.out} "
          f"in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
