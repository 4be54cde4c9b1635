"""Execute stale notebooks into the content-addressed cache without building the site, whole or one
share of them, so that several runners can split the work and merge their caches before one build.

    python -m scripts.commands.execute                 every stale notebook
    python -m scripts.commands.execute --shard 2/3     the second of three shares (see executor.share)
"""

from __future__ import annotations

import argparse
import re
import sys

from scripts.site import executor
from scripts.site.errors import BuildError
from scripts.site.site_build import ROOT, SiteBuild


def parse_shard(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d+)/(\d+)", text)
    if not match or not 1 <= int(match.group(1)) <= int(match.group(2)):
        raise argparse.ArgumentTypeError(f"expected i/N with 1 <= i <= N, e.g. 1/2; got {text!r}")
    return int(match.group(1)), int(match.group(2))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shard", type=parse_shard, default=(1, 1), help="i/N: execute the i-th of N shares")
    args = parser.parse_args(argv)
    build = SiteBuild.from_env(ROOT / "docs")
    notebooks = [executor.Notebook.read(p) for p in sorted((ROOT / "notebooks").glob("*.ipynb"))]
    todo = executor.plan(notebooks, build.workspace)
    mine = executor.share(todo.stale, *args.shard)
    print(f"shard {args.shard[0]}/{args.shard[1]}: {len(mine)} of {len(todo.stale)} stale notebook(s): "
          + (", ".join(nb.id for nb in mine) or "none"))
    try:
        executor.execute_stale(todo, build.workspace, build.jobs, only=mine)
    except BuildError as exc:
        print(f"{exc.where}\n{exc.message}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
