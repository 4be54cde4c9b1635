"""The site navigation, generated from parts.yaml and the registry so it cannot drift from them."""

from __future__ import annotations

from pathlib import Path

from scripts.errors import BuildError
from scripts.registry import Registry


def build_nav(docs_dir: Path, registry: Registry, notebooks: dict[str, tuple[str, str]]) -> list:
    """Home, the reading guide, one section per part, Contributing.

    A part's section holds its index, its tool pages, its other chapters (in file-name order), and
    its notebooks. ``notebooks`` maps notebook id to (part id, docs-relative page path).
    """
    nav: list = [{"Home": "index.md"}, {"How to read this guide": "how-to-read.md"}]
    for part in registry.parts.values():
        folder = docs_dir / part.id
        if not (folder / "index.md").is_file():
            raise BuildError(f"docs/{part.id}/index.md", f"part '{part.id}' has no index page")
        tools = registry.tools_in(part.id)
        section: list = [{"Overview": f"{part.id}/index.md"}]
        for tool in tools:
            if not (docs_dir / tool.page).is_file():
                raise BuildError(f"docs/{tool.page}", f"tool '{tool.id}' has no page (create it with make new-tool ID={tool.id})")
            section.append({tool.name: tool.page})
        tool_pages = {tool.page for tool in tools} | {f"{part.id}/index.md"}
        section += sorted(f"{part.id}/{p.name}" for p in folder.glob("*.md") if f"{part.id}/{p.name}" not in tool_pages)
        part_notebooks = [page for _, (nb_part, page) in sorted(notebooks.items()) if nb_part == part.id]
        if part_notebooks:
            section.append({"Notebooks": part_notebooks})
        nav.append({part.title: section})
    nav.append({"Contributing": "contributing.md"})
    return nav
