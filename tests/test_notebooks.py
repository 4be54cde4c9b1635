"""Committed notebooks: CPU ones without outputs, recorded ones with outputs and provenance."""

import json

import nbformat
import pytest

from scripts.site import executor
from scripts.site.registry import load_registry
from tests.conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
REGISTRY = load_registry(ROOT / "docs" / "data")
PROVENANCE = ("gpu", "driver", "cuda", "python", "packages", "date", "command")


def read(path):
    return executor.Notebook.read(path)


def kinds(recorded: bool):
    return [p for p in NOTEBOOKS if bool(read(p).recorded) == recorded]


def test_there_are_notebooks_of_both_kinds():
    assert kinds(False) and kinds(True)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_cell_has_an_id(path):
    """nbformat gives a cell without an id a random one when it reads it, and the notebook's page
    would then change from one build to the next."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    missing = [number for number, cell in enumerate(cells, start=1) if "id" not in cell]
    assert not missing, f"{path.name}: cells {missing} have no id; saving the notebook in Jupyter adds them"


@pytest.mark.parametrize("path", kinds(False), ids=lambda p: p.stem)
def test_cpu_notebook_is_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    for number, cell in enumerate(nb.cells, start=1):
        if cell.cell_type == "code":
            assert not cell.outputs, f"{path.name}, cell {number} has outputs: clear them before committing"
            assert cell.execution_count is None, f"{path.name}, cell {number} has an execution count"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_declares_where_it_runs_and_belongs(path):
    notebook = read(path)
    assert notebook.id in REGISTRY.tools or notebook.part in REGISTRY.parts, (
        f"{path.name}: name it after a registry tool id, or declare metadata.fieldguide.part")
    if not notebook.recorded:
        assert (ROOT / "requirements" / f"{notebook.env}.lock").is_file(), f"{path.name}: unknown env {notebook.env}"
        for name in notebook.inputs:
            assert (ROOT / name).is_file(), f"{path.name}: declared input {name} is missing"
    first = notebook.nb.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# "), f"{path.name}: start with a # title"


@pytest.mark.parametrize("path", kinds(True), ids=lambda p: p.stem)
def test_recorded_notebook_has_outputs_provenance_and_no_errors(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    recorded = nb.metadata.fieldguide["recorded"]
    missing = [key for key in PROVENANCE if not recorded.get(key)]
    assert not missing, f"{path.name}: provenance lacks {missing}"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.outputs for c in code), f"{path.name}: a code cell has no output"
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors, f"{path.name}: recorded with an error: {errors[0].ename}"
