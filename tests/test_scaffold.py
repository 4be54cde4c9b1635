"""`make new-tool` creates a registry entry, a page and a notebook; the build refuses the entry's
placeholders and, once they are replaced with facts, builds the new tool's pages."""

import os
import shutil

import pytest
import yaml

from scripts.commands.new_tool import scaffold
from scripts.site.errors import BuildError
from scripts.site.registry import load_registry
from scripts.site.site_build import cache_dir
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


def fill_in(entry):
    """What a contributor does next: a checked fact, and the page that states it, for each placeholder."""
    record = yaml.safe_load(entry.read_text())
    record.update(description="A demonstration tool.", maintainer="The demo maintainers", license="MIT")
    record["links"].update(home="https://www.python.org/", docs="https://docs.python.org/3/")
    record["sources"] = {fact: "https://docs.python.org/3/" for fact in record["sources"]}
    entry.write_text(yaml.safe_dump(record, sort_keys=False))


def test_scaffolded_tool_is_refused_until_filled_in_then_builds(project, tmp_path, site):
    # `site` first: the real build fills the project's cache, so that the copy's build below has
    # exactly one notebook to execute, the new one.
    created = scaffold("demo-tool", "compilers", "Demo Tool", root=project)
    assert {p.relative_to(project).as_posix() for p in created} == {
        "docs/data/tools/demo-tool.yaml", "docs/compilers/demo-tool.md", "notebooks/demo-tool.ipynb"}
    entry = project / "docs" / "data" / "tools" / "demo-tool.yaml"
    with pytest.raises(BuildError, match=r"demo-tool\.yaml, tool 'demo-tool', field '[a-z_.]+': still holds"):
        load_registry(project / "docs" / "data")
    fill_in(entry)
    site = tmp_path / "site"
    # A cache of its own, seeded with the project's executions (hard links: the same keys, no copying),
    # so that this build neither adds to nor prunes the project's cache.
    cache = tmp_path / "cache"
    shutil.copytree(cache_dir() / "executed", cache / "executed", copy_function=os.link)
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
