"""Where pages live: the one rule for a notebook page's path, and links between built pages."""

from __future__ import annotations

import posixpath


def notebook_page(notebook_id: str) -> str:
    """The docs-relative path MkDocs gives the page of notebooks/<id>.ipynb."""
    return f"notebooks/{notebook_id}.ipynb"


def _built_folder(source: str) -> str:
    """The folder a docs-relative source file is built into, with directory URLs."""
    stem = source.rsplit(".", 1)[0]
    if stem == "index":
        return "."
    return stem[: -len("/index")] if stem.endswith("/index") else stem


def built_url(from_page: str, target: str) -> str:
    """The URL of ``target``'s built page (a docs-relative source path, optionally with ``#anchor``)
    relative to ``from_page``'s. For HTML that MkDocs does not rewrite, such as SVG and forms;
    Markdown links use ``markdown_text.relative`` and MkDocs checks them."""
    path, sep, anchor = target.partition("#")
    link = posixpath.relpath(_built_folder(path), _built_folder(from_page))
    return ("./" if link == "." else link + "/") + sep + anchor
