"""The harness every CPU benchmark script (scripts/bench/*.py) runs its measurements through: how
worker processes are configured, pinned, ordered, timed, stopped, summarised and described.

Threads and caches. A worker process gets its thread count in every library's thread variable
(THREAD_VARIABLES) and its own empty cache folders (CACHE_VARIABLES) in its environment, so both
are in place before it imports anything; a library that reads them once at start-up sees them.

Pinning. Workers run on named CPUs: ``--cpus 0,1``, or by default the first CPUs of the parent's
affinity mask taking one logical CPU per physical core before any core's second SMT thread. The
launcher (``python -m scripts.bench.harness --pin 0,1 -- COMMAND``) sets the affinity with
os.sched_setaffinity and then replaces itself with the worker, so the worker's interpreter starts
pinned; the worker reports the CPUs it ran on and a mismatch fails the row. Every row records the
CPU list and each CPU's SMT siblings. Asking for more threads than the affinity mask (or --cpus)
allows stops the run before anything starts.

Timing. ``time_calls`` warms up (a minimum number of calls and a minimum time), then times single
calls until both a minimum measured time and a minimum number of calls are reached, so a fast
configuration gets many samples and a slow one still gets several.

Processes and order. Each configuration (one Job) runs in k independent worker processes
(``--processes``, default 5). The run is k rounds; each round runs every configuration once, in an
order shuffled by a generator seeded with ``--seed``, so a configuration's processes are spread
over the run and a slow phase of the machine is shared out rather than landing on one
configuration. Each row records the seed and the positions of its processes in the run.

Timeout. A worker still running after ``--timeout`` seconds is killed together with every process
it started (it runs in a session of its own); its row fails, naming the process and the reason,
and the run goes on with the other configurations.

Statistics. One quantile definition everywhere, ``quantile``: linear interpolation between order
statistics (Hyndman and Fan's type 7: NumPy's default method 'linear', and Python's
statistics.quantiles with method='inclusive'). Every statistic is computed within each process,
and a row reports the median of the per-process values; the spread between processes is the
lowest and the highest per-process median (columns named ``<statistic>_low`` and
``<statistic>_high``). Two configurations are equal within the spread when those two ranges
overlap (``equal_within_spread``; ``ties`` lists, for each configuration, the others it ties with).

Provenance. ``Run.provenance`` gives each row its provenance columns (scripts/site/datasets.py,
PROVENANCE_FIELDS): the machine as the run started (scripts/bench/provenance.py: CPU model with family,
model and stepping, kernel-relevant flags, kernel release, load average, commit), the pinned CPUs
with their SMT siblings and governor, and from the worker processes themselves the package
versions and the BLAS libraries and threading layers they had loaded.

Using it in a new benchmark script (an all-reduce benchmark, for instance):

1. Parent: ``add_arguments(parser, timeout=...)``, then ``run = Run.from_args(args, SCRIPT,
   PACKAGES, cpus_needed)``; this refuses a thread count the machine cannot give.
2. One ``Job`` per configuration (per row, or per group of rows that one process measures): a
   name for messages, the worker command, its thread count, and ``cpus`` when the worker needs more
   CPUs than threads. A worker that starts processes of its own (one per rank, through
   torch.multiprocessing or torchrun) sets ``cpus`` to ranks x threads: the ranks inherit the
   pinning, and a timeout kills them with it.
3. Worker: time with ``time_calls`` (or take per-iteration times from the workload), then print the
   result with ``emit(result, PACKAGES)`` from one process (rank 0).
4. Parent: ``outcomes = run.execute(jobs, workdir)``; ``run.stop_on_failure(outcomes, out)``;
   summarise each outcome's per-process samples with ``summarise``; add
   ``run.provenance(outcome)`` to each row; write with ``scripts.bench.provenance.write_csv``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from scripts import ROOT

MARK = "BENCH-RESULT "

# Read by the libraries at start-up: OpenMP (PyTorch, numba's omp layer), MKL, OpenBLAS, BLIS,
# Apple's Accelerate, numexpr, numba, TensorFlow, PoCL. BENCH_THREADS is for the worker's own code.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "BLIS_NUM_THREADS",
                    "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS", "NUMBA_NUM_THREADS", "TF_NUM_INTRAOP_THREADS",
                    "POCL_MAX_PTHREAD_COUNT", "BENCH_THREADS")
# Cache folders, relative to the process's own folder: every process compiles from scratch, as on a
# new machine, and one process's compiled kernels never speed up the next.
CACHE_VARIABLES = {"TMPDIR": "tmp", "XDG_CACHE_HOME": "cache", "TORCHINDUCTOR_CACHE_DIR": "cache/inductor",
                   "TRITON_CACHE_DIR": "cache/triton", "KERAS_HOME": "cache/keras", "POCL_CACHE_DIR": "cache/pocl",
                   "MPLCONFIGDIR": "cache/matplotlib"}
# Persistent caches that would carry compiled code from one process to the next.
UNSET_VARIABLES = ("JAX_COMPILATION_CACHE_DIR", "KERAS_BACKEND")


# ---------------------------------------------------------------------------------------------
# Statistics

def quantile(samples: list[float], q: float) -> float:
    """The q-quantile (0 <= q <= 1) by linear interpolation between order statistics (type 7)."""
    if not samples:
        raise ValueError("no samples")
    if not 0 <= q <= 1:
        raise ValueError(f"quantile {q} is outside [0, 1]")
    ordered = sorted(samples)
    position = (len(ordered) - 1) * q
    below = int(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def median(samples: list[float]) -> float:
    return quantile(samples, 0.5)


@dataclass(frozen=True)
class Summary:
    """Repeated measurements from several processes. median, q1, q3 and p90 are the medians over the
    processes of each process's own statistic; low and high are the lowest and highest per-process
    median; minimum and maximum are the extreme samples of all processes."""

    median: float
    q1: float
    q3: float
    p90: float
    low: float
    high: float
    minimum: float
    maximum: float
    processes: int
    samples: int

    def scaled(self, factor: float) -> "Summary":
        """The same summary in another unit (seconds to milliseconds: 1000)."""
        values = {name: getattr(self, name) * factor
                  for name in ("median", "q1", "q3", "p90", "low", "high", "minimum", "maximum")}
        return Summary(**values, processes=self.processes, samples=self.samples)


def summarise(per_process: list[list[float]]) -> Summary:
    """Summarise samples grouped by process (one list per process, each non-empty)."""
    if not per_process or not all(per_process):
        raise ValueError("every process needs at least one sample")
    medians = [median(s) for s in per_process]
    return Summary(median=median(medians), q1=median([quantile(s, 0.25) for s in per_process]),
                   q3=median([quantile(s, 0.75) for s in per_process]),
                   p90=median([quantile(s, 0.9) for s in per_process]), low=min(medians), high=max(medians),
                   minimum=min(min(s) for s in per_process), maximum=max(max(s) for s in per_process),
                   processes=len(per_process), samples=sum(len(s) for s in per_process))


def equal_within_spread(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """Whether two (low, high) ranges of per-process medians overlap: the run cannot tell them apart."""
    return max(a[0], b[0]) <= min(a[1], b[1])


def ties(ranges: dict[str, tuple[float, float]]) -> dict[str, list[str]]:
    """For each label, the other labels (in the given order) that are equal to it within the spread."""
    return {label: [other for other, r in ranges.items() if other != label and equal_within_spread(own, r)]
            for label, own in ranges.items()}


def sig(value: float, digits: int = 4) -> float:
    """Rounded to significant digits: timings here range from microseconds to seconds."""
    return float(f"{value:.{digits}g}")


# ---------------------------------------------------------------------------------------------
# CPUs

def parse_cpu_list(text: str) -> list[int]:
    """'0-3,8' -> [0, 1, 2, 3, 8], the kernel's CPU list format (and --cpus's)."""
    cpus: list[int] = []
    try:
        for part in text.split(","):
            first, _, last = part.strip().partition("-")
            cpus += range(int(first), int(last or first) + 1)
    except ValueError:
        raise SystemExit(f"bench_harness: {text!r} is not a CPU list like '0,1' or '0-3'") from None
    return list(dict.fromkeys(cpus))


def format_cpu_list(cpus: list[int]) -> str:
    return ",".join(str(c) for c in cpus)


def one_thread_per_core_first(cpus: list[int]) -> list[int]:
    """The CPUs ordered so that every core's first logical CPU comes before any core's second."""
    from scripts.bench.provenance import smt_siblings

    def rank(cpu: int) -> tuple[int, int]:
        siblings = smt_siblings(cpu)
        same_core = sorted(parse_cpu_list(siblings)) if siblings else [cpu]
        return (same_core.index(cpu) if cpu in same_core else 0, cpu)
    return sorted(cpus, key=rank)


def choose_cpus(threads: int, named: list[int] | None = None) -> list[int]:
    """The CPUs a run pins its workers to: ``threads`` of them, from ``named`` (--cpus) or from the
    affinity mask. Refuses, with the reason, a request the mask cannot satisfy."""
    allowed = sorted(os.sched_getaffinity(0))
    if threads < 1:
        raise SystemExit(f"bench_harness: {threads} threads asked for; at least 1 is needed")
    if named:
        outside = [c for c in named if c not in allowed]
        if outside:
            raise SystemExit(f"bench_harness: CPU {format_cpu_list(outside)} named by --cpus is not in this "
                             f"process's affinity mask ({format_cpu_list(allowed)})")
        pool, source = named, "--cpus names"
    else:
        pool, source = one_thread_per_core_first(allowed), "the affinity mask allows"
    if threads > len(pool):
        raise SystemExit(f"bench_harness: {threads} threads asked for, but {source} only {len(pool)} CPU"
                         f"{'s' if len(pool) != 1 else ''} ({format_cpu_list(pool)}); ask for at most {len(pool)}")
    return pool[:threads]


# ---------------------------------------------------------------------------------------------
# Worker side

def time_calls(fn: Callable[[], object], min_time: float, min_calls: int = 5, warmup_time: float = 0.0,
               warmup_calls: int = 1, max_calls: int = 1_000_000) -> list[float]:
    """Seconds taken by each timed call of ``fn``. Untimed warm-up calls come first, until both
    ``warmup_calls`` calls and ``warmup_time`` seconds are done; then calls are timed one by one
    until both ``min_calls`` calls and ``min_time`` seconds of measured time are reached (or
    ``max_calls``, which bounds memory for calls of a few nanoseconds)."""
    start, done = time.perf_counter(), 0
    while done < warmup_calls or time.perf_counter() - start < warmup_time:
        fn()
        done += 1
    samples: list[float] = []
    measured = 0.0
    while (len(samples) < min_calls or measured < min_time) and len(samples) < max_calls:
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
        measured += samples[-1]
    return samples


def environment_python(env: str) -> Path:
    """The interpreter of the project's environment ``env`` (.venvs/<env>, from requirements/<env>.lock)."""
    return ROOT / ".venvs" / env / "bin" / "python"


