"""The roofline model, and the kernels the guide places on it with their operation and byte counts
taken from their code.

A kernel here is a PyTorch function of its tensor arguments, the last of which it writes its result
into. ``count`` traces it on meta tensors (no memory, no arithmetic), lowers composite operators to
their elementary ones with PyTorch's own decompositions (softmax becomes max, subtract, exp, sum and
divide; add with a scale factor becomes a multiply and an add) and counts:

- floating-point operations: one per output element of each element-wise operator, one per input
  element of each reduction, 2 m n k for an m x k by k x n matrix product; copies count none, and an
  exponential counts as one operation;
- bytes: the compulsory traffic, every argument read or written once (no cache misses beyond
  the first touch, no write-allocate reads), which is the traffic STREAM counts.

Arithmetic intensity is their ratio, and the roofline bounds a kernel at that intensity by
min(peak, bandwidth x intensity) (Williams, Waterman and Patterson, "Roofline", CACM 52(4), 2009).
"""

from __future__ import annotations

import functools
import sys
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

SCALAR = 3.0  # STREAM's scale factor q

# Reductions count one operation per input element; element-wise ATen operators are recognised by
# PyTorch's own `pointwise` tag, and the decompositions' element-wise primitives are listed (prims
# carry no tags).
PRIMS_POINTWISE = {"prims.add.default", "prims.sub.default", "prims.mul.default", "prims.div.default"}
REDUCTIONS = {"aten.amax.default", "aten.amin.default", "aten.sum.dim_IntList", "aten.sum.default"}
MATMULS = {"aten.mm.default"}
COPIES = {"aten.copy_.default", "aten.copy.default"}


@dataclass(frozen=True)
class Kernel:
    name: str
    shapes: Callable[[tuple[int, ...]], list[tuple[int, ...]]]  # kernel shape -> argument shapes
    run: Callable  # run(*inputs, out): writes the result into out
    describe: str


def _vector(shape):
    (n,) = shape
    return [(n,)]


def _matmul_shapes(shape):
    (n,) = shape
    return [(n, n), (n, n), (n, n)]


def _kernels() -> dict[str, Kernel]:
    import torch

    def softmax(x, out):
        return torch._softmax(x, -1, False, out=out)
    return {k.name: k for k in (
        Kernel("copy", lambda s: _vector(s) * 2, lambda a, out: out.copy_(a), "STREAM copy: c = a"),
        Kernel("scale", lambda s: _vector(s) * 2, lambda a, out: torch.mul(a, SCALAR, out=out),
               "STREAM scale: b = q c"),
        Kernel("vector add", lambda s: _vector(s) * 3, lambda a, b, out: torch.add(a, b, out=out),
               "STREAM add: c = a + b"),
        Kernel("triad", lambda s: _vector(s) * 3, lambda a, b, out: torch.add(a, b, alpha=SCALAR, out=out),
               "STREAM triad: a = b + q c"),
        Kernel("softmax", lambda s: [tuple(s)] * 2, softmax, "row-wise softmax of a rows x columns matrix"),
        Kernel("matmul", _matmul_shapes, lambda a, b, out: torch.mm(a, b, out=out), "C = A B, n x n float32"),
    )}


KERNEL_NAMES = ("copy", "scale", "vector add", "triad", "softmax", "matmul")


def kernel(name: str) -> Kernel:
    kernels = _kernels()
    if name not in kernels:
        raise KeyError(f"unknown kernel {name!r}; the roofline knows {', '.join(kernels)}")
    return kernels[name]


@dataclass(frozen=True)
class Count:
    flops: int
    bytes: int
    operators: tuple[str, ...]

    @property
    def intensity(self) -> float:
        return self.flops / self.bytes


def _numel(node) -> int:
    return math.prod(node.meta["val"].shape)


