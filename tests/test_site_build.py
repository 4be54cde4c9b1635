"""What one build checks across sources: a card's execution mode against the tool's notebook."""

from pathlib import Path
from types import SimpleNamespace

import pytest

from scripts.site.errors import BuildError
from scripts.site.site_build import check_execution_mode


def tool(mode, env=None):
    return SimpleNamespace(id="t", path=Path("docs/data/tools/t.yaml"), execution={"mode": mode, "env": env})


def notebook(env="main", recorded=None):
    return SimpleNamespace(env=env, recorded=recorded)


@pytest.mark.parametrize("declared, nb", [
    (tool("main"), notebook("main")),
    (tool("side", "opencl"), notebook("opencl")),
    (tool("recorded"), notebook(None, recorded={"gpu": "H200"})),
    (tool("none"), None),
])
def test_mode_that_says_what_the_notebook_does_passes(declared, nb):
    check_execution_mode(declared, nb)


@pytest.mark.parametrize("declared, nb, message", [
    (tool("main"), notebook("opencl"), r"declares mode main, but notebooks/t.ipynb means mode side with env opencl"),
    (tool("side", "triton"), notebook("opencl"), r"declares mode side with env triton, but .* env opencl"),
    (tool("main"), None, r"declares mode main, but no notebooks/t.ipynb means mode none"),
    (tool("none"), notebook("main"), r"declares mode none, but notebooks/t.ipynb means mode main"),
])
def test_mode_that_contradicts_the_notebook_is_named(declared, nb, message):
    with pytest.raises(BuildError, match=r"docs/data/tools/t.yaml, tool 't', field 'execution': " + message):
        check_execution_mode(declared, nb)
