"""The benchmark harness: its quantiles and summaries, the interleaved order, the choice of CPUs and
the refusal of too many threads, the timing loop, and worker processes that are pinned, report
back, fail or hang."""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from pathlib import Path

import pytest

from scripts.bench import harness, provenance
from scripts.bench.harness import (
    Job,
    Run,
    choose_cpus,
    quantile,
    schedule,
    summarise,
    ties,
    time_calls,
)

ALLOWED = sorted(os.sched_getaffinity(0))


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def emitting(result: str = "{}") -> list[str]:
    return python(f"from scripts.bench.harness import emit; emit({result}, [])")


@pytest.fixture
def run(tmp_path) -> Run:
    return Run("scripts/bench_test.py", ["pytest"], ALLOWED[:1], processes=2, seed=3, timeout=60,
               log=lambda line: None)


# ---------------------------------------------------------------------------------------------
# Statistics

@pytest.mark.parametrize("q, expected", [(0.0, 1.0), (0.25, 1.75), (0.5, 2.5), (0.9, 3.7), (1.0, 4.0)])
def test_quantile_interpolates_linearly_between_order_statistics(q, expected):
    # (n - 1) q = 0.75 for q = 0.25: three quarters of the way from the first to the second value
    assert quantile([4.0, 2.0, 1.0, 3.0], q) == pytest.approx(expected)


def test_quantile_agrees_with_the_standard_librarys_inclusive_method():
    rng = random.Random(1)
    samples = [rng.lognormvariate(0, 1) for _ in range(37)]
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    assert [quantile(samples, p / 100) for p in range(1, 100)] == pytest.approx(cuts)


@pytest.mark.parametrize("samples, q", [([], 0.5), ([1.0], 1.5), ([1.0], -0.1)])
def test_quantile_refuses_no_samples_and_out_of_range(samples, q):
    with pytest.raises(ValueError):
        quantile(samples, q)


def test_summary_is_the_median_over_processes_of_each_statistic_with_the_spread_between_them():
    s = summarise([[1.0, 2.0, 3.0], [10.0, 20.0, 30.0], [4.0, 5.0, 6.0]])
    assert s.median == 5.0                      # the medians are 2, 20 and 5
    assert (s.low, s.high) == (2.0, 20.0)       # lowest and highest per-process median
    assert s.q1 == 4.5 and s.q3 == 5.5          # per-process quartiles 1.5/15/4.5 and 2.5/25/5.5
    assert (s.minimum, s.maximum, s.processes, s.samples) == (1.0, 30.0, 3, 9)
    assert s.scaled(1000).median == 5000.0 and s.scaled(1000).processes == 3


def test_summary_refuses_a_process_without_samples():
    with pytest.raises(ValueError, match="every process"):
        summarise([[1.0], []])


def test_overlapping_spreads_are_equal_and_separate_ones_are_not():
    assert harness.equal_within_spread((1.0, 2.0), (2.0, 3.0))  # touching ends overlap
    assert not harness.equal_within_spread((1.0, 2.0), (2.5, 3.0))
    assert ties({"a": (1.0, 2.0), "b": (1.5, 2.5), "c": (3.0, 4.0)}) == {"a": ["b"], "b": ["a"], "c": []}


# ---------------------------------------------------------------------------------------------
# Order

def test_schedule_runs_every_configuration_once_per_round_in_a_seeded_shuffled_order():
    order = schedule(6, 4, seed=7)
    rounds = [order[i:i + 6] for i in range(0, 24, 6)]
    for number, round_ in enumerate(rounds):
        assert sorted(c for c, _ in round_) == list(range(6))
        assert {p for _, p in round_} == {number}
    assert len({tuple(c for c, _ in r) for r in rounds}) > 1, "the order changes between rounds"
    assert schedule(6, 4, seed=7) == order
    assert schedule(6, 4, seed=8) != order


# ---------------------------------------------------------------------------------------------
# CPUs

def test_more_threads_than_the_affinity_mask_allows_are_refused():
    with pytest.raises(SystemExit) as err:
        choose_cpus(len(ALLOWED) + 1)
    message = str(err.value)
    assert f"{len(ALLOWED) + 1} threads asked for" in message
    assert f"the affinity mask allows only {len(ALLOWED)} CPU" in message
    assert harness.format_cpu_list(ALLOWED) in message


def test_named_cpus_must_be_in_the_mask_and_enough_for_the_threads():
    outside = max(ALLOWED) + 1
    with pytest.raises(SystemExit, match=rf"CPU {outside} named by --cpus is not in this process's affinity mask"):
        choose_cpus(1, [outside])
    with pytest.raises(SystemExit, match=r"2 threads asked for, but --cpus names only 1 CPU"):
        choose_cpus(2, ALLOWED[:1])
    assert choose_cpus(1, ALLOWED[-1:]) == ALLOWED[-1:]


def test_default_cpus_take_one_logical_cpu_per_core_before_smt_siblings(monkeypatch):
    cores = {0: "0-1", 1: "0-1", 2: "2-3", 3: "2-3"}  # two cores with two threads each
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})
    monkeypatch.setattr(provenance, "smt_siblings", lambda cpu: cores[cpu])
    assert choose_cpus(2) == [0, 2]
    assert choose_cpus(4) == [0, 2, 1, 3]


def test_cpu_lists_parse_like_the_kernels():
    assert harness.parse_cpu_list("0-2,5") == [0, 1, 2, 5]
    with pytest.raises(SystemExit, match="not a CPU list"):
        harness.parse_cpu_list("first")


