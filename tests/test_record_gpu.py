"""The GPU recorder, run here without a GPU: recipes parse and compile, cells execute like a
notebook's, and recorded rows validate against the GPU series' schema."""

import nbformat
import pytest

from scripts.bench import provenance
from scripts.gpu import record
from scripts.site.errors import BuildError
from tests.conftest import ROOT


def test_dry_run_writes_valid_notebooks_for_every_recipe(tmp_path):
    assert record.main(["--out", str(tmp_path), "--dry-run"]) == 0
    recipes = sorted(p.stem.replace("_", "-") for p in record.RECIPES.glob("*.py"))
    assert recipes, "no recipes"
    for name in recipes:
        nb = nbformat.read(tmp_path / f"{name}.ipynb", as_version=4)
        nbformat.validate(nb)
        assert nb.metadata.fieldguide["part"] and nb.metadata.fieldguide["recorded"]["command"]
        assert nb.cells[0].source.startswith("# ")


def test_cells_run_like_a_notebook():
    namespace = {}
    outputs, failed = record.run_cell("x = 6\nprint('hello')\nx * 7", namespace)
    assert not failed
    assert outputs[0] == {"output_type": "stream", "name": "stdout", "text": "hello\n"}
    assert outputs[1]["data"]["text/plain"] == "42"
    outputs, failed = record.run_cell("1 / 0", namespace)
    assert failed and outputs[-1]["ename"] == "ZeroDivisionError"


def test_a_failing_recipe_stops_the_recording(tmp_path, monkeypatch):
    recipe = tmp_path / "broken_gpu.py"
    recipe.write_text("# part: compilers\n# %% [markdown]\n# # Broken\n# %%\nprint('a')\n# %%\nundefined_name\n")
    monkeypatch.setattr(record, "provenance", lambda command: {})
    with pytest.raises(SystemExit, match=r"broken_gpu.py, cell 3: NameError"):
        record.record(recipe, tmp_path, False, "cmd", [], tmp_path / "work")


def test_recorded_rows_must_match_the_schema(tmp_path):
    path = tmp_path / "gpu-bench.csv"
    (tmp_path / "gpu-bench.schema.yaml").write_text((ROOT / "docs/data/gpu-bench.schema.yaml").read_text())
    run = {"cpu": "x", "cores": 16, "threads": 16, "versions": "torch=2", "date": "2026-11-26",
           "script": "scripts/gpu/record.py", "commit": "abc"}
    row = {"notebook": "cuda-gpu", "benchmark": "b", "implementation": "i", "size": "1", "device": "NVIDIA H200",
           "time": 1.5, "time_q1": 1.4, "time_q3": 1.6}
    provenance.write_csv(path, [{**row, **run}])
    assert path.read_text().startswith("notebook,benchmark,implementation,size,device,time [ms],")
    with pytest.raises(BuildError, match=r"row 2, field 'time'"):
        provenance.write_csv(path, [{**row, "time": "fast", **run}])
