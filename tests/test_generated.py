"""Files generated from others are up to date: a change to the source without regenerating fails
here, the way a strict CI checks generated files."""

import json
import re

import nbformat
import pytest

from scripts.gpu import record
from tests.conftest import ROOT

REQUIREMENTS = ROOT / "requirements"
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==(?P<version>\S+)")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path) -> dict[str, str]:
    """name -> version for every ``name==version`` line; options and comments are skipped."""
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = PIN.match(line.split("#", 1)[0].strip())
        if match:
            found[canonical(match.group("name"))] = match.group("version")
    return found


def test_recorded_notebooks_match_their_recipes(tmp_path):
    assert record.main(["--out", str(tmp_path), "--dry-run"]) == 0
    regenerated = sorted(tmp_path.glob("*.ipynb"))
    assert regenerated, "no recipes"
    for fresh in regenerated:
        committed = ROOT / "notebooks" / fresh.name
        assert committed.is_file(), f"recipe {fresh.stem} has no recorded notebooks/{fresh.name}"
        want, have = (nbformat.read(p, as_version=4) for p in (fresh, committed))
        assert [(c.cell_type, c.source) for c in have.cells] == [(c.cell_type, c.source) for c in want.cells], (
            f"notebooks/{fresh.name} differs from scripts/gpu/recipes/{fresh.stem.replace('-', '_')}.py: "
            f"record it again on a GPU (python -m scripts.gpu.record)")
        assert have.metadata.fieldguide["part"] == want.metadata.fieldguide["part"]


@pytest.mark.parametrize("lock", sorted(REQUIREMENTS.glob("*.lock")), ids=lambda p: p.stem)
def test_lock_holds_every_pin_of_its_in_files(lock):
    locked = pins(lock)
    for source in (lock.with_suffix(".in"), lock.with_suffix(".nodeps.in")):
        if not source.is_file():
            continue
        for name, version in pins(source).items():
            assert locked.get(name) == version, (
                f"{source.name} pins {name}=={version}, {lock.name} has {locked.get(name)}: run `make lock ENV={lock.stem}`")
    exclude = lock.with_suffix(".exclude")
    if exclude.is_file():
        left_out = {canonical(line.strip()) for line in exclude.read_text().splitlines()
                    if line.strip() and not line.startswith("#")}
        assert not left_out & set(locked), f"{lock.name} holds packages that {exclude.name} leaves out"


def test_self_hosted_plotly_js_is_the_version_plotly_py_bundles():
    from plotly.offline import get_plotlyjs_version

    declared = json.loads((ROOT / "package.json").read_text())["dependencies"]["plotly.js-cartesian-dist-min"]
    locked = json.loads((ROOT / "package-lock.json").read_text())["packages"][
        "node_modules/plotly.js-cartesian-dist-min"]["version"]
    assert declared == locked == get_plotlyjs_version(), (
        f"package.json pins plotly.js {declared} (package-lock.json: {locked}), but plotly.py bundles "
        f"{get_plotlyjs_version()}, the version its figures are made for")
