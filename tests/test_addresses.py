"""The one home of page paths, links between built pages and the repository's addresses."""

import importlib.util
import sys

import pytest
from mkdocs.structure.files import File
from mkdocs.utils import get_relative_url

from scripts.site import addresses
from scripts.site.errors import BuildError
from tests.conftest import ROOT

PAGES = ["index.md", "start-here.md", "frameworks/index.md", "frameworks/pytorch.md", "a/b/c.md",
         "notebooks/pytorch.ipynb"]
FILES = ["data/chart-tables/x.csv", "data/tools/pytorch.yaml", "assets/stylesheets/notebook.css",
         "notebooks/pytorch/pytorch.ipynb"]


def mkdocs_url(source: str, directory_urls: bool) -> str:
    """The URL MkDocs itself gives a docs-relative source file; mkdocs-jupyter makes a notebook a
    page as MkDocs would a Markdown file of the same name."""
    if addresses.notebook_id(source):
        source = source.replace(".ipynb", ".md")
    return File(source, "docs", "site", directory_urls).url


@pytest.mark.parametrize("directory_urls", [True, False], ids=["directory-urls", "file-urls"])
@pytest.mark.parametrize("from_page", PAGES)
def test_built_url_agrees_with_mkdocs_for_both_url_settings(from_page, directory_urls):
    for target in PAGES + FILES:
        expected = get_relative_url(mkdocs_url(target, directory_urls), mkdocs_url(from_page, directory_urls))
        assert addresses.built_url(from_page, target, directory_urls) == expected, (from_page, target)


def test_built_url_keeps_the_anchor():
    assert addresses.built_url("a/b/c.md", "index.md#the-stack", True) == "../../../#the-stack"
    assert addresses.built_url("a/b/c.md", "index.md#the-stack", False) == "../../index.html#the-stack"


def test_notebook_paths_and_their_inverse():
    assert addresses.notebook_id(addresses.notebook_page("jax")) == "jax"
    assert addresses.notebook_id("frameworks/jax.md") is None
    assert addresses.notebook_id("notebooks/sub/jax.ipynb") is None


def test_repository_addresses_come_from_repo_url_and_edit_uri():
    repo = addresses.Repository.from_config("https://github.com/o/r/", "edit/trunk/docs/")
    assert repo.edit("notebooks/x.ipynb") == "https://github.com/o/r/edit/trunk/notebooks/x.ipynb"
    assert repo.colab("notebooks/x.ipynb") == "https://colab.research.google.com/github/o/r/blob/trunk/notebooks/x.ipynb"
    with pytest.raises(BuildError, match=r"mkdocs.yml: expected repo_url and an edit_uri"):
        addresses.Repository.from_config("https://github.com/o/r", "blob/docs/")


@pytest.fixture
def build_modules_restored():
    """Puts back the build modules the other tests imported, whatever the test imports afresh."""
    saved = {n: m for n, m in sys.modules.items() if n.startswith("scripts.site")}
    yield
    for name in [n for n in sys.modules if n.startswith("scripts.site")]:
        del sys.modules[name]
    sys.modules.update(saved)


def test_every_build_imports_the_build_modules_afresh(build_modules_restored):
    """`mkdocs serve` imports the hook once; each rebuild must still run the build code as edited."""
    spec = importlib.util.spec_from_file_location("fieldguide_hooks_under_test", ROOT / "scripts" / "site" / "hooks.py")
    hooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hooks)
    first = hooks.fresh_events_module()
    sys.modules["scripts.site.registry"].EDITED_SINCE = True  # stands for an edit on disk
    second = hooks.fresh_events_module()
    assert second is not first
    assert not hasattr(sys.modules["scripts.site.registry"], "EDITED_SINCE")
