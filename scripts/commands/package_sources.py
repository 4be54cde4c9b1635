"""Where uv, which installs the environments, takes packages from on this machine.

uv.toml names PyPI and PyTorch's index of CPU builds, which serve any machine with internet access.
uv does not read pip's configuration, though, and some machines keep packages on disk: pip is
configured there with local folders (find-links) and extra indexes, and PyTorch's index may be out
of reach. Where pip's find-links hold every CPU build of torch that the lock files pin, this prints
the options that make `uv pip install` use pip's sources instead of uv.toml; elsewhere, nothing.
Standard library only: the Makefile runs it with the base interpreter.

    python -m scripts.commands.package_sources    options for `uv pip install`, quoted for a shell
"""

from __future__ import annotations

import ast
import re
import shlex
import subprocess
import sys
from pathlib import Path

from scripts import ROOT

TORCH_PIN = re.compile(r"^torch==(\S+\+cpu)\s*$", re.MULTILINE)


def pip_settings(listing: str) -> dict[str, list[str]]:
    """pip's settings from the output of `pip config list` (lines ``section.key='value'``), each value
    split on whitespace, values of the same key from several places (files, environment) merged."""
    settings: dict[str, list[str]] = {}
    for line in listing.splitlines():
        name, sep, value = line.partition("=")
        if not sep:
            continue
        values = settings.setdefault(name.rpartition(".")[2], [])
        values += [v for v in ast.literal_eval(value).split() if v not in values]
    return settings


def torch_pins(root: Path) -> set[str]:
    """The CPU builds of torch the lock files pin, such as ``2.13.0+cpu``."""
    return {pin for lock in (root / "requirements").glob("*.lock") for pin in TORCH_PIN.findall(lock.read_text())}


def holds_torch(find_links: list[str], pins: set[str]) -> bool:
    wheels = [wheel.name for folder in find_links for wheel in Path(folder).glob("torch-*.whl")]
    return bool(find_links) and all(any(name.startswith(f"torch-{pin}-") for name in wheels) for pin in pins)


def uv_options(settings: dict[str, list[str]], pins: set[str]) -> list[str]:
    find_links = settings.get("find-links", [])
    if not holds_torch(find_links, pins):
        return []
    # pip takes each package from whichever of its sources has the best match; so does this.
    options = ["--no-config", "--index-strategy", "unsafe-best-match"]
    for folder in find_links:
        options += ["--find-links", folder]
    for url in settings.get("extra-index-url", []):
        options += ["--extra-index-url", url]
    return options


def main() -> int:
    root = ROOT
    listing = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True)
    # No pip for this interpreter, or no configuration: uv.toml alone.
    settings = pip_settings(listing.stdout) if listing.returncode == 0 else {}
    print(shlex.join(uv_options(settings, torch_pins(root))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
