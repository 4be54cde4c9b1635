"""The Makefile creates an environment again from its record (scripts/site/environments.py), not file dates."""

import os
import shutil
import subprocess
import sys

import pytest

from scripts.site import environments
from tests.conftest import ROOT


@pytest.fixture
def project(tmp_path):
    """The Makefile and scripts beside one environment, 'demo', installed from its lock file."""
    shutil.copy(ROOT / "Makefile", tmp_path)
    shutil.copytree(ROOT / "scripts", tmp_path / "scripts", ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "requirements").mkdir()
    (tmp_path / "requirements" / "demo.lock").write_text("ipykernel==7.4.0\n")
    (tmp_path / ".venvs" / "demo" / "bin").mkdir(parents=True)
    (tmp_path / ".venvs" / "demo" / "bin" / "python").symlink_to(sys.executable)
    environments.record(tmp_path, "demo")
    return tmp_path


def planned(project) -> str:
    """What `make env-demo` would run (make -n prints the commands without running them)."""
    result = subprocess.run(["make", "-n", "env-demo", f"PYTHON={sys.executable}"], cwd=project,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_an_environment_that_matches_its_lock_is_kept_whatever_the_dates(project):
    lock = project / "requirements" / "demo.lock"
    later = (project / ".venvs" / "demo" / environments.RECORD).stat().st_mtime + 3600
    os.utime(lock, (later, later))  # an hour newer than the record
    assert "requirements/demo.lock" not in planned(project)


def test_a_changed_lock_creates_the_environment_again(project):
    (project / "requirements" / "demo.lock").write_text("ipykernel==7.4.0\nnbformat==5.10.4\n")
    commands = planned(project)
    assert "rm -rf .venvs/demo" in commands and "pip install" in commands and "-r requirements/demo.lock" in commands
    assert "scripts.site.environments record demo" in commands


def test_an_environment_without_record_is_created(project):
    (project / ".venvs" / "demo" / environments.RECORD).unlink()
    assert "-r requirements/demo.lock" in planned(project)
