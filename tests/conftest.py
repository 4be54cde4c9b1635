"""Shared fixtures: one strict build of the real site for the whole test run."""

from __future__ import annotations

import html
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.site.static_charts import StaticCharts

ROOT = Path(__file__).resolve().parent.parent
# The browser fixtures live in their own module, loaded once for every test file that uses them.
pytest_plugins = ["tests.browser"]


def run_build(root: Path, site_dir: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site_dir)],
        cwd=root, env={**os.environ, "NO_MKDOCS_2_WARNING": "1", **(env or {})},
        capture_output=True, text=True,
    )


@pytest.fixture(scope="session")
def site_url() -> str:
    """Where the browser tests serve the built site; the build's site_url, so instant navigation works."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}/"


@pytest.fixture(scope="session")
def site(tmp_path_factory, site_url) -> Path:
    """The site built once, strictly, with every notebook executed (or taken from the cache)."""
    site_dir = tmp_path_factory.mktemp("site")
    result = run_build(ROOT, site_dir, {"FIELDGUIDE_SITE_URL": site_url})
    assert result.returncode == 0, f"strict build failed:\n{result.stdout[-4000:]}\n{result.stderr[-8000:]}"
    return site_dir


class UndrawnPictures(StaticCharts):
    """Charts' static pictures for tests of markup: drawing one needs Chromium, which the site
    build (a process of its own) starts, and test_site.py checks the pictures it drew."""

    def picture(self, figure: dict, label: str) -> str:
        return f'<svg class="fg-plot__static" role="img"><title>{html.escape(label)}</title></svg>'


@pytest.fixture
def pictures(tmp_path) -> StaticCharts:
    return UndrawnPictures(tmp_path / "static-charts")


@pytest.fixture
def data_copy(tmp_path) -> Path:
    """A writable copy of docs/data for tests that break a data file."""
    target = tmp_path / "data"
    shutil.copytree(ROOT / "docs" / "data", target)
    return target


MAIN_PYTHON = ROOT / ".venvs" / "main" / "bin" / "python"


def run_smoke(module: str, out: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    """A benchmark script's --smoke run in the main environment, writing its CSV to ``out``."""
    assert MAIN_PYTHON.is_file(), "the main environment is missing: run `make env-main` (make test does)"
    return subprocess.run([str(MAIN_PYTHON), "-m", module, "--smoke", "--out", str(out), *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=timeout)