def require_environments(script: str, envs: set[str]) -> None:
    """Stop before anything runs if a worker's environment is missing, naming the command that makes it."""
    missing = sorted(env for env in envs if not environment_python(env).is_file())
    if missing:
        raise SystemExit(f"{script}: the environments {', '.join(missing)} are missing: run "
                         + " ".join(f"`make env-{env}`" for env in missing))


def worker_threads() -> int:
    """The thread count this worker was started with."""
    return int(os.environ["BENCH_THREADS"])


def emit(result: dict, packages: list[str]) -> None:
    """Print a worker's result for the parent, with what it ran on and what it had loaded."""
    from scripts.bench import provenance

    worker = {"cpus": sorted(os.sched_getaffinity(0)), "versions": provenance.versions(packages),
              "blas": provenance.blas()}
    # A leading newline: a library may have left a line unfinished on stdout.
    sys.stdout.write("\n" + MARK + json.dumps({**result, "worker": worker}) + "\n")
    sys.stdout.flush()


# ---------------------------------------------------------------------------------------------
# Parent side

@dataclass
class Job:
    """One configuration: a worker command run in k processes. ``key`` is for the script (which
    row or rows the results belong to); ``name`` is for messages."""

    name: str
    argv: list[str]
    threads: int
    cpus: int = 0                              # CPUs to pin to; 0: as many as threads
    env: dict = field(default_factory=dict)    # extra environment variables
    key: object = None

    @property
    def width(self) -> int:
        return self.cpus or self.threads


