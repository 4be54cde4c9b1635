"""The stack selector on the home page: every tool with its uses, hardware and languages from the
registry, as a filterable list. docs/assets/javascripts/selector.js does the filtering in the
browser; without JavaScript the whole list shows."""

from __future__ import annotations

import html

from scripts.cards import HARDWARE_LABELS, LANGUAGE_LABELS, STATUS_LABELS
from scripts.errors import BuildError
from scripts.markdown_text import relative
from scripts.registry import Registry

USE_LABELS = {"train": "Train", "fine-tune": "Fine-tune", "serve": "Serve", "on-device": "Run on a device",
              "kernels": "Write kernels"}
# The selector's hardware choices; registry hardware values fold into them.
SELECTOR_HARDWARE = {"nvidia": "NVIDIA GPU", "amd": "AMD GPU", "apple": "Apple silicon", "cpu": "CPU",
                     "mobile": "Phone"}
SELECTOR_LANGUAGES = {k: v for k, v in LANGUAGE_LABELS.items() if k != "any"}


def _url(page: str, target: str) -> str:
    """Built URL of a docs page, relative to the page at ``page`` (directory URLs)."""
    link = relative(page, target)
    return link[: -len("index.md")] if link.endswith("index.md") else link[: -len(".md")] + "/"


def _fieldset(name: str, legend: str, labels: dict) -> str:
    boxes = "".join(f'<label><input type="checkbox" name="{name}" value="{value}"> {html.escape(label)}</label>'
                    for value, label in labels.items())
    return f'<fieldset class="fg-selector__group"><legend>{html.escape(legend)}</legend>{boxes}</fieldset>'


def selector(scope: str, page: str, registry: Registry, notebooks: set[str]) -> str:
    if scope != "stack":
        raise BuildError(f"docs/{page}", f"the selector placeholder takes 'stack', got {scope!r}")
    items = []
    for tool in sorted(registry.tools.values(), key=lambda t: t.name.lower()):
        if tool.status == "renamed":
            continue  # its successor stands for it
        hardware = [h for h in tool.hardware if h in SELECTOR_HARDWARE]
        languages = sorted(SELECTOR_LANGUAGES) if "any" in tool.languages else tool.languages
        notebook = (f' · <a href="{_url(page, f"notebooks/{tool.id}.md")}">notebook</a>'
                    if tool.id in notebooks else "")
        status = "" if tool.status == "active" else f' <span class="fg-status fg-status--{tool.status}">' \
                                                   f'{STATUS_LABELS[tool.status]}</span>'
        items.append(
            f'<li data-use="{" ".join(tool.uses)}" data-hardware="{" ".join(hardware)}" '
            f'data-language="{" ".join(languages)}"><a class="fg-selector__name" href="{_url(page, tool.page)}">{html.escape(tool.name)}</a>'
            f"{status}{notebook} <span class=\"fg-selector__what\">{html.escape(tool.description)}</span> "
            f'<small>{html.escape(", ".join(USE_LABELS[u] for u in tool.uses))} · '
            f'{html.escape(", ".join(HARDWARE_LABELS[h] for h in tool.hardware))}</small></li>')
    return (
        '<form class="fg-selector" aria-labelledby="fg-selector-title">\n'
        '<p id="fg-selector-title"><strong>Find tools for your stack.</strong> Tick what you need; tools that '
        "match every ticked group (any box within a group) stay listed.</p>\n"
        + _fieldset("use", "I want to", USE_LABELS)
        + _fieldset("hardware", "On", SELECTOR_HARDWARE)
        + _fieldset("language", "From", SELECTOR_LANGUAGES)
        + '\n<p class="fg-selector__count" role="status" aria-live="polite"></p>\n'
        f'<ul class="fg-selector__tools">{"".join(items)}</ul>\n</form>\n'
    )
