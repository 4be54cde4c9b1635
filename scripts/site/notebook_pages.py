"""Turns executed notebooks into light, searchable pages.

mkdocs-jupyter renders the HTML; this module prepares its input and cleans its output:
plotly figures become site-rendered charts, the ~575 KB of inlined CSS becomes one shared
stylesheet trimmed to the classes in use, and prompts and copy-button text leave the page (and
so the search index). Outputs lose the build machine's paths and the colours that cannot follow
the palette. It also writes the link back to the tool's page, the download link, the banner and
the environment stamp.
"""

from __future__ import annotations

import copy
import html
import re
from pathlib import Path
from typing import TYPE_CHECKING

import nbformat

from scripts import ROOT
from scripts.site.addresses import (
    Repository,
    built_url,
    markdown_link,
    notebook_download,
    notebook_page,
    notebook_source,
)
from scripts.site.errors import BuildError

if TYPE_CHECKING:
    from scripts.site.registry import Registry
    from scripts.site.static_charts import StaticCharts

PLOTLY_MIME = "application/vnd.plotly.v1+json"
STYLESHEET = "assets/stylesheets/notebook.css"

# Whole elements mkdocs-jupyter puts into each page that the site replaces or does not need:
# inline stylesheets, the clipboard script, and MathJax / Mermaid / RequireJS loaded from CDNs.
_STYLE = re.compile(r"<style\b[^>]*>.*?</style>", re.DOTALL | re.IGNORECASE)
_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.DOTALL | re.IGNORECASE)
_CLIPBOARD = re.compile(r'<div class="zeroclipboard-container">.*?</clipboard-copy>\s*</div>'
                        r'|<div class="clipboard-copy-txt"[^>]*>.*?</div>', re.DOTALL)
_PROMPT = re.compile(r'(<div class="jp-(?:InputPrompt|OutputPrompt)[^"]*"[^>]*>).*?(</div>)', re.DOTALL)
_CLASS_ATTR = re.compile(r'class="([^"]*)"')
# An absolute path (or one under ~) up to the folder that holds installed packages, or the
# standard library. A path starts a line or follows a space, a quote, a bracket or an ANSI colour
# code, and stops at whitespace, a colon, a quote or an ANSI code.
_PATH_START = r"""(^|[\s'"(\[=]|\x1b\[[0-9;]*m)(?:~|/)[^\s:'"\x1b]*?"""
_SITE_PACKAGES = re.compile(_PATH_START + r"/(?:site|dist)-packages/", re.MULTILINE)
_STDLIB = re.compile(_PATH_START + r"/lib/python3\.\d+/", re.MULTILINE)
_SGR = re.compile(r"\x1b\[([0-9;]*)m")  # an ANSI style code: colours, bold


def short_paths(text: str, root: Path) -> str:
    """``text`` with the build machine's paths shortened: installed packages under
    ``<site-packages>/``, the standard library under ``<stdlib>/``, repository files relative.

    IPython writes paths under the home folder with a ``~``; ANSI colour codes end a path."""
    text = _SITE_PACKAGES.sub(r"\1<site-packages>/", text)
    text = _STDLIB.sub(r"\1<stdlib>/", text)
    prefixes = [f"{root}/"]
    if root.is_relative_to(Path.home()):
        prefixes.append(f"~/{root.relative_to(Path.home())}/")
    for prefix in prefixes:
        text = text.replace(prefix, "")
    return text


def _named_colours_only(escape: re.Match) -> str:
    """An ANSI style code without its 256-colour and RGB colours, which nbconvert writes as fixed
    inline colours that cannot follow the palette; the 16 named colours become classes the site's
    stylesheet colours for light and dark."""
    params, kept, i = escape.group(1).split(";"), [], 0
    while i < len(params):
        if params[i] in ("38", "48") and i + 1 < len(params):
            i += 3 if params[i + 1] == "5" else 5  # 38;5;N or 38;2;R;G;B
        else:
            kept.append(params[i])
            i += 1
    return f"\x1b[{';'.join(kept)}m" if kept else ""


def _page_text(text: str, root: Path) -> str:
    """Output text as the page shows it: short paths, palette-following colours."""
    return _SGR.sub(_named_colours_only, short_paths(text, root))


