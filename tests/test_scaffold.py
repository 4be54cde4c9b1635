"""`make new-tool` creates a registry entry, a page and a notebook that build at once."""

import os
import shutil

import pytest

from scripts.new_tool import scaffold
from tests.conftest import ROOT, run_build


@pytest.fixture
def project(tmp_path):
    """A copy of the project, sharing its environments."""
    root = tmp_path / "project"
    root.mkdir()
    for name in ("docs", "scripts", "overrides", "requirements", "notebooks"):
        shutil.copytree(ROOT / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("mkdocs.yml", "CONTRIBUTING.md"):
        shutil.copy(ROOT / name, root)
    for name in (".venvs", "node_modules"):
        os.symlink(ROOT / name, root / name)
    return root


def test_scaffolded_tool_builds_with_card_nav_entry_and_executed_notebook(project, tmp_path):
    created = scaffold("demo-tool", "compilers", "Demo Tool", root=project)
    assert {p.relative_to(project).as_posix() for p in created} == {
        "docs/data/tools/demo-tool.yaml", "docs/compilers/demo-tool.md", "notebooks/demo-tool.ipynb"}
    site = tmp_path / "site"
    # A cache of its own, seeded with the project's executions (hard links: the same keys, no copying),
    # so that this build neither adds to nor prunes the project's cache.
    cache = tmp_path / "cache"
    shutil.copytree(ROOT / ".cache" / "fieldguide" / "executed", cache / "executed", copy_function=os.link)
    result = run_build(project, site, {"FIELDGUIDE_CACHE": str(cache)})
    assert result.returncode == 0, result.stderr[-3000:]
    page = (site / "compilers" / "demo-tool" / "index.html").read_text()
    assert 'class="fg-card"' in page and "Demo Tool" in page
    assert 'href="../../notebooks/demo-tool/"' in page
    assert "executing 1 notebook(s)" in result.stderr and "demo-tool" in result.stderr
    notebook = (site / "notebooks" / "demo-tool" / "index.html").read_text()
    assert "jp-OutputArea-output" in notebook


def test_scaffold_refuses_bad_ids_unknown_parts_and_overwrites(project):
    with pytest.raises(SystemExit, match="expected a lowercase slug"):
        scaffold("Demo_Tool", "compilers", "Demo", root=project)
    with pytest.raises(SystemExit, match="expected one of research-frameworks"):
        scaffold("demo", "frameworks", "Demo", root=project)
    with pytest.raises(SystemExit, match="not overwriting existing files: docs/data/tools/jax.yaml"):
        scaffold("jax", "research-frameworks", "JAX", root=project)