@functools.lru_cache(maxsize=None)
def count(name: str, shape: tuple[int, ...], bytes_per_element: int = 4) -> Count:
    """Operations and compulsory bytes of one call of kernel ``name`` at ``shape``, from its code."""
    import torch
    from torch._decomp import get_decompositions
    from torch.fx.experimental.proxy_tensor import make_fx

    k = kernel(name)
    dtype = {4: torch.float32, 2: torch.float16}[bytes_per_element]
    args = [torch.empty(s, device="meta", dtype=dtype) for s in k.shapes(tuple(shape))]
    aten = torch.ops.aten
    decompositions = get_decompositions([aten._softmax, aten.add.Tensor])
    graph = make_fx(torch.func.functionalize(k.run, remove="mutations_and_views"),
                    decomposition_table=decompositions)(*args).graph
    flops, operators = 0, []
    for node in graph.nodes:
        if node.op != "call_function":
            continue
        target = str(node.target)
        operators.append(target.split(".")[1] if target.startswith(("aten.", "prims.")) else target)
        if target in COPIES:
            continue
        if target in MATMULS:
            (m, k_), (_, n) = (a.meta["val"].shape for a in node.args[:2])
            flops += 2 * m * n * k_
        elif target in REDUCTIONS:
            flops += _numel(node.args[0])
        elif target in PRIMS_POINTWISE or torch.Tag.pointwise in getattr(node.target, "tags", ()):
            flops += _numel(node)
        else:
            raise ValueError(f"kernel {name!r}: no operation count for operator {target}")
    moved = sum(math.prod(a.shape) for a in args) * bytes_per_element
    return Count(flops, moved, tuple(operators))


def attainable(intensity: float, peak: float, bandwidth: float) -> float:
    """The roofline: the highest rate (FLOP/s) a kernel of this intensity (FLOP/B) can reach on a
    machine with this peak rate (FLOP/s) and memory bandwidth (B/s)."""
    return min(peak, bandwidth * intensity)


def ridge(peak: float, bandwidth: float) -> float:
    """The intensity (FLOP/B) at which a kernel stops being limited by memory."""
    return peak / bandwidth


# ---------------------------------------------------------------------------------------------
# The guide's measurements placed on the roofline. Each point's operations and bytes are counted
# from its kernel's code at the recorded shape, and checked against the rate its data file
# recorded, so a shape or a count that does not match what was measured stops the chapter.

STREAM = ("copy", "scale", "vector add", "triad")
CPU_KERNELS = ("vector add", "softmax")
# Recorded GPU benchmarks (docs/data/gpu-bench.csv: notebook, benchmark) that run a kernel above.
GPU_KERNELS = {
    ("cuda-gpu", "vector add"): ("vector add", (2 ** 28,)),
    ("cuda-gpu", "fp32 matmul"): ("matmul", (4096,)),
    ("cuda-gpu", "peak: cuBLAS fp32 matmul"): ("matmul", (8192,)),
    ("triton-gpu", "softmax 16384x4096 fp32"): ("softmax", (16384, 4096)),
}
GPU_COPY = ("cuda-gpu", "peak: device-to-device copy")
AGREEMENT = 2e-3  # relative: the data files round rates to four significant digits or keep them whole


@dataclass(frozen=True)
class Roof:
    name: str
    bandwidth: float  # GB/s
    peak: float       # GFLOP/s
    how: str

    @property
    def ridge(self) -> float:
        return ridge(self.peak, self.bandwidth)

    def attainable(self, intensity: float) -> float:
        return attainable(intensity, self.peak, self.bandwidth)


@dataclass(frozen=True)
class Point:
    machine: str
    kernel: str
    implementation: str
    shape: tuple[int, ...]
    flops: int
    bytes: int
    time_ms: float
    where: str

    @property
    def intensity(self) -> float:
        return self.flops / self.bytes

    @property
    def gflops(self) -> float:
        return self.flops / self.time_ms / 1e6


def _table(data: Path, name: str) -> list[dict]:
    from scripts.site.datafiles import read_csv
    from scripts.site.datasets import PROVENANCE_FIELDS, load_schema

    path = data / name
    fields, key, _ = load_schema(path.with_suffix(".schema.yaml"))
    rows = read_csv(path, fields + PROVENANCE_FIELDS, key).rows
    return [{**row, "_where": f"{path}, row {i}"} for i, row in enumerate(rows, start=2)]


def _agree(recorded: float, counted: float, where: str, column: str) -> None:
    if not math.isclose(recorded, counted, rel_tol=AGREEMENT):
        raise ValueError(f"{where}, column '{column}': the file records {recorded:g}, but the kernel's code at "
                         f"this shape gives {counted:g}")


