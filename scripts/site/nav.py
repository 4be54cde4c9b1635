"""The site navigation, generated from parts.yaml and the registry so it cannot drift from them.

Parts come in their declared order, and so do the tools of each part (``Registry.tools_in``: current
tools first, then deprecated and renamed ones, labelled). Each notebook sits right after the page
that presents it: a tool's notebook after the tool, and a part's notebook named ``<page>-...`` (a GPU
recording such as ``cuda-gpu``, or ``rosetta``) after that page; the rest end the part.
"""

from __future__ import annotations

from pathlib import Path

from scripts.site.errors import BuildError
from scripts.site.registry import RETIRED, STATUSES, Registry

FIRST_PAGES = [{"Home": "index.md"}, {"Start here": "start-here.md"}, {"How to read this guide": "how-to-read.md"}]


def _presenting_page(notebook_id: str, stems: list[str]) -> str | None:
    """The page stem a notebook belongs beside: its own name, or the longest ``<stem>-`` prefix."""
    matches = [s for s in stems if notebook_id == s or notebook_id.startswith(s + "-")]
    return max(matches, key=len) if matches else None


def part_section(docs_dir: Path, registry: Registry, part_id: str, notebooks: dict[str, str]) -> list:
    """The navigation of one part. ``notebooks`` maps the part's notebook ids to their page paths."""
    folder = docs_dir / part_id
    if not (folder / "index.md").is_file():
        raise BuildError(f"docs/{part_id}/index.md", f"part '{part_id}' has no index page")
    tools = registry.tools_in(part_id)
    for tool in tools:
        if not (docs_dir / tool.page).is_file():
            raise BuildError(f"docs/{tool.page}", f"tool '{tool.id}' has no page (create it with make new-tool ID={tool.id})")
    tool_ids = {t.id for t in tools}
    chapters = sorted(p.stem for p in folder.glob("*.md") if p.stem != "index" and p.stem not in tool_ids)
    # Chapters (a comparison across tools) come after the current tools, before the retired ones.
    current = [t for t in tools if t.status not in RETIRED]
    entries = ([(t.id, {t.name: t.page}) for t in current]
               + [(stem, f"{part_id}/{stem}.md") for stem in chapters]
               + [(t.id, {f"{t.name} ({STATUSES[t.status].lower()})": t.page}) for t in tools if t.status in RETIRED])
    beside: dict[str | None, list[str]] = {}
    for notebook_id in sorted(notebooks):
        beside.setdefault(_presenting_page(notebook_id, [stem for stem, _ in entries]), []).append(notebook_id)
    section: list = [{"Overview": f"{part_id}/index.md"}]
    for stem, entry in entries:
        section.append(entry)
        # A page's own notebook first, then recordings and variants named after it.
        for notebook_id in sorted(beside.get(stem, []), key=lambda n: (n != stem, n)):
            section.append(notebooks[notebook_id])
    section += [notebooks[n] for n in beside.get(None, [])]
    return section


def build_nav(docs_dir: Path, registry: Registry, notebooks: dict[str, tuple[str, str]]) -> list:
    """Home, Start here, the reading guide, one section per part, Contributing.

    ``notebooks`` maps notebook id to (part id, docs-relative page path)."""
    nav: list = list(FIRST_PAGES)
    for part in registry.parts.values():
        mine = {i: page for i, (nb_part, page) in notebooks.items() if nb_part == part.id}
        nav.append({part.title: part_section(docs_dir, registry, part.id, mine)})
    nav.append({"Contributing": "contributing.md"})
    return nav
