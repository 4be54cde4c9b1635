"""Execute notebooks by id (or take them from the cache) and print their outputs: the quick loop
while writing one.   python -m scripts.commands.run_notebook pytorch [triton ...]"""

from __future__ import annotations

import argparse
import os
import sys

import nbformat

from scripts.site import executor
from scripts.site.errors import BuildError
from scripts.site.site_build import ROOT, SiteBuild


def show(nb: nbformat.NotebookNode) -> None:
    for number, cell in enumerate(nb.cells, start=1):
        if cell.cell_type != "code":
            continue
        print(f"--- cell {number}")
        for output in cell.outputs:
            if output.output_type == "stream":
                print(output.text, end="")
            elif output.output_type == "error":
                print(f"{output.ename}: {output.evalue}")
            else:
                data = output.get("data", {})
                print(data.get("text/plain", f"[{', '.join(data)}]"))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ids", nargs="+")
    parser.add_argument("--quiet", action="store_true", help="print timings only, not outputs")
    args = parser.parse_args(argv)
    build = SiteBuild.from_env(ROOT / "docs")
    notebooks = [executor.Notebook.read(ROOT / "notebooks" / f"{i}.ipynb") for i in args.ids]
    todo = executor.plan(notebooks, build.workspace)
    try:
        executor.execute_stale(todo, build.workspace, min(build.jobs, len(notebooks)))
    except BuildError as exc:
        print(f"{exc.where}\n{exc.message}", file=sys.stderr)
        return 1
    for notebook in notebooks:
        nb = notebook.nb if notebook.recorded else nbformat.read(todo.fresh[notebook.id], as_version=4)
        stamp = nb.metadata.fieldguide.get("execution", {})
        print(f"=== {notebook.id}: {stamp.get('duration_s', 'recorded')} s")
        if not args.quiet:
            show(nb)
    return 0


if __name__ == "__main__":
    os.chdir(ROOT)
    sys.exit(main(sys.argv[1:]))