def _for_the_page(output: nbformat.NotebookNode, root: Path) -> None:
    if output.output_type == "error":
        output.evalue = _page_text(output.evalue, root)
        output.traceback = [_page_text(line, root) for line in output.traceback]
    elif output.output_type == "stream":
        output.text = _page_text(output.text, root)
    elif "text/plain" in output.get("data", {}):
        output.data["text/plain"] = _page_text(output.data["text/plain"], root)


def prepare(nb: nbformat.NotebookNode, pictures: StaticCharts, root: Path = ROOT) -> nbformat.NotebookNode:
    """Give plotly outputs an HTML form nbconvert can render (it drops the JSON mimetype): the
    site's chart box with its static picture, as charts have. Take the build machine's paths and
    fixed colours out of tracebacks, warnings and printed text."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            _for_the_page(output, root)
            data = output.get("data", {})
            if PLOTLY_MIME in data:
                figure = data.pop(PLOTLY_MIME)
                title = (figure.get("layout", {}).get("title") or {})
                label = title.get("text") if isinstance(title, dict) else str(title)
                data["text/html"] = pictures.plot(figure, label or "Chart produced by this notebook.")
                data.pop("text/plain", None)
    return nb


def clean(content: str) -> str:
    """Strip what mkdocs-jupyter inlines into every notebook page, keep outputs (long logs and
    tables that every reader's browser would download) out of the search index, and give headings
    the site's permalinks."""
    content = content.replace('<div class="jp-OutputArea jp-Cell-outputArea">',
                              '<div class="jp-OutputArea jp-Cell-outputArea" data-search-exclude>')
    content = _STYLE.sub("", content)
    content = _SCRIPT.sub("", content)
    content = _CLIPBOARD.sub("", content)
    # Heading permalinks as on Markdown pages: Material's class shows them on hover and focus.
    content = content.replace('<a class="anchor-link" href=', '<a class="headerlink" title="Permanent link" href=')
    return _PROMPT.sub(r"\1\2", content)


def used_classes(content: str) -> set[str]:
    return {name for attr in _CLASS_ATTR.findall(content) for name in attr.split()}


def _split_rules(css: str) -> list[tuple[str, str]]:
    """Top-level (prelude, body) pairs of a stylesheet, braces matched; bodies keep nesting."""
    rules, i, depth, start, prelude = [], 0, 0, 0, ""
    while i < len(css):
        ch = css[i]
        if ch == "{":
            if depth == 0:
                prelude, start = css[start:i].strip(), i + 1
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                rules.append((prelude, css[start:i]))
                start = i + 1
        elif ch == ";" and depth == 0:  # @charset / @import statements
            start = i + 1
        i += 1
    return rules


def _scan(text: str):
    """Each character of a selector with whether it lies inside (), [] or a string (brackets included)."""
    depth, quote = 0, None
    for ch in text:
        if quote:
            quote = None if ch == quote else quote
            yield ch, True
        elif ch in "\"'":
            quote = ch
            yield ch, True
        elif ch in "([":
            depth += 1
            yield ch, True
        elif ch in ")]":
            depth -= 1
            yield ch, True
        else:
            yield ch, depth > 0


def _selectors(prelude: str) -> list[str]:
    """A selector list split at its own commas, not at those inside :is(.a, .b) or [x=","]."""
    selectors, current = [], ""
    for ch, nested in _scan(prelude):
        if ch == "," and not nested:
            selectors.append(current)
            current = ""
        else:
            current += ch
    return selectors + [current]


def _required_classes(selector: str) -> set[str]:
    """The classes an element must carry somewhere in the page for ``selector`` to match.

    Only classes outside brackets count: ``[href^='x.y']`` holds a value, not the class ``y``;
    ``:not(.a)`` matches exactly where ``a`` is absent; a class inside ``:is()`` or ``:has()`` is
    one alternative among others. Keeping a rule that cannot match costs bytes; dropping one that
    can breaks the page."""
    outside = "".join(ch for ch, nested in _scan(selector) if not nested)
    return set(re.findall(r"\.([A-Za-z0-9_-]+)", outside))


def trim_css(css: str, classes: set[str]) -> str:
    """Keep only rules whose selectors could match markup using ``classes``."""
    out = []
    for prelude, body in _split_rules(css):
        if prelude.startswith("@media") or prelude.startswith("@supports"):
            inner = trim_css(body, classes)
            if inner:
                out.append(f"{prelude}{{{inner}}}")
        elif prelude.startswith("@"):
            if "keyframes" in prelude:
                out.append(f"{prelude}{{{body}}}")
        else:
            selectors = [s for s in _selectors(prelude) if _required_classes(s) <= classes]
            if selectors:
                out.append(f"{','.join(selectors)}{{{body}}}")
    return "".join(out)


def stylesheet(assets: Path, classes: set[str]) -> str:
    """The shared notebook stylesheet: mkdocs-jupyter's CSS trimmed, light and dark schemes."""
    base = (assets / "index.css").read_text(encoding="utf-8").replace(".highlight ", ".highlight-ipynb ")
    light = (assets / "theme-light.css").read_text(encoding="utf-8")
    dark = (assets / "theme-dark.css").read_text(encoding="utf-8").replace(
        ".jupyter-wrapper{", '[data-md-color-scheme="slate"] .jupyter-wrapper{')
    return trim_css(base, classes | {"jupyter-wrapper"}) + light + dark


def tagged_output(nb: nbformat.NotebookNode, tag: str, where: str) -> str:
    """The outputs of the cell tagged ``tag``, as HTML for a page (a results table, say)."""
    cells = [c for c in nb.cells if c.cell_type == "code" and tag in c.metadata.get("tags", [])]
    if len(cells) != 1:
        raise BuildError(where, f"expected one code cell tagged {tag!r}, found {len(cells)}")
    parts = []
    for output in cells[0].outputs:
        data = output.get("data", {})
        if "text/html" in data:
            # pandas writes a scoped stylesheet and a class that keep the theme's table style off
            table = _STYLE.sub("", data["text/html"]).replace(' border="1" class="dataframe"', "")
            parts.append(table.replace('<tr style="text-align: right;">', "<tr>"))
        elif "text/plain" in data:
            parts.append(f"<pre><code>{html.escape(data['text/plain'])}</code></pre>")
    if not parts:
        raise BuildError(where, f"the cell tagged {tag!r} has no output to show")
    return "\n".join(parts)


def quoted_output(nb: nbformat.NotebookNode | None, notebook_id: str, tag: str, page: str, where: str) -> str:
    """The block an ``output`` placeholder becomes on ``page``: the tagged cell's outputs with the
    notebook's execution date, or, for a notebook this build did not execute (``nb`` None), a
    notice that links to it."""
    link = markdown_link(page, notebook_page(notebook_id))
    if nb is None:
        return (f'!!! warning "Not executed in this preview"\n    This table comes from the '
                f"[notebook]({link}), which `make preview` does not run.\n")
    body = tagged_output(nb, tag, where)
    stamp = nb.metadata.fieldguide.get("execution") or nb.metadata.fieldguide.get("recorded", {})
    return (f'<div class="fg-output">\n{body}\n</div>\n\n'
            f"<small>Output of the [notebook]({link}), executed {stamp.get('date', '')}.</small>\n")


def banner(nb: nbformat.NotebookNode, executed: bool) -> str:
    recorded = nb.metadata.get("fieldguide", {}).get("recorded")
    if recorded:
        return ('<div class="admonition info fg-nb-banner"><p class="admonition-title">Recorded on '
                f'{html.escape(recorded["gpu"])}, {html.escape(str(recorded["date"]))}</p><p>This notebook needs '
                'hardware the site is not built on. Its outputs were recorded by <code>'
                f'{html.escape(recorded["command"])}</code> and are shown as recorded; the build does not re-run it. '
                'The provenance is at the end of the page.</p></div>')
    if not executed:
        return ('<div class="admonition warning fg-nb-banner"><p class="admonition-title">Not executed in this '
                'preview</p><p>This page shows the notebook without outputs: <code>make preview</code> does not '
                'run notebooks. <code>make serve</code> and the published site show it executed.</p></div>')
    return ""


def _versions(packages: dict) -> str:
    return ", ".join(f"{html.escape(name)} {html.escape(str(v))}" for name, v in sorted(packages.items()))


def stamp(nb: nbformat.NotebookNode) -> str:
    meta = nb.metadata.get("fieldguide", {})
    if meta.get("recorded"):
        r = meta["recorded"]
        parts = [f"Recorded {html.escape(str(r['date']))} on {html.escape(r['gpu'])}",
                 f"driver {html.escape(str(r.get('driver', '?')))}, CUDA {html.escape(str(r.get('cuda', '?')))}",
                 f"Python {html.escape(str(r.get('python', '?')))}", _versions(r.get("packages", {})),
                 f"command <code>{html.escape(r['command'])}</code>"]
    elif meta.get("execution"):
        e = meta["execution"]
        parts = [f"Executed {html.escape(e['date'])} in {e['duration_s']} s",
                 f"environment <code>{html.escape(e['env'])}</code>", f"Python {html.escape(e['python'])}",
                 _versions(e.get("packages", {})),
                 f"CPU: {html.escape(e['cpu'])} ({e['cores']} cores), no GPU"]
    else:
        return ""
    return '<div class="fg-nb-stamp"><p>' + " · ".join(p for p in parts if p) + "</p></div>"


def links(notebook_id: str, repository: Repository, home: tuple[str, str], directory_urls: bool) -> str:
    """The way back to the page that presents the notebook, then download, Colab and source."""
    text, url = home
    page, source = notebook_page(notebook_id), notebook_source(notebook_id)
    return (f'<p class="fg-nb-home"><a href="{html.escape(url)}"><span aria-hidden="true">← </span>'
            f'{html.escape(text)}</a></p>'
            f'<p class="fg-nb-links"><a href="{built_url(page, notebook_download(notebook_id), directory_urls)}" download>'
            f'Download notebook (.ipynb, with outputs)</a>'
            f' · <a href="{repository.colab(source)}">Open in Colab</a>'
            f' · <a href="{repository.blob(source)}">Source</a></p>')


def home_page(notebook_id: str, registry: Registry, part: str) -> tuple[str, str]:
    """What a notebook page links back to, as (link text, page path under docs/): its tool's page,
    or the overview of the part a notebook about no single tool belongs to."""
    tool = registry.tools.get(notebook_id)
    if tool:
        return f"Tool page: {tool.name}", tool.page
    return f"Part overview: {registry.parts[part].title}", f"{part}/index.md"


def plain_title(title: str | None) -> str | None:
    """The page title as text. mkdocs-jupyter takes it from the first heading as HTML
    (``Weights &amp; Biases``); MkDocs titles are text, which the theme escapes where it writes
    them into an attribute: escaped twice, a link's accessible name no longer matches its text."""
    return html.unescape(title) if title else title


_HEADING = re.compile(r'<h([1-6]) id="([^"]+)"[^>]*>(.*?)</h\1>', re.DOTALL)
_TAG = re.compile(r"<[^>]+>")


def align_toc(items: list, content: str) -> None:
    """Point the table of contents at the headings' real ids.

    mkdocs-jupyter builds the TOC from the Markdown but nbconvert writes the heading ids, and the
    two treat code spans differently (``nn.Module``): match them by order and level, and take the
    ids and titles from the HTML.
    """
    headings = [(int(level), hid, html.unescape(_TAG.sub("", inner)).rstrip("¶").strip())
                for level, hid, inner in _HEADING.findall(content)]
    flat = []

    def walk(entries):
        for entry in entries:
            flat.append(entry)
            walk(entry.children)

    walk(items)
    position = 0
    for entry in flat:
        while position < len(headings) and headings[position][0] != entry.level:
            position += 1
        if position == len(headings):
            return
        _, entry.id, entry.title = headings[position]
        position += 1


def finish(content: str, nb: nbformat.NotebookNode, notebook_id: str, repository: Repository, executed: bool,
           home: tuple[str, str], directory_urls: bool) -> str:
    """The full notebook page body: stylesheet link, links, banner, cleaned notebook, stamp.
    ``home`` is the page that presents the notebook: (link text, docs-relative path)."""
    page = notebook_page(notebook_id)
    text, target = home
    return (f'<link rel="stylesheet" href="{built_url(page, STYLESHEET, directory_urls)}">'
            + links(notebook_id, repository, (text, built_url(page, target, directory_urls)), directory_urls)
            + banner(nb, executed) + clean(content) + stamp(nb))
