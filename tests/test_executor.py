"""The executor against small fixture notebooks, run in a light kernel (the test's own Python)."""

import json
import sys

import nbformat
import pytest

from scripts import executor
from scripts.errors import BuildError


@pytest.fixture
def ws(tmp_path):
    """A workspace with one environment, 'test', whose kernel is this Python."""
    (tmp_path / "requirements").mkdir()
    (tmp_path / "requirements" / "test.lock").write_text("ipykernel==7.4.0\n")
    spec = tmp_path / ".venvs" / "test" / "share" / "jupyter" / "kernels" / "fieldguide-test"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "test", "language": "python"}))
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "data.txt").write_text("21\n")
    return executor.Workspace(tmp_path, tmp_path / ".cache")


def write(ws, name, cells, **meta):
    nb = nbformat.v4.new_notebook()
    nb.metadata["fieldguide"] = {"env": "test", "inputs": [], **meta}
    nb.cells = [nbformat.v4.new_markdown_cell(c[3:]) if c.startswith("md:") else nbformat.v4.new_code_cell(c)
                for c in cells]
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.source.startswith("# raises"):
            cell.metadata["tags"] = ["raises-exception"]
    path = ws.root / "notebooks" / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path


def build(ws, *paths, **kwargs):
    """Plan and execute like the site build; return (ids executed, plan)."""
    todo = executor.plan([executor.Notebook.read(p) for p in paths], ws)
    ran = [nb.id for nb in todo.stale]
    executor.execute_stale(todo, ws, jobs=2, log=lambda _: None, **kwargs)
    executor.prune(todo, ws)
    return ran, todo


def outputs(todo, notebook_id):
    nb = nbformat.read(todo.fresh[notebook_id], as_version=4)
    return ["".join(o.get("text", "") for o in c.outputs) for c in nb.cells if c.cell_type == "code"]


def test_executes_then_hits_the_cache(ws):
    a = write(ws, "a", ["md:# A", "x = 21", "print(x * 2)"])
    b = write(ws, "b", ["print('b')"])
    ran, todo = build(ws, a, b)
    assert sorted(ran) == ["a", "b"]
    assert outputs(todo, "a")[1] == "42\n"
    stamp = nbformat.read(todo.fresh["a"], as_version=4).metadata.fieldguide["execution"]
    assert stamp["env"] == "test" and stamp["cores"] >= 1 and stamp["python"]
    ran, _ = build(ws, a, b)
    assert ran == []


def test_code_edit_reexecutes_only_that_notebook(ws):
    a = write(ws, "a", ["print(1)"])
    b = write(ws, "b", ["print(2)"])
    build(ws, a, b)
    write(ws, "a", ["print(10)"])
    ran, todo = build(ws, a, b)
    assert ran == ["a"]
    assert outputs(todo, "a") == ["10\n"]
    assert len(list(ws.executed.glob("a.*.ipynb"))) == 1, "the old entry is pruned"


def test_markdown_edit_does_not_reexecute_but_shows(ws):
    a = write(ws, "a", ["md:# Old title", "print(1)"])
    build(ws, a)
    write(ws, "a", ["md:# New title", "print(1)"])
    ran, todo = build(ws, a)
    assert ran == []
    source = executor.Notebook.read(a).nb
    merged = executor.merge(source, nbformat.read(todo.fresh["a"], as_version=4))
    assert merged.cells[0].source == "# New title"
    assert merged.cells[1].outputs[0]["text"] == "1\n"


def test_input_file_and_lock_file_changes_reexecute(ws):
    a = write(ws, "a", ["print(open('%s').read())" % (ws.root / "data.txt")], inputs=["data.txt"])
    b = write(ws, "b", ["print(2)"])
    build(ws, a, b)
    (ws.root / "data.txt").write_text("22\n")
    ran, todo = build(ws, a, b)
    assert ran == ["a"] and outputs(todo, "a") == ["22\n\n"]
    (ws.root / "requirements" / "test.lock").write_text("ipykernel==7.4.1\n")
    ran, _ = build(ws, a, b)
    assert sorted(ran) == ["a", "b"]


def test_failing_cell_names_notebook_cell_line_and_exception(ws):
    a = write(ws, "bad", ["md:# Bad", "x = 1", "y = 2\nz = x / 0\nprint(z)"])
    with pytest.raises(BuildError) as err:
        build(ws, a)
    first_lines = "\n".join(str(err.value).splitlines()[:4])
    assert "notebooks/bad.ipynb" in first_lines
    assert "cell 3, line 2: z = x / 0" in first_lines
    assert "ZeroDivisionError: division by zero" in first_lines


def test_tagged_cell_may_raise(ws):
    a = write(ws, "a", ["# raises on purpose\n1 / 0", "print('after')"])
    _, todo = build(ws, a)
    nb = nbformat.read(todo.fresh["a"], as_version=4)
    assert nb.cells[0].outputs[0].output_type == "error"
    assert nb.cells[1].outputs[0]["text"] == "after\n"


def test_cell_timeout_is_named(ws):
    a = write(ws, "slow", ["print(1)", "import time\ntime.sleep(30)"])
    with pytest.raises(BuildError, match=r"notebooks/slow.ipynb: cell 2: timed out \(the per-cell limit of 2 s\)"):
        build(ws, a, cell_timeout=2)


def test_notebook_timeout_is_named(ws):
    a = write(ws, "slow", ["import time\ntime.sleep(1.5)", "time.sleep(1.5)", "time.sleep(30)"], timeout=3)
    with pytest.raises(BuildError, match=r"cell \d: timed out \(the notebook's limit of 3 s\)"):
        build(ws, a)


def test_unknown_environment_is_named(ws):
    a = write(ws, "a", ["print(1)"], env="gpu")
    with pytest.raises(BuildError, match=r"environment 'gpu' has no lock file requirements/gpu.lock; known environments: test"):
        build(ws, a)


def test_environment_without_kernel_is_named(ws):
    (ws.root / "requirements" / "other.lock").write_text("x\n")
    a = write(ws, "a", ["print(1)"], env="other")
    with pytest.raises(BuildError, match=r"environment 'other' is not set up .*make env-other"):
        build(ws, a)


def test_missing_environment_declaration_is_named(ws):
    path = ws.root / "notebooks" / "a.ipynb"
    nbformat.write(nbformat.v4.new_notebook(), path)
    with pytest.raises(BuildError, match=r"a.ipynb: metadata.fieldguide is missing"):
        executor.Notebook.read(path)


def test_kernels_get_offline_settings_and_build_caches(ws):
    a = write(ws, "a", ["import os\nprint(os.environ['HF_HUB_OFFLINE'], os.environ['TORCHINDUCTOR_CACHE_DIR'])"])
    _, todo = build(ws, a)
    offline, cache = outputs(todo, "a")[0].split()
    assert offline == "1"
    assert cache.startswith(str(ws.cache))
