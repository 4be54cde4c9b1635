"""The framework benchmark: the Rosetta implementations share one interface, the line counter
counts code only, and a smoke run writes a CSV that validates against its schema."""

import ast
import sys

import pytest

from scripts.bench.frameworks import DEFAULT_OUT, ROSETTA, RUNS, count_loc
from scripts.site.datafiles import read_csv
from scripts.site.datasets import PROVENANCE_FIELDS, load_schema
from tests.bench_checks import check_provenance, check_spread, check_timeout_reported
from tests.conftest import run_smoke

SIGNATURE = ["X_train", "y_train", "X_test", "y_test", "epochs", "seed"]


@pytest.mark.parametrize("impl", sorted({impl for impl, _ in RUNS.values()}))
def test_every_implementation_exposes_the_same_train_function(impl):
    path = ROSETTA / f"{impl}_mlp.py"
    tree = ast.parse(path.read_text())
    [train] = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "train"]
    assert [a.arg for a in train.args.args] == SIGNATURE, path
    assert [ast.literal_eval(d) for d in train.args.defaults] == [20, 0], path
    assert 'if __name__ == "__main__":' in path.read_text(), f"{path} cannot be run as a script"


def test_count_loc_skips_docstrings_comments_blank_lines_and_the_main_block(tmp_path):
    source = tmp_path / "x_mlp.py"
    source.write_text(
        '"""Module docstring\nover two lines."""\n'
        "import os  # a comment\n"
        "\n"
        "# a whole-line comment\n"
        "def f(a,\n"
        "      b):\n"
        '    """Docstring."""\n'
        "    return (a +\n"
        "            b)\n"
        "\n"
        'if __name__ == "__main__":\n'
        "    print(f(1, 2))\n"
    )
    assert count_loc(source) == 5  # import, two lines of def, two lines of return


def test_smoke_run_writes_a_valid_csv(tmp_path):
    out = tmp_path / "framework-bench.csv"
    frameworks = ["PyTorch", "JAX + Flax"]
    proc = run_smoke("scripts.bench.frameworks", out, "--frameworks", *frameworks, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    fields, key, _ = load_schema(DEFAULT_OUT.with_suffix(".schema.yaml"))
    table = read_csv(out, fields + PROVENANCE_FIELDS, key)
    assert [(r["framework"], r["setting"]) for r in table.rows] == [(f, "1 thread") for f in frameworks]
    for row in table.rows:
        assert row["epochs"] == 2 and row["threads"] == 1
        assert 0.0 < row["accuracy"] <= 1.0
        assert row["import_time"] > 0 and row["first_epoch"] > 0 and row["epoch_time"] > 0
        assert row["epoch_time_q1"] <= row["epoch_time"] <= row["epoch_time_q3"]
        assert row["latency_b1_q1"] <= row["latency_b1"] <= row["latency_b1_q3"]
        check_spread(row, "import_time", "first_epoch", "epoch_time", "latency_b1", "latency_b256")
        assert row["latency_b1_calls"] >= 2 * 3 and row["latency_b256_calls"] >= 2 * 3  # 2 processes, 3 calls
        assert row["peak_rss"] > 50
        assert row["loc"] == count_loc(ROSETTA / f"{RUNS[row['framework']][0]}_mlp.py") > 10
        assert row["script"] == "scripts/bench/frameworks.py"
        check_provenance(row, processes=2, threads=1)
    assert table.rows[0]["epoch_vs_pytorch"] == 1.0
    assert "jax" in table.rows[1]["loaded"]
    assert "torch: " in table.rows[0]["blas"], "the PyTorch workers report PyTorch's BLAS"


def test_a_worker_timeout_fails_its_row_and_writes_nothing(tmp_path):
    out = tmp_path / "framework-bench.csv"
    proc = run_smoke("scripts.bench.frameworks", out, "--frameworks", "PyTorch", "--timeout", "0.3", timeout=300)
    check_timeout_reported(proc, out, "PyTorch, 1 thread(s)", "0.3")


def test_committed_data_covers_every_framework_and_setting():
    fields, key, _ = load_schema(DEFAULT_OUT.with_suffix(".schema.yaml"))
    table = read_csv(DEFAULT_OUT, fields + PROVENANCE_FIELDS, key)
    assert {(r["framework"], r["setting"]) for r in table.rows} == {
        (f, s) for f in RUNS for s in ("1 thread", "2 threads")}
    assert all(r["accuracy"] > 0.9 for r in table.rows)
    measured = [r for r in table.rows if r["processes"]]
    assert measured in ([], table.rows), "one run writes the file: every row has the harness's columns, or none"
    for row in measured:
        check_spread(row, "import_time", "first_epoch", "epoch_time", "latency_b1", "latency_b256")
        assert row["processes"] >= 3 and row["cpu_list"] and row["blas"]


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