# ---------------------------------------------------------------------------------------------
# Timing loop

def test_time_calls_warms_up_then_measures_at_least_the_minimum_time():
    calls = []

    def nap():
        calls.append(1)
        time.sleep(0.005)
    samples = time_calls(nap, min_time=0.05, min_calls=2, warmup_calls=3)
    assert sum(samples) >= 0.05 and len(samples) >= 2
    assert len(calls) == len(samples) + 3
    assert all(s >= 0.005 for s in samples)


def test_time_calls_makes_at_least_the_minimum_number_of_calls():
    assert len(time_calls(lambda: None, min_time=0.0, min_calls=7, warmup_calls=0)) == 7


# ---------------------------------------------------------------------------------------------
# Worker processes

def test_workers_are_pinned_and_get_thread_and_cache_settings(run, tmp_path, monkeypatch):
    code = ("import os; from scripts.bench.harness import emit; "
            "emit({'omp': os.environ['OMP_NUM_THREADS'], 'tmp': os.environ['TMPDIR'], 'jax_cache': "
            "os.environ.get('JAX_COMPILATION_CACHE_DIR')}, ['pytest'])")
    monkeypatch.setenv("JAX_COMPILATION_CACHE_DIR", str(tmp_path / "shared-cache"))
    [outcome] = run.execute([Job("probe", python(code), threads=1)], tmp_path)
    assert outcome.failure is None and len(outcome.results) == 2
    first, second = outcome.results
    assert first["worker"]["cpus"] == ALLOWED[:1]
    assert first["omp"] == "1" and first["jax_cache"] is None
    assert first["tmp"] != second["tmp"] and Path(first["tmp"]).is_relative_to(tmp_path)
    assert not Path(first["tmp"]).exists(), "each process's folder is removed after it"
    assert "pytest=" in first["worker"]["versions"]


def test_a_hung_worker_fails_its_row_and_the_run_goes_on(tmp_path):
    # The hung worker starts a child of its own: the timeout must stop it too.
    pid_file = tmp_path / "child.pid"
    hang = ("import subprocess, sys, time; child = subprocess.Popen([sys.executable, '-c', "
            "'import time; time.sleep(120)']); "
            f"open({str(pid_file)!r}, 'w').write(str(child.pid)); time.sleep(120)")
    run = Run("scripts/bench_test.py", [], ALLOWED[:1], processes=2, seed=0, timeout=3, log=lambda line: None)
    started = time.monotonic()
    good, hung = run.execute([Job("good", emitting(), 1), Job("hung", python(hang), 1)], tmp_path)
    assert time.monotonic() - started < 60
    assert good.failure is None and len(good.results) == 2
    assert hung.failure and "timed out after 3 s and was killed" in hung.failure
    assert hung.failure.startswith("process 1 of 2 (position ")
    assert hung.results == [], "the second process of a failed configuration is not started"
    child = int(pid_file.read_text())
    status = Path(f"/proc/{child}/status")
    deadline = time.monotonic() + 10
    while status.exists() and "State:\tZ" not in status.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not status.exists() or "State:\tZ" in status.read_text(), "the hung worker's child still runs"
    with pytest.raises(SystemExit) as stopped:
        run.stop_on_failure([good, hung], tmp_path / "x.csv")
    report = str(stopped.value)
    assert "1 of 2 configurations failed" in report and "x.csv was not written" in report
    assert "  hung: process 1 of 2" in report
    run.stop_on_failure([good], tmp_path / "x.csv")


def test_a_worker_that_exits_without_a_result_fails_with_its_last_error_line(run, tmp_path):
    [outcome] = run.execute([Job("broken", python("import sys; sys.exit('the model file is missing')"), 1)],
                            tmp_path)
    assert outcome.failure.endswith("exited with status 1 without a result: the model file is missing")


def test_a_job_wider_than_the_run_is_refused(run, tmp_path):
    with pytest.raises(SystemExit, match=r"wide needs 2 CPUs, but the run has 1"):
        run.execute([Job("wide", emitting(), threads=1, cpus=2)], tmp_path)


def test_rows_carry_the_pinning_order_and_machine_provenance(run, tmp_path):
    a, b = run.execute([Job("a", emitting(), 1), Job("b", emitting(), 1)], tmp_path)
    record = run.provenance(a)
    cpu = ALLOWED[0]
    assert record["cpu_list"] == str(cpu) and record["smt_siblings"].startswith(f"{cpu}:")
    assert record["processes"] == 2 and record["order_seed"] == 3 and record["threads"] == 1
    positions = [int(p) for p in record["process_order"].split()]
    assert sorted(positions + b.positions) == [1, 2, 3, 4] and positions[0] in (1, 2) and positions[1] in (3, 4)
    assert len(record["load_avg"].split()) == 3 and record["kernel"] and record["cpu_flags"]
    assert record["blas"] and record["versions"].startswith("python=")
    assert record["script"] == "scripts/bench_test.py" and record["governor"]
    unmeasured = run.provenance(None, threads=1)
    assert unmeasured["processes"] == 0 and "cpu_list" not in unmeasured


def test_every_provenance_column_is_declared():
    from scripts.site.datasets import PROVENANCE_FIELDS

    declared = {f.name for f in PROVENANCE_FIELDS}
    run = Run("scripts/bench_test.py", [], ALLOWED[:1], processes=1, log=lambda line: None)
    outcome = harness.Outcome(Job("x", [], 1), results=[{"worker": {"versions": "v", "blas": "b"}}],
                                    positions=[1])
    assert set(run.provenance(outcome)) == declared
