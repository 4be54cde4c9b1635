"""Sharding memory benchmark: how much memory each process holds when the same model trains in one
process, with DistributedDataParallel (DDP) in two, and with FSDP2's fully_shard in two.

    .venvs/main/bin/python -m scripts.bench.sharding_memory                        # writes docs/data/sharding-memory.csv
    .venvs/main/bin/python -m scripts.bench.sharding_memory --smoke --out /tmp/m/sharding-memory.csv

The model is a stack of LAYERS linear layers of WIDTH x WIDTH with biases, in float32, trained with
Adam for STEPS steps on random batches (seeded); each rank gets its own batch. Strategies:

- ``one process``: the plain model in a single process, the baseline;
- ``DDP``: torch.nn.parallel.DistributedDataParallel with its defaults;
- ``DDP, gradient_as_bucket_view``: DDP with gradients stored as views into its communication buckets;
- ``FSDP2``: fully_shard on every layer and on the whole model (parameters resharded after forward);
- ``FSDP2, reshard_after_forward=False``: parameters stay gathered from forward to backward.

FSDP2 models are built on the meta device, sharded, then materialised with ``to_empty`` and
initialised, so that no process ever holds the whole model.

What is measured, per rank, after the last step:

- model-state bytes, counted exactly: every parameter, gradient and Adam state tensor the rank holds
  (for a sharded parameter, its local shard), as numel x element size;
- resident-memory growth: the process's resident set (VmRSS) after the last step minus before the
  model was built, and the peak (VmHWM, reset when the model-building starts) minus the same
  baseline. The processes run with ``MALLOC_MMAP_THRESHOLD_`` fixed at 128 KiB, so that glibc
  returns freed tensors to the system and the resident set follows what is alive.

How it runs (scripts/bench/harness.py): each strategy is one configuration; each of its worker
processes is one torchrun launch of its ranks (scripts/notebook_helpers/distributed_launch.py), pinned to two CPUs,
one thread per rank. A launch's value is its largest rank's; rows report the median over launches,
and the lowest and highest launch.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from scripts import ROOT
from scripts.bench import harness
from scripts.bench.harness import Job, Run, sig, summarise
from scripts.bench.provenance import write_csv
from scripts.notebook_helpers import distributed_launch

DEFAULT_OUT = ROOT / "docs" / "data" / "sharding-memory.csv"
SCRIPT = "scripts/bench/sharding_memory.py"
THREADS = 1  # per rank
MIB = 2 ** 20
ADAM_BYTES_PER_PARAM = 8  # exp_avg and exp_avg_sq, float32
STRATEGIES = {  # label: (ranks, how the model is wrapped)
    "one process": (1, "plain"),
    "DDP": (2, "ddp"),
    "DDP, gradient_as_bucket_view": (2, "ddp-view"),
    "FSDP2": (2, "fsdp"),
    "FSDP2, reshard_after_forward=False": (2, "fsdp-keep"),
}
SETTINGS = {"full": {"layers": 8, "width": 2048, "batch": 8, "steps": 3, "strategies": list(STRATEGIES)},
            "smoke": {"layers": 2, "width": 256, "batch": 4, "steps": 2, "strategies": ["DDP", "FSDP2"]}}
MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": str(128 * 1024)}
PACKAGES = ["torch"]


def _status_bytes(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"/proc/self/status has no {key}")


def _reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current resident set


def tensor_bytes(tensors) -> int:
    """Bytes of the tensors this rank holds: a sharded tensor (DTensor) counts its local shard."""
    total = 0
    for t in tensors:
        local = t.to_local() if hasattr(t, "to_local") else t
        total += local.numel() * local.element_size()
    return total


def rank_worker(wrap: str, out_path: str, setting: dict) -> None:
    """One rank: build, wrap and train the model, then write what it holds (rank 0 gathers all)."""
    import torch
    import torch.distributed as dist

    torch.set_num_threads(THREADS)
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()

    def build():
        return torch.nn.Sequential(*[torch.nn.Linear(setting["width"], setting["width"])
                                     for _ in range(setting["layers"])])

    # A tiny model trains first, so that kernels, allocators and the optimizer's code are loaded
    # before the baseline and what is measured is the model's own memory.
    warm = torch.nn.Linear(8, 8)
    warm(torch.ones(1, 8)).sum().backward()
    torch.optim.Adam(warm.parameters()).step()
    del warm
    torch.manual_seed(0)
    baseline = _status_bytes("VmRSS")
    _reset_peak()
    if wrap.startswith("fsdp"):
        from torch.distributed.fsdp import fully_shard

        with torch.device("meta"):
            model = build()
        for layer in model:
            fully_shard(layer, reshard_after_forward=wrap == "fsdp")
        fully_shard(model, reshard_after_forward=wrap == "fsdp")
        model.to_empty(device="cpu")
        for layer in model:
            layer.reset_parameters()
    elif wrap.startswith("ddp"):
        from torch.nn.parallel import DistributedDataParallel

        model = DistributedDataParallel(build(), gradient_as_bucket_view=wrap == "ddp-view")
    else:
        model = build()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(rank)
    for _ in range(setting["steps"]):
        x = torch.randn(setting["batch"], setting["width"], generator=generator)
        model(x).square().mean().backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=False)  # gradients stay allocated, as between two steps
    params = list(model.parameters())
    held = {
        "params": tensor_bytes(params),
        "grads": tensor_bytes(p.grad for p in params),
        "optimizer": tensor_bytes(v for state in optimizer.state.values() for v in state.values()
                                  if torch.is_tensor(v) and v.dim() > 0),
        "rss_growth": _status_bytes("VmRSS") - baseline,
        "peak_growth": _status_bytes("VmHWM") - baseline,
        "parameter_count": setting["layers"] * (setting["width"] ** 2 + setting["width"]),
    }
    gathered = [None] * world
    dist.all_gather_object(gathered, held)
    if rank == 0:
        Path(out_path).write_text(json.dumps(gathered))
    dist.destroy_process_group()


def launch(label: str, setting: str) -> None:
    """One worker process of the harness: one torchrun launch of the strategy's ranks."""
    import torch  # noqa: F401  (loaded so that the row's provenance names its BLAS and threading)

    ranks, wrap = STRATEGIES[label]
    with tempfile.TemporaryDirectory(prefix="sharding-memory-") as tmp:
        out = Path(tmp) / "held.json"
        distributed_launch.torchrun("-m", "scripts.bench.sharding_memory", "--rank", wrap, str(out), setting,
                                    nproc=ranks, label="bench-sharding-memory", timeout=600, extra_env=MALLOC_ENV)
        harness.emit({"ranks": json.loads(out.read_text())}, PACKAGES)


