"""Learning paths (docs/data/paths.yaml): ordered steps through the guide for one kind of reader.

``<!-- path: <id> -->`` renders a path on the Start here page: who it is for, why in this order,
its map (a diagram), its steps with what the reader will have run and understood, and the parts of
the guide at the path's layers of the stack, so that a part added later joins the paths of its
layer by itself. ``<!-- paths: list -->`` lists the paths with links. A step naming a page or a
notebook that does not exist, or a layer of the stack no path goes through, stops the build.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import nbformat

from scripts.site.addresses import markdown_link, notebook_page
from scripts.site.datafiles import Field, load_yaml, validate_record
from scripts.site.errors import BuildError
from scripts.site.markdown_text import escape
from scripts.site.registry import USES, Registry
from scripts.site.stack_diagram import Layer

START_PAGE = "start-here.md"


def anchor(path_id: str) -> str:
    return f"path-{path_id}"


def notebook_title(path: Path) -> str:
    """A notebook's first level-1 heading, without Markdown code marks; its id if it has none."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].replace("`", "").strip()
    return path.stem


@dataclass(frozen=True)
class LearningPath:
    id: str
    title: str
    reader: str
    uses: list
    layers: list
    why: str
    diagram: str | None
    steps: list[dict]


class LearningPaths:
    def __init__(self, paths: dict[str, LearningPath], registry: Registry, titles: dict[str, str]):
        self.paths = paths
        self.registry = registry
        self.titles = titles  # notebook id -> title, for the notebooks the paths name

    @classmethod
    def load(cls, root: Path, docs_dir: Path, registry: Registry, layers: list[Layer]) -> "LearningPaths":
        path = docs_dir / "data" / "paths.yaml"
        data = load_yaml(path)
        if not isinstance(data, dict) or not isinstance(data.get("paths"), list) or not data["paths"]:
            raise BuildError(str(path), "expected a non-empty list 'paths'")
        notebooks = tuple(sorted(p.stem for p in (root / "notebooks").glob("*.ipynb")))
        layer_ids = tuple(layer.id for layer in layers)
        fields = (Field("id", "slug"), Field("title"), Field("reader"), Field("uses", "choices", choices=tuple(USES)),
                  Field("layers", "choices", choices=layer_ids), Field("why"),
                  Field("diagram", required=False, nullable=True))
        step_fields = (Field("title"), Field("page"), Field("notebooks", "choices", choices=notebooks, required=False),
                       Field("ran", required=False), Field("understood"))
        paths: dict[str, LearningPath] = {}
        for i, item in enumerate(data["paths"], start=1):
            steps = item.pop("steps", None) if isinstance(item, dict) else None
            clean = validate_record(item, fields, f"{path}, path {i}")
            where = f"{path}, path '{clean['id']}'"
            if clean["id"] in paths:
                raise BuildError(where, "duplicate id")
            if not isinstance(steps, list) or not steps:
                raise BuildError(f"{where}, field 'steps'", "expected a non-empty list of steps")
            checked = [cls._step(step, step_fields, docs_dir, f"{where}, step {n}") for n, step in enumerate(steps, 1)]
            paths[clean["id"]] = LearningPath(**clean, steps=checked)
        uncovered = [layer for layer in layer_ids if not any(layer in p.layers for p in paths.values())]
        if uncovered:
            raise BuildError(f"{path}, field 'layers'", f"no path goes through the layer(s) {', '.join(uncovered)}: "
                                                        f"list each layer of docs/data/stack.yaml in some path")
        unserved = [use for use in USES if not any(use in p.uses for p in paths.values())]
        if unserved:
            raise BuildError(f"{path}, field 'uses'", f"no path suits the selector's use(s) {', '.join(unserved)}")
        named = {n for p in paths.values() for s in p.steps for n in s["notebooks"] or []}
        titles = {n: notebook_title(root / "notebooks" / f"{n}.ipynb") for n in named}
        return cls(paths, registry, titles)

    @staticmethod
    def _step(step, fields, docs_dir: Path, where: str) -> dict:
        clean = validate_record(step, fields, where)
        page = clean["page"].partition("#")[0]
        if not page.endswith(".md") or not (docs_dir / page).is_file():
            raise BuildError(f"{where}, field 'page'", f"no Markdown page docs/{page}")
        if bool(clean["ran"]) != bool(clean["notebooks"]):
            raise BuildError(f"{where}, field 'ran'", "says what the step's notebooks run: given with notebooks, "
                                                      "and only then")
        return clean

    def path(self, path_id: str, where: str) -> LearningPath:
        if path_id not in self.paths:
            raise BuildError(where, f"unknown learning path {path_id!r}; expected one of {', '.join(self.paths)} "
                                    f"(docs/data/paths.yaml)")
        return self.paths[path_id]

    def parts_on(self, path: LearningPath) -> list:
        """The parts of the guide whose layer the path goes through, in teaching order."""
        return [part for part in self.registry.parts.values() if part.layer in path.layers]

    def render(self, path_id: str, page: str, diagram: Callable[[str, str], str]) -> str:
        """``<!-- path: <id> -->``: the path as a heading, its reasons, its map and its steps."""
        p = self.path(path_id, f"docs/{page}")
        out = [f"## {escape(p.title)} {{#{anchor(p.id)}}}\n", f"*For you if:* {escape(p.reader)}\n",
               f"**Why in this order.** {p.why}\n"]
        if p.diagram:
            out.append(diagram(p.diagram, page))
        steps = []
        for step in p.steps:
            lines = [f"**[{escape(step['title'])}]({markdown_link(page, step['page'])})**"]
            if step["notebooks"]:
                links = ", ".join(f"[{escape(self.titles[n])}]({markdown_link(page, notebook_page(n))})"
                                  for n in step["notebooks"])
                lines.append(f"Notebook{'s' if len(step['notebooks']) > 1 else ''}: {links}")
                lines.append(f"*Run:* {escape(step['ran'])}")
            lines.append(f"*Understood:* {escape(step['understood'])}")
            steps.append("1. " + "  \n    ".join(lines))
        out.append('<div class="fg-path" markdown>\n\n' + "\n".join(steps) + "\n\n</div>\n")
        parts = self.parts_on(p)
        out.append("**Further along this path**, the parts of the guide at these layers of the stack: "
                   + "; ".join(f"[{escape(part.title)}]({markdown_link(page, part.id + '/index.md')}) "
                               f"({escape(part.summary[0].lower() + part.summary[1:].rstrip('.'))})"
                               for part in parts) + ".\n")
        return "\n".join(out)

    def listing(self, scope: str, page: str) -> str:
        """``<!-- paths: list -->``: every path, linked to its place on the Start here page."""
        if scope != "list":
            raise BuildError(f"docs/{page}", f"the paths placeholder takes 'list', got {scope!r}")
        return "\n".join(f"- **[{escape(p.title)}]({markdown_link(page, START_PAGE)}#{anchor(p.id)})**: "
                         f"{escape(p.reader)}" for p in self.paths.values()) + "\n"
