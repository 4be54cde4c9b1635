"""The executor against small fixture notebooks, run in a light kernel (the test's own Python)."""

import json
import os
import sys
import threading

import nbformat
import pytest

from scripts.site import environments, executor
from scripts.site.errors import BuildError

KERNEL_ARGV = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]


def add_env(root, name, argv=KERNEL_ARGV):
    """An environment whose kernel is this Python (or ``argv``), installed as the Makefile records it."""
    (root / "requirements").mkdir(exist_ok=True)
    (root / "requirements" / f"{name}.lock").write_text("ipykernel==7.4.0\n")
    spec = root / ".venvs" / name / "share" / "jupyter" / "kernels" / f"fieldguide-{name}"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": name, "language": "python"}))
    (root / ".venvs" / name / "bin").mkdir()
    (root / ".venvs" / name / "bin" / "python").symlink_to(sys.executable)
    environments.record(root, name)


@pytest.fixture
def ws(tmp_path):
    """A workspace with one environment, 'test', whose kernel is this Python."""
    add_env(tmp_path, "test")
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
    environments.record(ws.root, "test")  # what `make env-test` does after a lock change
    ran, _ = build(ws, a, b)
    assert sorted(ran) == ["a", "b"]


def test_environment_installed_from_an_older_lock_is_refused(ws):
    a = write(ws, "a", ["print(1)"])
    (ws.root / "requirements" / "test.lock").write_text("ipykernel==7.4.1\n")
    with pytest.raises(BuildError, match=r"notebooks/a.ipynb: environment 'test' was installed from an older "
                                         r"requirements/test.lock; rebuild it with `make env-test`"):
        build(ws, a)
    assert not ws.executed.exists() or not list(ws.executed.glob("a.*")), "nothing is cached under the new key"


def test_interpreter_packages_and_executor_constants_are_keyed(ws, monkeypatch):
    a = write(ws, "a", ["print(1)"], packages=["ipykernel"])
    build(ws, a)
    record = environments.venv(ws.root, "test") / environments.RECORD
    entry = json.loads(record.read_text())
    record.write_text(json.dumps({**entry, "python": "3.99.0"}))
    assert build(ws, a)[0] == ["a"], "another interpreter version re-executes"
    write(ws, "a", ["print(1)"], packages=["ipykernel", "nbformat"])
    assert build(ws, a)[0] == ["a"], "another packages list re-executes"
    monkeypatch.setitem(executor.OFFLINE_ENV, "SOME_TOOL_OFFLINE", "1")
    assert build(ws, a)[0] == ["a"], "a change to what the executor gives kernels re-executes"
    assert build(ws, a)[0] == []


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


def test_kernels_inherit_only_allowed_variables(ws, monkeypatch):
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    monkeypatch.setenv("PYTHONPATH", "/somewhere")
    monkeypatch.setenv("LANG", "C.UTF-8")
    env = executor.kernel_env(ws, threads=1)
    assert "KERAS_BACKEND" not in env and "PYTHONPATH" not in env
    assert env["LANG"] == "C.UTF-8" and env["PATH"] == os.environ["PATH"]


def test_undeclared_repository_module_fails_naming_it(ws):
    (ws.root / "helpers.py").write_text("ANSWER = 42\n")
    code = f"import sys\nsys.path.insert(0, {str(ws.root)!r})\nimport helpers\nprint(helpers.ANSWER)"
    a = write(ws, "a", [code])
    with pytest.raises(BuildError, match=r"notebooks/a.ipynb: imports helpers.py from the repository without declaring"):
        build(ws, a)
    write(ws, "a", [code], inputs=["helpers.py"])
    _, todo = build(ws, a)
    assert outputs(todo, "a") == ["42\n"]


def test_kernel_that_dies_before_its_first_cell_is_named(ws):
    add_env(ws.root, "dead", argv=[sys.executable, "-c", "import sys; sys.exit(3)"])
    a = write(ws, "a", ["print(1)"], env="dead")
    with pytest.raises(BuildError, match=r"notebooks/a.ipynb: the kernel 'fieldguide-dead' died before running "
                                         r"the first cell .*`make env-dead`"):
        build(ws, a)


