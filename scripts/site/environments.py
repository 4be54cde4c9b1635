"""What each environment in .venvs/ was built from, recorded in ``.venvs/<env>/.installed``.

The record holds the SHA-256 of the lock file it was installed from and the interpreter's version
and platform. The Makefile writes it after an install; the executor refuses to run a notebook in
an environment whose record does not match the current lock, and keys executions by it.
Standard library only: the Makefile runs it with the base interpreter, before any environment exists.

    python -m scripts.site.environments record <env>   write the record (after installing)
    python -m scripts.site.environments check <env>    exit 0 when the record matches the lock, 1 otherwise
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

from scripts import ROOT
from scripts.site.errors import BuildError

RECORD = ".installed"
# Asked of the environment's own interpreter, so the record describes what runs the kernels.
INTERPRETER_FACTS = ("import json, platform, sys; print(json.dumps({'python': platform.python_version(), "
                     "'implementation': sys.implementation.name, 'platform': f'{sys.platform}-{platform.machine()}'}))")


def lock_file(root: Path, env: str) -> Path:
    return root / "requirements" / f"{env}.lock"


def venv(root: Path, env: str) -> Path:
    return root / ".venvs" / env


def lock_hash(root: Path, env: str) -> str:
    return hashlib.sha256(lock_file(root, env).read_bytes()).hexdigest()


def rebuild_command(env: str) -> str:
    return f"make env-{env}"


def record(root: Path, env: str) -> dict:
    """Write and return the record of ``env`` as it is installed now."""
    python = venv(root, env) / "bin" / "python"
    facts = json.loads(subprocess.run([str(python), "-c", INTERPRETER_FACTS], check=True,
                                      capture_output=True, text=True).stdout)
    entry = {"lock": f"requirements/{env}.lock", "lock_sha256": lock_hash(root, env), **facts}
    (venv(root, env) / RECORD).write_text(json.dumps(entry, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return entry


def read(root: Path, env: str) -> dict | None:
    path = venv(root, env) / RECORD
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return entry if isinstance(entry, dict) else None


def problem(root: Path, env: str) -> str | None:
    """Why ``env`` cannot run what its lock describes, or None when it can."""
    if not lock_file(root, env).is_file():
        return f"requirements/{env}.lock does not exist"
    entry = read(root, env)
    if entry is None:
        return f"environment {env!r} is not set up (no readable .venvs/{env}/{RECORD})"
    if entry.get("lock_sha256") != lock_hash(root, env):
        return f"environment {env!r} was installed from an older requirements/{env}.lock"
    if not (venv(root, env) / "bin" / "python").exists():
        return f"environment {env!r} has lost its interpreter"
    return None


def check(root: Path, env: str, where: str) -> dict:
    """The record of ``env``; raises BuildError naming ``where`` and the fix when it is stale."""
    reason = problem(root, env)
    if reason:
        raise BuildError(where, f"{reason}; rebuild it with `{rebuild_command(env)}`")
    return read(root, env)


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("record", "check"):
        print(__doc__, file=sys.stderr)
        return 2
    root = ROOT
    command, env = argv
    if command == "record":
        record(root, env)
        return 0
    reason = problem(root, env)
    if reason:
        print(reason, file=sys.stderr)
    return 1 if reason else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