def expected_model_state(parameters: int, ranks: int, sharded: bool) -> int:
    """The ZeRO paper's accounting for float32 training with Adam: 4 bytes of weights, 4 of
    gradients and 8 of optimizer state per parameter, divided among the ranks when sharded."""
    per_parameter = 4 + 4 + ADAM_BYTES_PER_PARAM
    return parameters * per_parameter // (ranks if sharded else 1)


def rows_from(outcomes: list, run: Run) -> list[dict]:
    rows = []
    for outcome in outcomes:
        label = outcome.job.key
        ranks, wrap = STRATEGIES[label]
        launches = [r["ranks"] for r in outcome.results]
        parameters = launches[0][0]["parameter_count"]

        def largest(field):  # per launch, the rank that holds most
            return [[max(rank[field] for rank in launch) / MIB] for launch in launches]

        state = [max(r["params"] + r["grads"] + r["optimizer"] for r in launch) / MIB for launch in launches]
        rss, peak = summarise(largest("rss_growth")), summarise(largest("peak_growth"))
        rows.append({
            "strategy": label, "ranks": ranks, "parameters": parameters,
            "params_mib": sig(max(r["params"] for r in launches[0]) / MIB),
            "grads_mib": sig(max(r["grads"] for r in launches[0]) / MIB),
            "optimizer_mib": sig(max(r["optimizer"] for r in launches[0]) / MIB),
            "model_state_mib": sig(max(state)),
            "formula_mib": sig(expected_model_state(parameters, ranks, wrap.startswith("fsdp")) / MIB),
            "rss_growth_mib": sig(rss.median), "rss_growth_low": sig(rss.low), "rss_growth_high": sig(rss.high),
            "peak_growth_mib": sig(peak.median), "peak_growth_low": sig(peak.low),
            "peak_growth_high": sig(peak.high),
            **run.provenance(outcome),
        })
    return rows


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="a small model, two steps, DDP and FSDP2 only")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    # Internal: a harness worker process (one launch), and one rank of it.
    parser.add_argument("--launch", nargs=2, metavar=("STRATEGY", "SETTING"), help=argparse.SUPPRESS)
    parser.add_argument("--rank", nargs=3, metavar=("WRAP", "OUT", "SETTING"), help=argparse.SUPPRESS)
    harness.add_arguments(parser, timeout=600)
    parser.set_defaults(processes=3)  # memory varies little between launches, and each launch is slow
    args = parser.parse_args(argv)
    if args.rank:
        wrap, out, setting = args.rank
        rank_worker(wrap, out, SETTINGS[setting])
        return 0
    if args.launch:
        launch(*args.launch)
        return 0
    setting = "smoke" if args.smoke else "full"
    run = Run.from_args(args, SCRIPT, PACKAGES, 2 * THREADS)
    jobs = [Job(label, [sys.executable, "-m", "scripts.bench.sharding_memory", "--launch", label, setting],
                THREADS, cpus=2 * THREADS, key=label) for label in SETTINGS[setting]["strategies"]]
    with tempfile.TemporaryDirectory(prefix="bench-sharding-memory-") as workdir:
        outcomes = run.execute(jobs, Path(workdir))
    run.stop_on_failure(outcomes, args.out)
    rows = rows_from(outcomes, run)
    write_csv(args.out, rows, schema=DEFAULT_OUT.with_suffix(".schema.yaml"))
    print(f"wrote {len(rows)} rows to {args.out}")
    return 0


if __name__ == "__main__":
    os.chdir(ROOT)
    sys.exit(main(sys.argv[1:]))
