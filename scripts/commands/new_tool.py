"""Scaffold a new tool: registry entry, page and notebook.

    python -m scripts.commands.new_tool --id my-tool --part research-frameworks --name "My Tool"

The generated registry entry holds TODO values and example.org URLs where checked facts and their
sources belong. The build refuses them (scripts/site/registry.py), naming the file, the tool and the
field, until each is replaced with a fact and the page that states it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
from pathlib import Path

import nbformat
import yaml

from scripts import ROOT
from scripts.site.datafiles import SLUG, load_yaml

REGISTRY_TEMPLATE = """\
id: {id}
name: {name}
part: {part}
description: TODO one sentence on what {name} is.
maintainer: TODO who maintains it
license: TODO SPDX identifier
first_release: "{year}"
status: active
successor: null
status_note: null
platforms: [linux]
hardware: [cpu]
uses: [train]
languages: [python]
links:
  home: https://example.org/TODO
  docs: https://example.org/TODO
  repository: null
execution:
  mode: main
  env: null
  gpu: null
  reason: null
sources:
  maintainer: https://example.org/TODO
  license: https://example.org/TODO
  first_release: https://example.org/TODO
  status: https://example.org/TODO
  platforms: https://example.org/TODO
  hardware: https://example.org/TODO
  languages: https://example.org/TODO
verified: {today}
"""

PAGE_TEMPLATE = """\
# {name}

<!-- card: {id} -->
"""


def notebook(name: str, env: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": f"fieldguide-{env}", "display_name": f"Field guide ({env})", "language": "python"}
    nb.metadata["fieldguide"] = {"env": env, "inputs": [], "packages": []}
    nb.cells = [
        nbformat.v4.new_markdown_cell(f"# {name} notebook\n\nWhat this notebook shows, and on what data."),
        nbformat.v4.new_code_cell("import platform\n\nprint(platform.python_version())"),
    ]
    return nb


def add_to_teaching_order(parts_file: Path, part: str, tool_id: str) -> None:
    """Append the tool to its part's ``tools:`` list in parts.yaml. The text is edited, so that the
    file's comments stay, and read back to check the result."""
    text = parts_file.read_text(encoding="utf-8")
    block = re.search(rf"^- id: {re.escape(part)}\n(?:(?!- ).*\n?)*", text, re.MULTILINE)
    listed = block and re.search(r"^  tools: \[(.*)\][ \t]*$", block.group(0), re.MULTILINE)
    if listed:
        items = listed.group(1).strip()
        edited = (block.group(0)[:listed.start(1)] + (f"{items}, {tool_id}" if items else tool_id)
                  + block.group(0)[listed.end(1):])
    elif block:
        edited = block.group(0).rstrip("\n") + f"\n  tools: [{tool_id}]\n"
    result = text.replace(block.group(0), edited, 1) if block else text
    entry = next((p for p in yaml.safe_load(result) if p.get("id") == part), {})
    if tool_id not in (entry.get("tools") or []):
        raise SystemExit(f"could not add {tool_id!r} to the tools of part {part!r} in {parts_file}: add it by hand")
    parts_file.write_text(result, encoding="utf-8")


def scaffold(tool_id: str, part: str, name: str, root: Path = ROOT, env: str = "main") -> list[Path]:
    if not SLUG.match(tool_id):
        raise SystemExit(f"--id {tool_id!r}: expected a lowercase slug such as 'onnx-runtime'")
    parts = [p["id"] for p in load_yaml(root / "docs" / "data" / "parts.yaml")]
    if part not in parts:
        raise SystemExit(f"--part {part!r}: expected one of {', '.join(parts)}")
    today = dt.date.today()
    files = {
        root / "docs" / "data" / "tools" / f"{tool_id}.yaml":
            REGISTRY_TEMPLATE.format(id=tool_id, name=name, part=part, year=today.year, today=today.isoformat()),
        root / "docs" / part / f"{tool_id}.md": PAGE_TEMPLATE.format(id=tool_id, name=name),
        root / "notebooks" / f"{tool_id}.ipynb": nbformat.writes(notebook(name, env)) + "\n",
    }
    existing = [str(p.relative_to(root)) for p in files if p.exists()]
    if existing:
        raise SystemExit(f"not overwriting existing files: {', '.join(existing)}")
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    add_to_teaching_order(root / "docs" / "data" / "parts.yaml", part, tool_id)
    return list(files)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--id", required=True)
    parser.add_argument("--part", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--env", default="main", help="notebook environment (a requirements/<env>.lock)")
    args = parser.parse_args(argv)
    for path in scaffold(args.id, args.part, args.name, env=args.env):
        print(f"created {path.relative_to(ROOT)}")
    print(f"added {args.id} at the end of {args.part}'s tools in docs/data/parts.yaml: move it to where a reader "
          f"should meet it")
    print("next: replace every TODO and example.org URL in the registry entry with a fact and its source "
          "(the build refuses them), then write the page and the notebook")


if __name__ == "__main__":
    main(sys.argv[1:])
