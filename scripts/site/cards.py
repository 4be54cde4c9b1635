"""Markdown generated from the tools registry: a tool's at-a-glance card and a part's tool list."""

from __future__ import annotations

from scripts.site.addresses import markdown_link, notebook_page
from scripts.site.errors import BuildError
from scripts.site.markdown_text import escape
from scripts.site.registry import (
    HARDWARE,
    LANGUAGES,
    PLATFORMS,
    STATUSES,
    Registry,
    Tool,
)


def _source(url: str) -> str:
    return f'<small>[source]({url})</small>'


def license_text(tool: Tool) -> str:
    """An SPDX expression as code (identifiers to look up), a licence described in words as text."""
    if tool.license_is_spdx:
        return f"`{tool.license}`"  # validated SPDX: letters, digits, . + - : ( ) and spaces only
    return escape(tool.license)


def execution_text(tool: Tool, page: str, notebooks: set[str]) -> str:
    """How the tool is run on this site, linking the notebook when there is one."""
    run = tool.execution
    text = {
        "main": "Executed at build time (CPU, main environment)",
        "side": f"Executed at build time (CPU, its own `{escape(run['env'])}` environment)",
        "recorded": f"Recorded on {escape(run['gpu'])}",
        "none": f"Not executed here: {escape(run['reason'])}",
    }[run["mode"]]
    if tool.id in notebooks:
        text += f" · [Run it: notebook]({markdown_link(page, notebook_page(tool.id))})"
    return text


def status_text(tool: Tool, registry: Registry, page: str) -> str:
    text = f'<span class="fg-status fg-status--{tool.status}">{STATUSES[tool.status]}</span>'
    if tool.successor:
        successor = registry.tools[tool.successor]
        text += f" · successor: [{escape(successor.name)}]({markdown_link(page, successor.page)})"
    if tool.status_note:
        text += f" · {escape(tool.status_note)}"
    return text


def card(tool_id: str, page: str, registry: Registry, notebooks: set[str]) -> str:
    tool = registry.tool(tool_id, f"docs/{page}")
    src = tool.sources
    links = [f"[Home]({tool.links['home']})", f"[Documentation]({tool.links['docs']})"]
    if tool.links["repository"]:
        links.append(f"[Repository]({tool.links['repository']})")
    rows = [
        ("Status", f"{status_text(tool, registry, page)} {_source(src['status'])}"),
        ("Maintainer", f"{escape(tool.maintainer)} {_source(src['maintainer'])}"),
        ("License", f"{license_text(tool)} {_source(src['license'])}"),
        ("First release", f"{tool.first_release} {_source(src['first_release'])}"),
        ("Platforms", f"{', '.join(PLATFORMS[p] for p in tool.platforms)} {_source(src['platforms'])}"),
        ("Hardware", f"{', '.join(HARDWARE[h] for h in tool.hardware)} {_source(src['hardware'])}"),
        ("Used from", f"{', '.join(LANGUAGES[lang] for lang in tool.languages)} {_source(src['languages'])}"),
        ("On this site", execution_text(tool, page, notebooks)),
        ("Links", " · ".join(links)),
    ]
    body = "\n".join(f"| {label} | {value} |" for label, value in rows)
    registry_file = markdown_link(page, f"data/tools/{tool.id}.yaml")
    return (
        f'<div class="fg-card" markdown>\n\n'
        f"{escape(tool.description)}\n\n"
        f"| {escape(tool.name)} | At a glance |\n|---|---|\n{body}\n\n"
        f'<small class="fg-card__verified">Facts last verified {tool.verified.isoformat()} · '
        f"[registry entry]({registry_file})</small>\n\n</div>\n"
    )


def tool_list(part_id: str, page: str, registry: Registry, notebooks: set[str]) -> str:
    registry.part(part_id, f"docs/{page}")
    rows = []
    for tool in registry.tools_in(part_id):
        rows.append(
            f"| [{escape(tool.name)}]({markdown_link(page, tool.page)}) | {escape(tool.description)} "
            f"| {STATUSES[tool.status]} | {license_text(tool)} | {execution_text(tool, page, notebooks)} |"
        )
    if not rows:
        return "*No tools in this part yet.*\n"
    return ("| Tool | What it is | Status | License | On this site |\n|---|---|---|---|---|\n"
            + "\n".join(rows) + "\n")


def parts_map(scope: str, page: str, registry: Registry) -> str:
    """Every part with its tools, linked; ``scope`` is 'parts' (the only map there is)."""
    if scope != "parts":
        raise BuildError(f"docs/{page}", f"the map placeholder takes 'parts', got {scope!r}")
    blocks = []
    for part in registry.parts.values():
        tools = " · ".join(
            f"[{escape(t.name)}]({markdown_link(page, t.page)})"
            + ("" if t.status == "active" else f" <small>({STATUSES[t.status].lower()})</small>")
            for t in registry.tools_in(part.id))
        blocks.append(f"### [{escape(part.title)}]({markdown_link(page, part.id + '/index.md')})\n\n"
                      f"{escape(part.summary)}\n\n{tools}\n")
    return "\n".join(blocks)
