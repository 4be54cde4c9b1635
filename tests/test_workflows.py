"""The GitHub Actions workflows pass actionlint (a wheel in the site environment)."""

import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

ACTIONLINT = Path(sys.executable).parent / "actionlint"
# shellcheck and pyflakes run only where they are installed: off, so every machine finds the same.
OPTIONS = ["-shellcheck=", "-pyflakes=", "-oneline", "-no-color"]


def actionlint(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    assert ACTIONLINT.is_file(), f"{ACTIONLINT} is missing: requirements/site.lock installs it (make env-site)"
    return subprocess.run([str(ACTIONLINT), *OPTIONS, *args], cwd=ROOT, input=stdin, capture_output=True, text=True)


def test_workflows_have_no_findings():
    workflows = sorted(str(p.relative_to(ROOT)) for p in (ROOT / ".github" / "workflows").glob("*.yml"))
    assert workflows, "no workflow in .github/workflows"
    result = actionlint(*workflows)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_reports_a_broken_workflow():
    broken = "on: push\njobs:\n  test:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo ${{ matrix.x }}\n"
    result = actionlint("-", stdin=broken)
    assert result.returncode == 1, result.stdout + result.stderr
    assert 'property "x" is not defined' in result.stdout