@dataclass
class Outcome:
    """What a Job's processes returned, in run order, and where they ran in the run."""

    job: Job
    results: list[dict] = field(default_factory=list)
    positions: list[int] = field(default_factory=list)
    failure: str | None = None


def schedule(configurations: int, processes: int, seed: int) -> list[tuple[int, int]]:
    """The run order as (configuration, process) pairs: ``processes`` rounds, each running every
    configuration once in an order shuffled by a generator seeded with ``seed``."""
    rng = random.Random(seed)
    order = []
    for process in range(processes):
        round_ = list(range(configurations))
        rng.shuffle(round_)
        order += [(c, process) for c in round_]
    return order


def worker_env(threads: int, folder: Path, extra: dict | None = None) -> dict:
    """The environment of one worker process: thread counts, its own empty caches under ``folder``."""
    env = dict(os.environ)
    for var in UNSET_VARIABLES:
        env.pop(var, None)
    env.update({var: str(threads) for var in THREAD_VARIABLES})
    env["TF_NUM_INTEROP_THREADS"] = "1"
    for var, sub in CACHE_VARIABLES.items():
        (folder / sub).mkdir(parents=True, exist_ok=True)
        env[var] = str(folder / sub)
    env.update({"PYTHONHASHSEED": "0", "JAX_PLATFORMS": "cpu", "TF_CPP_MIN_LOG_LEVEL": "2",
                "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))})
    env.update(extra or {})
    return env


def _stop_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def run_process(argv: list[str], cpus: list[int], env: dict, cwd: Path, timeout: float) -> tuple[dict | None, str]:
    """Run one worker pinned to ``cpus``: (its result, '') or (None, why it failed)."""
    command = [sys.executable, "-m", "scripts.bench.harness", "--pin", format_cpu_list(cpus), "--", *argv]
    # A session of its own, so that a timeout stops the processes it started too.
    proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            errors="replace", start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _stop_group(proc)
        try:
            proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:  # a descendant left the group and holds the pipes open
            pass
        return None, f"timed out after {timeout:g} s and was killed"
    _stop_group(proc)  # whatever it left running
    found = [line[len(MARK):] for line in out.splitlines() if line.startswith(MARK)]
    if proc.returncode != 0 or not found:
        tail = [line.strip() for line in (err or out).splitlines() if line.strip()][-1:] or ["no output"]
        return None, f"exited with status {proc.returncode} without a result: {tail[0][:300]}"
    result = json.loads(found[-1])
    if result["worker"]["cpus"] != sorted(cpus):
        return None, f"ran on CPUs {format_cpu_list(result['worker']['cpus'])}, not the {format_cpu_list(cpus)} pinned"
    return result, ""


class Run:
    """One run of a benchmark script: its CPUs, its worker processes and their order, and the
    provenance of its rows. The machine is described when the run is created, before any work."""

    def __init__(self, script: str, packages: list[str], cpus: list[int], processes: int = 5, seed: int = 0,
                 timeout: float = 600, log: Callable[[str], None] = print):
        if processes < 1:
            raise SystemExit(f"{script}: --processes must be at least 1, got {processes}")
        from scripts.bench import provenance

        self.script, self.packages, self.cpus = script, packages, cpus
        self.processes, self.seed, self.timeout, self.log = processes, seed, timeout, log
        self.machine = provenance.machine()
        busy = float(self.machine["load_avg"].split()[0])
        quiet = 0.25 * (os.cpu_count() or 1)
        log(f"{script}: CPUs {format_cpu_list(cpus)} (SMT siblings {provenance.describe_siblings(cpus)}), "
            f"{processes} processes per configuration, order seed {seed}, timeout {timeout:g} s per process; "
            f"load average {self.machine['load_avg']}")
        if busy > quiet:
            log(f"  warning: the load average is {busy:.2f} before the run starts; other work on this machine "
                f"will slow the workers and widen the spread")

    @classmethod
    def from_args(cls, args: argparse.Namespace, script: str, packages: list[str], threads: int,
                  log: Callable[[str], None] = print) -> "Run":
        """A run from the options of ``add_arguments``; ``threads``: the most CPUs any job needs."""
        named = parse_cpu_list(args.cpus) if args.cpus else None
        processes = args.processes if args.processes is not None else (2 if getattr(args, "smoke", False) else 5)
        return cls(script, packages, choose_cpus(threads, named), processes, args.seed, args.timeout, log)

    def execute(self, jobs: list[Job], workdir: Path) -> list[Outcome]:
        """Every job in ``self.processes`` processes, in the seeded interleaved order. After a
        process of a job fails, that job's remaining processes are skipped."""
        too_wide = [job for job in jobs if job.width > len(self.cpus)]
        if too_wide:
            raise SystemExit(f"{self.script}: {too_wide[0].name} needs {too_wide[0].width} CPUs, but the run has "
                             f"{len(self.cpus)} ({format_cpu_list(self.cpus)})")
        outcomes = [Outcome(job) for job in jobs]
        order = schedule(len(jobs), self.processes, self.seed)
        for position, (index, process) in enumerate(order, start=1):
            outcome = outcomes[index]
            if outcome.failure:
                continue
            job, started = outcome.job, time.perf_counter()
            result, failure = self._run(job, workdir)
            where = f"process {process + 1} of {self.processes} (position {position} in the run)"
            if failure:
                outcome.failure = f"{where} {failure}"
                self.log(f"[{position}/{len(order)}] {job.name}: FAILED, {outcome.failure}")
                continue
            outcome.results.append(result)
            outcome.positions.append(position)
            self.log(f"[{position}/{len(order)}] {job.name}, process {process + 1}: "
                     f"{time.perf_counter() - started:.1f} s")
        return outcomes

    def once(self, job: Job, workdir: Path, timeout: float) -> dict:
        """One process of a job outside the measured order (preparing inputs, probing a device)."""
        result, failure = self._run(job, workdir, timeout)
        if failure:
            raise SystemExit(f"{self.script}: {job.name}: the process {failure}")
        return result

    def _run(self, job: Job, workdir: Path, timeout: float | None = None) -> tuple[dict | None, str]:
        folder = Path(tempfile.mkdtemp(prefix="worker-", dir=workdir))
        try:
            return run_process(job.argv, self.cpus[:job.width], worker_env(job.threads, folder, job.env), folder,
                               timeout or self.timeout)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def stop_on_failure(self, outcomes: list[Outcome], out: Path) -> None:
        """Stop the script, naming each job that failed, before anything is written to ``out``."""
        failed = [o for o in outcomes if o.failure]
        if failed:
            raise SystemExit("\n".join(
                [f"{self.script}: {len(failed)} of {len(outcomes)} configurations failed, so {out} was not written:"]
                + [f"  {o.job.name}: {o.failure}" for o in failed]))

    def provenance(self, outcome: Outcome | None, threads: int | None = None) -> dict:
        """The provenance columns of a row measured by ``outcome``'s processes. Without an outcome
        (a row that no process measured), only what the parent knows."""
        from scripts.bench import provenance

        row = {**self.machine, "script": self.script, "order_seed": self.seed}
        if outcome is None or not outcome.results:
            return {**row, "threads": threads, "versions": provenance.versions(self.packages), "processes": 0}
        cpus = self.cpus[:outcome.job.width]
        workers = [r["worker"] for r in outcome.results]
        return {**row, "threads": outcome.job.threads, "cpu_list": format_cpu_list(cpus),
                "smt_siblings": provenance.describe_siblings(cpus), "governor": provenance.governor(cpus),
                "versions": " | ".join(dict.fromkeys(w["versions"] for w in workers)),
                "blas": " | ".join(dict.fromkeys(w["blas"] for w in workers)),
                "processes": len(outcome.results), "process_order": " ".join(str(p) for p in outcome.positions)}


def add_arguments(parser: argparse.ArgumentParser, timeout: float) -> None:
    """The options every benchmark script shares."""
    group = parser.add_argument_group("harness (see scripts/bench/harness.py)")
    group.add_argument("--processes", type=int, help="independent worker processes per configuration "
                       "(default 5; 2 with --smoke)")
    group.add_argument("--seed", type=int, default=0, help="seed of the randomised process order (default 0)")
    group.add_argument("--timeout", type=float, default=timeout,
                       help=f"seconds a worker process may run before it is killed and its row fails "
                            f"(default {timeout:g})")
    group.add_argument("--cpus", help="CPUs to pin the workers to, e.g. 0,1 or 2-3 (default: from the affinity "
                       "mask, one per physical core first)")
    group.add_argument("--min-time", type=float, help="minimum measured seconds per row in each process "
                       "(default: the script's)")


def main(argv: list[str] | None = None) -> int:
    """The launcher: pin this process, then become the worker command (exec keeps the pinning)."""
    parser = argparse.ArgumentParser(description="Run COMMAND pinned to the given CPUs.")
    parser.add_argument("--pin", required=True, help="CPU list, e.g. 0,1")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given after --")
    os.sched_setaffinity(0, parse_cpu_list(args.pin))
    os.execvp(command[0], command)
    return 1  # not reached: exec replaces this process


if __name__ == "__main__":
    sys.exit(main())
