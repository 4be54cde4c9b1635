"""Where things live, each rule once: the paths of a notebook's source, page and download; links
between built pages and files, for both settings of MkDocs' ``use_directory_urls``; and the
repository's addresses, read from mkdocs.yml's ``repo_url`` and ``edit_uri``."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from scripts.site.errors import BuildError


def notebook_source(notebook_id: str) -> str:
    """The notebook's file in the repository."""
    return f"notebooks/{notebook_id}.ipynb"


def notebook_page(notebook_id: str) -> str:
    """The docs-relative source path of the notebook's page (mkdocs-jupyter takes notebooks/*.ipynb)."""
    return f"notebooks/{notebook_id}.ipynb"


def notebook_id(page: str) -> str | None:
    """The notebook a docs-relative page path belongs to, or None for any other page."""
    match = re.fullmatch(r"notebooks/([^/]+)\.ipynb", page)
    return match.group(1) if match else None


def notebook_download(notebook_id: str) -> str:
    """Where the executed .ipynb is served, under the site root."""
    return f"notebooks/{notebook_id}/{notebook_id}.ipynb"


def markdown_link(from_page: str, to: str) -> str:
    """A Markdown link between docs-relative files: MkDocs checks it and rewrites it for either URL
    setting, so it stays a plain relative path."""
    return posixpath.relpath(to, posixpath.dirname(from_page) or ".")


def _built(source: str, directory_urls: bool) -> tuple[str, bool]:
    """The site path a docs-relative source is built to, and whether that path is a folder."""
    if not source.endswith(".md") and notebook_id(source) is None:
        return source, False  # a file copied or generated as it is
    stem = source.rsplit(".", 1)[0]
    if stem == "index" or stem.endswith("/index"):
        folder = stem[: -len("index")].rstrip("/")
        return (folder, True) if directory_urls else (stem + ".html", False)
    return (stem, True) if directory_urls else (stem + ".html", False)


def built_url(from_page: str, target: str, directory_urls: bool) -> str:
    """The URL of ``target`` (a docs-relative page or file, optionally with ``#anchor``) relative to
    ``from_page``'s built page. For HTML that MkDocs does not rewrite: SVG, forms, raw blocks."""
    path, sep, anchor = target.partition("#")
    page, page_is_folder = _built(from_page, directory_urls)
    base = page if page_is_folder else posixpath.dirname(page)
    target_path, target_is_folder = _built(path, directory_urls)
    link = posixpath.relpath(target_path or ".", base or ".")
    if target_is_folder:
        link = "./" if link == "." else link + "/"
    return link + sep + anchor


@dataclass(frozen=True)
class Repository:
    """The repository's web address and the branch that pages link to for editing and source."""
    url: str
    branch: str

    @classmethod
    def from_config(cls, repo_url: str, edit_uri: str) -> "Repository":
        match = re.fullmatch(r"edit/([^/]+)/docs/", edit_uri or "")
        if not repo_url or not match:
            raise BuildError("mkdocs.yml", f"expected repo_url and an edit_uri of the form edit/<branch>/docs/, "
                                           f"got repo_url {repo_url!r} and edit_uri {edit_uri!r}")
        return cls(repo_url.rstrip("/"), match.group(1))

    def edit(self, path: str) -> str:
        return f"{self.url}/edit/{self.branch}/{path}"

    def blob(self, path: str) -> str:
        return f"{self.url}/blob/{self.branch}/{path}"

    def colab(self, path: str) -> str:
        """Google Colab's address for a notebook of a GitHub repository."""
        return self.blob(path).replace("https://github.com/", "https://colab.research.google.com/github/", 1)