def test_two_builds_at_once_keep_their_own_work_folders(ws):
    a = write(ws, "a", ["open('mine', 'w').close()", "import time\ntime.sleep(2)", "import os\nassert os.path.exists('mine')"])
    other = executor.Workspace(ws.root, ws.cache)
    errors = []

    def one_build():
        try:
            executor.execute_stale(executor.plan([executor.Notebook.read(a)], other), other, jobs=1, log=lambda _: None)
        except BuildError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=one_build) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors[0]
    assert not list((ws.cache / "tools" / "run").iterdir()), "work folders are removed after use"


def test_exclusive_notebook_runs_alone_after_the_others(ws):
    stamp = "import time\nprint(time.time())"
    a = write(ws, "a", [stamp, "time.sleep(1)\nprint(time.time())"])
    b = write(ws, "b", [stamp, "time.sleep(1)\nprint(time.time())"])
    x = write(ws, "x", [stamp], exclusive=True)
    _, todo = build(ws, x, a, b)
    ends = [float(outputs(todo, name)[1]) for name in ("a", "b")]
    assert float(outputs(todo, "x")[0]) >= max(ends)


def test_two_shards_cover_what_one_build_executes(ws, tmp_path_factory):
    paths = [write(ws, name, [f"print({i})"]) for i, name in enumerate("abcde")]
    notebooks = [executor.Notebook.read(p) for p in paths]
    one = executor.Workspace(ws.root, tmp_path_factory.mktemp("one"))
    build(one, *paths)
    merged = executor.Workspace(ws.root, tmp_path_factory.mktemp("merged"))
    shares = []
    for index in (1, 2):
        shard = executor.Workspace(ws.root, tmp_path_factory.mktemp(f"shard{index}"))
        todo = executor.plan(notebooks, shard)
        share = executor.share(todo.stale, index, 2)
        shares.append({nb.id for nb in share})
        executor.execute_stale(todo, shard, jobs=2, log=lambda _: None, only=share)
        merged.executed.mkdir(parents=True, exist_ok=True)
        for entry in shard.executed.glob("*.ipynb"):
            (merged.executed / entry.name).write_bytes(entry.read_bytes())
    assert shares[0].isdisjoint(shares[1]) and shares[0] | shares[1] == set("abcde")
    assert sorted(p.name for p in merged.executed.glob("*.ipynb")) == sorted(p.name for p in one.executed.glob("*.ipynb"))
    assert not executor.plan(notebooks, merged).stale, "after the merge, a build executes nothing"


def test_jobs_and_threads_follow_the_affinity_mask():
    allowed = os.sched_getaffinity(0)
    try:
        os.sched_setaffinity(0, {min(allowed)})
        assert executor.usable_cpus() == 1
    finally:
        os.sched_setaffinity(0, allowed)


def test_kernels_get_offline_settings_and_build_caches(ws):
    a = write(ws, "a", ["import os\nprint(os.environ['HF_HUB_OFFLINE'], os.environ['TORCHINDUCTOR_CACHE_DIR'])"])
    _, todo = build(ws, a)
    offline, cache = outputs(todo, "a")[0].split()
    assert offline == "1"
    assert cache.startswith(str(ws.cache))


def test_workers_start_when_the_repository_has_left_sys_path(ws, tmp_path_factory):
    """As under MkDocs, which loads the hook with the repository on sys.path and then restores sys.path."""
    import subprocess
    from tests.conftest import ROOT

    a = write(ws, "a", ["print(6 * 7)"])
    script = (f"import sys\nfrom pathlib import Path\n"
              f"if __name__ == '__main__':\n"
              f"    sys.path.insert(0, {str(ROOT)!r})\n"
              f"    from scripts.site import executor\n"
              f"    sys.path.remove({str(ROOT)!r})\n"
              f"    ws = executor.Workspace(Path({str(ws.root)!r}), Path({str(ws.cache)!r}))\n"
              f"    todo = executor.plan([executor.Notebook.read(Path({str(a)!r}))], ws)\n"
              f"    executor.execute_stale(todo, ws, jobs=1, log=print)\n")
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    (elsewhere / "build.py").write_text(script)  # a main module, as the mkdocs command is
    result = subprocess.run([sys.executable, "build.py"], cwd=elsewhere, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "executed notebook a" in result.stdout
