"""The stack selector on the home page: every tool with its uses, hardware and languages from the
registry, in the guide's teaching order (parts as declared in parts.yaml, then each part's tools),
as a filterable list. docs/assets/javascripts/selector.js does the filtering in the browser, says
why each remaining tool matches and offers the learning paths for the ticked uses; without
JavaScript the whole list shows, in the same order."""

from __future__ import annotations

import html

from scripts.site.addresses import built_url, notebook_page
from scripts.site.errors import BuildError
from scripts.site.learning_paths import START_PAGE, LearningPaths, anchor
from scripts.site.registry import HARDWARE, LANGUAGES, STATUSES, USES, Registry
from scripts.site.stack_diagram import StackDiagram

# The selector's hardware choices; registry hardware values fold into them. A phone is what a reader
# holds, whatever its chip: the filter says "Phone" where a card says "Mobile SoC / NPU".
SELECTOR_HARDWARE = {**{h: HARDWARE[h] for h in ("nvidia", "amd", "apple", "cpu")}, "mobile": "Phone"}
SELECTOR_LANGUAGES = {k: v for k, v in LANGUAGES.items() if k != "any"}


def _fieldset(name: str, legend: str, labels: dict) -> str:
    boxes = "".join(f'<label><input type="checkbox" name="{name}" value="{value}"> {html.escape(label)}</label>'
                    for value, label in labels.items())
    return f'<fieldset class="fg-selector__group"><legend>{html.escape(legend)}</legend>{boxes}</fieldset>'


def _paths(page: str, paths: LearningPaths, directory_urls: bool) -> str:
    """One link per learning path, tagged with the uses it suits; the script shows those that fit."""
    links = "".join(f'<li data-use="{" ".join(p.uses)}"><a href="{built_url(page, START_PAGE, directory_urls)}#{anchor(p.id)}">'
                    f"{html.escape(p.title)}</a></li>" for p in paths.paths.values())
    return (f'<div class="fg-selector__paths"><p>Learning path for what you ticked:</p>'
            f'<ul>{links}</ul></div>')


def selector(scope: str, page: str, registry: Registry, notebooks: set[str], paths: LearningPaths,
             stack: StackDiagram, directory_urls: bool) -> str:
    if scope != "stack":
        raise BuildError(f"docs/{page}", f"the selector placeholder takes 'stack', got {scope!r}")
    layer_titles = {layer.id: layer.title for layer in stack.layers}
    items = []
    for tool in registry.in_teaching_order():
        if tool.status == "renamed":
            continue  # its successor stands for it
        hardware = [h for h in tool.hardware if h in SELECTOR_HARDWARE]
        languages = sorted(SELECTOR_LANGUAGES) if "any" in tool.languages else tool.languages
        notebook = (f' · <a href="{built_url(page, notebook_page(tool.id), directory_urls)}">notebook</a>'
                    if tool.id in notebooks else "")
        status = "" if tool.status == "active" else f' <span class="fg-status fg-status--{tool.status}">' \
                                                   f'{STATUSES[tool.status]}</span>'
        items.append(
            f'<li data-use="{" ".join(tool.uses)}" data-hardware="{" ".join(hardware)}" '
            f'data-language="{" ".join(languages)}"><a class="fg-selector__name" href="{built_url(page, tool.page, directory_urls)}">'
            f"{html.escape(tool.name)}</a>{status}{notebook} "
            f'<span class="fg-selector__layer">{html.escape(layer_titles[registry.layer_of(tool)])}</span>'
            f' <span class="fg-selector__what">{html.escape(tool.description)}</span> '
            f'<span class="fg-selector__why" hidden></span>'
            f'<small>{html.escape(", ".join(USES[u] for u in tool.uses))} · '
            f'{html.escape(", ".join(HARDWARE[h] for h in tool.hardware))}</small></li>')
    return (
        '<form class="fg-selector" aria-labelledby="fg-selector-title">\n'
        '<p id="fg-selector-title"><strong>Find tools for your stack.</strong> Tick what you need; tools that '
        "match every ticked group (any box within a group) stay listed, in the order this guide teaches them, "
        "each with the reason it matches.</p>\n"
        + _fieldset("use", "I want to", USES)
        + _fieldset("hardware", "On", SELECTOR_HARDWARE)
        + _fieldset("language", "From", SELECTOR_LANGUAGES)
        + '\n<p class="fg-selector__count" role="status" aria-live="polite"></p>\n'
        + _paths(page, paths, directory_urls)
        + f'\n<ol class="fg-selector__tools">{"".join(items)}</ol>\n</form>\n'
    )