def cpu_roofline(data: Path) -> tuple[Roof, list[Point]]:
    """This machine's roof (STREAM's best median bandwidth, the matrix benchmark's peak) and its
    kernels: the roofline benchmark's vector add and softmax, the matrix benchmark's multiplies."""
    bench = _table(data, "roofline-bench.csv")
    points = []
    for row in bench:
        shape = tuple(int(d) for d in row["shape"].replace("2^", "").split(" x "))
        if len(shape) == 1:
            shape = (2 ** shape[0],)
        counted = count(row["name"], shape)
        _agree(row["flops"], counted.flops, row["_where"], "flops")
        _agree(row["bytes"], counted.bytes, row["_where"], "bytes")
        _agree(row["bandwidth"], counted.bytes / row["time_median"] / 1e6, row["_where"], "bandwidth")
        if row["name"] in CPU_KERNELS:
            points.append(Point("cpu", row["name"], "PyTorch", shape, counted.flops, counted.bytes,
                                row["time_median"], row["_where"]))
    stream = max((r for r in bench if r["name"] in STREAM), key=lambda r: r["bandwidth"])
    matmuls = [r for r in _table(data, "kernel-bench.csv") if r["implementation"] == "PyTorch"]
    for row in matmuls:
        counted = count("matmul", (row["n"],))
        _agree(row["gflops"], counted.flops / row["time_median"] / 1e6, row["_where"], "gflops")
        points.append(Point("cpu", "matmul", row["implementation"], (row["n"],), counted.flops, counted.bytes,
                            row["time_median"], row["_where"]))
    roof = Roof("this machine's CPU, measured", stream["bandwidth"], matmuls[0]["peak_gflops"],
                f"STREAM {stream['name']} ({stream['shape']} float32) and the matrix benchmark's peak")
    return roof, points


def gpu_roofline(data: Path) -> tuple[list[Roof], list[Point]]:
    """The H200's published roofs (one per board), the roof its own recordings measured (copy
    bandwidth, cuBLAS at n = 8192), and the recorded kernels."""
    from scripts.site.datafiles import load_yaml

    facts: dict[str, dict[str, float]] = {}
    for row in load_yaml(data / "roofline-gpu.yaml")["rows"]:
        scale = {"TB/s": 1e3, "TFLOP/s": 1e3}[row["unit"]]
        facts.setdefault(row["board"], {})[row["quantity"]] = row["value"] * scale
    roofs = [Roof(f"{board}, published", f["memory bandwidth"], f["float32 peak"], "NVIDIA's product page")
             for board, f in facts.items()]
    rows = _table(data, "gpu-bench.csv")
    by_benchmark = {}
    for row in rows:
        by_benchmark.setdefault((row["notebook"], row["benchmark"]), []).append(row)
    missing = [k for k in (*GPU_KERNELS, GPU_COPY) if k not in by_benchmark]
    if missing:
        raise ValueError(f"{data / 'gpu-bench.csv'}: no rows for the recorded benchmarks {missing}")
    (copy,) = by_benchmark[GPU_COPY]
    points = []
    for key, (name, shape) in GPU_KERNELS.items():
        for row in by_benchmark[key]:
            counted = count(name, shape)
            if row["bandwidth"] is not None:
                _agree(row["bandwidth"], counted.bytes / row["time"] / 1e6, row["_where"], "bandwidth")
            if row["throughput"] is not None:
                _agree(row["throughput"], counted.flops / row["time"] / 1e9, row["_where"], "throughput")
            points.append(Point(row["device"], name, row["implementation"], shape, counted.flops, counted.bytes,
                                row["time"], row["_where"]))
    cublas = max((p for p in points if p.kernel == "matmul"), key=lambda p: p.gflops)
    roofs.append(Roof(f"{copy['device']}, measured", copy["bandwidth"], cublas.gflops,
                      f"the recorded device-to-device copy and {cublas.implementation} at n = {cublas.shape[0]}"))
    return roofs, points


def main(argv: list[str] | None = None) -> int:
    """Print, as JSON, the roofs and points built from a data folder, or one kernel's count (the tests
    read both: the site's environment has no PyTorch)."""
    import argparse
    import json

    from scripts import ROOT

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("data", nargs="?", type=Path, default=ROOT / "docs" / "data")
    parser.add_argument("--count", nargs="+", metavar="KERNEL=DIMS",
                        help="count kernels at shapes instead, e.g. 'softmax=8,128' 'matmul=64'")
    args = parser.parse_args(argv)
    if args.count:
        counts = []
        for spec in args.count:
            name, _, dims = spec.partition("=")
            counted = count(name, tuple(int(d) for d in dims.split(",")))
            counts.append({"kernel": name, "flops": counted.flops, "bytes": counted.bytes,
                           "operators": counted.operators})
        print(json.dumps(counts))
        return 0
    try:
        cpu_roof, cpu_points = cpu_roofline(args.data)
        gpu_roofs, gpu_points = gpu_roofline(args.data)
    except ValueError as error:
        print(error, file=sys.stderr)
        return 1
    print(json.dumps({"roofs": [vars(r) for r in [cpu_roof, *gpu_roofs]],
                      "points": [{**vars(p), "intensity": p.intensity, "gflops": p.gflops}
                                 for p in cpu_points + gpu_points]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
