"""Collective benchmark: how long all-reduce, all-gather, reduce-scatter and broadcast take between
two processes on this machine (torch.distributed, gloo backend, over the loopback interface), against
the size of the message.

    .venvs/main/bin/python -m scripts.bench.collectives                        # writes docs/data/collective-bench.csv
    .venvs/main/bin/python -m scripts.bench.collectives --smoke --out /tmp/c.csv   # two sizes, one run

How it runs (scripts/bench/harness.py). The benchmark is one configuration, and each of its worker
processes is one launch: pinned to two CPUs, it starts two ranks with torchrun
(scripts/notebook_helpers/distributed_launch.py: loopback interface, a free port, one thread per rank, nothing left
running afterwards). In a launch, for each collective and size in turn, both ranks fill their
input with values that depend on the rank, call the collective once and check its result against
the same computation done in one process, then time it: two untimed calls, then a
fixed number of timed calls (the same on both ranks, since every call needs both), each preceded by
a barrier so that both ranks start together. A call's time is the later of the two ranks' times:
a collective is over only when every rank has its result. Rows report the median over launches of
each launch's median and quartiles, and the lowest and highest launch median (the spread).

Sizes follow nccl-tests' convention (its PERFORMANCE.md): the size of the whole buffer, which is
the all-reduce and broadcast buffer, the all-gather output and the reduce-scatter input. Algorithm
bandwidth is size / time; bus bandwidth multiplies it by 2(n-1)/n for all-reduce and (n-1)/n for
all-gather and reduce-scatter, so that it can be compared with the speed of the links.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from scripts import ROOT
from scripts.bench import harness
from scripts.bench.harness import Job, Run, sig, summarise
from scripts.bench.provenance import write_csv
from scripts.notebook_helpers import distributed_launch

DEFAULT_OUT = ROOT / "docs" / "data" / "collective-bench.csv"
SCRIPT = "scripts/bench/collectives.py"
RANKS = 2
THREADS = 1  # per rank: two ranks on two cores
OPERATIONS = ("all-reduce", "all-gather", "reduce-scatter", "broadcast")
BUS_FACTOR = {  # nccl-tests' busbw / algbw for n processes
    "all-reduce": lambda n: 2 * (n - 1) / n,
    "all-gather": lambda n: (n - 1) / n,
    "reduce-scatter": lambda n: (n - 1) / n,
    "broadcast": lambda n: 1.0,
}
SETTINGS = {  # message sizes in bytes, and timed calls per size in each launch
    "full": {"sizes": [2 ** k for k in range(10, 25, 2)], "calls": lambda b: 30 if b < 2 ** 20 else 10},
    "smoke": {"sizes": [2 ** 10, 2 ** 16], "calls": lambda b: 3},
}
PACKAGES = ["torch"]


def size_label(n_bytes: int) -> str:
    for unit, scale in (("MiB", 2 ** 20), ("KiB", 2 ** 10)):
        if n_bytes >= scale:
            return f"{n_bytes // scale} {unit}"
    return f"{n_bytes} B"


def _collective(op: str, dist, torch, rank: int, world: int, n: int):
    """(a function that runs the collective once, its expected result on this rank) for n float32 values."""
    def values(r):
        return torch.arange(n, dtype=torch.float32) % 7 + r  # small integers: sums are exact in float32
    mine = values(rank)
    if op == "all-reduce":
        buf = mine.clone()  # reduced in place: later calls sum sums, which stay exact for these counts
        return (lambda: dist.all_reduce(buf)), buf, sum(values(r) for r in range(world))
    if op == "all-gather":
        part = values(rank)[: n // world]
        out = torch.empty(n, dtype=torch.float32)
        expected = torch.cat([values(r)[: n // world] for r in range(world)])
        return (lambda: dist.all_gather_into_tensor(out, part)), out, expected
    if op == "reduce-scatter":
        out = torch.empty(n // world, dtype=torch.float32)
        expected = sum(values(r) for r in range(world)).chunk(world)[rank]
        return (lambda: dist.reduce_scatter_single(out, mine)), out, expected
    buf = mine.clone()
    return (lambda: dist.broadcast(buf, src=0)), buf, values(0)


def rank_worker(out_path: str, sizes: list[int], calls: dict) -> None:
    """One rank of a launch: check each collective, then time it at every size."""
    import torch
    import torch.distributed as dist

    torch.set_num_threads(THREADS)
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    times: dict = {}
    for op in OPERATIONS:
        for n_bytes in sizes:
            run, result, expected = _collective(op, dist, torch, rank, world, n_bytes // 4)
            run()
            if not torch.equal(result, expected):
                raise AssertionError(f"{op} of {n_bytes} bytes on rank {rank} differs from the one-process result")
            run()
            samples = []
            for _ in range(calls[str(n_bytes)]):
                dist.barrier()
                start = time.perf_counter()
                run()
                samples.append(time.perf_counter() - start)
            times[f"{op}|{n_bytes}"] = samples
    gathered = [None] * world
    dist.all_gather_object(gathered, times)
    if rank == 0:
        slowest = {key: [max(per_rank[key][i] for per_rank in gathered) for i in range(len(samples))]
                   for key, samples in times.items()}
        Path(out_path).write_text(json.dumps(slowest))
    dist.destroy_process_group()


def launch(sizes: str, calls: str) -> None:
    """One worker process of the harness: a torchrun launch of RANKS ranks, whose timings it emits."""
    import torch  # noqa: F401  (loaded so that the row's provenance names its BLAS and threading)

    with tempfile.TemporaryDirectory(prefix="collectives-") as tmp:
        out = Path(tmp) / "times.json"
        distributed_launch.torchrun("-m", "scripts.bench.collectives", "--rank", str(out), sizes, calls,
                                    nproc=RANKS, label="bench-collectives", timeout=600)
        harness.emit({"times": json.loads(out.read_text())}, PACKAGES)


def rows_from(outcome, run: Run) -> list[dict]:
    rows = []
    for key in outcome.results[0]["times"]:
        op, size = key.split("|")
        n_bytes = int(size)
        stats = summarise([r["times"][key] for r in outcome.results]).scaled(1e3)
        algbw = n_bytes / (stats.median / 1e3) / 1e9
        rows.append({
            "operation": op, "size": size_label(n_bytes), "bytes": n_bytes, "ranks": RANKS,
            "time_median": sig(stats.median), "time_q1": sig(stats.q1), "time_q3": sig(stats.q3),
            "time_low": sig(stats.low), "time_high": sig(stats.high), "calls": stats.samples,
            "algbw": sig(algbw), "busbw": sig(algbw * BUS_FACTOR[op](RANKS)), "backend": "gloo, loopback",
            **run.provenance(outcome),
        })
    return rows


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="two small sizes, three calls each")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    # Internal: a harness worker process (one launch), and one rank of it.
    parser.add_argument("--launch", nargs=2, metavar=("SIZES", "CALLS"), help=argparse.SUPPRESS)
    parser.add_argument("--rank", nargs=3, metavar=("OUT", "SIZES", "CALLS"), help=argparse.SUPPRESS)
    harness.add_arguments(parser, timeout=900)
    args = parser.parse_args(argv)
    if args.rank:
        out, sizes, calls = args.rank
        rank_worker(out, [int(b) for b in sizes.split(",")], json.loads(calls))
        return 0
    if args.launch:
        launch(*args.launch)
        return 0
    setting = SETTINGS["smoke" if args.smoke else "full"]
    sizes = ",".join(str(b) for b in setting["sizes"])
    calls = json.dumps({str(b): setting["calls"](b) for b in setting["sizes"]})
    run = Run.from_args(args, SCRIPT, PACKAGES, RANKS * THREADS)
    job = Job("collectives", [sys.executable, "-m", "scripts.bench.collectives", "--launch", sizes, calls], THREADS,
              cpus=RANKS * THREADS)
    with tempfile.TemporaryDirectory(prefix="bench-collectives-") as workdir:
        outcomes = run.execute([job], Path(workdir))
    run.stop_on_failure(outcomes, args.out)
    rows = rows_from(outcomes[0], run)
    write_csv(args.out, rows, schema=DEFAULT_OUT.with_suffix(".schema.yaml"))
    print(f"wrote {len(rows)} rows to {args.out}")
    return 0


if __name__ == "__main__":
    os.chdir(ROOT)
    sys.exit(main(sys.argv[1:]))
