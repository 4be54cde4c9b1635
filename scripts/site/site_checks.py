"""Checks of the built site that MkDocs does not make: every internal link and anchor resolves
(notebook pages included), and nothing is loaded from another host."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

# Elements whose URL attribute makes the browser fetch something when the page loads.
FETCHING = {("script", "src"), ("img", "src"), ("iframe", "src"), ("source", "src"), ("video", "src"),
            ("audio", "src"), ("embed", "src"), ("object", "data"), ("img", "srcset"), ("source", "srcset"),
            ("video", "poster"), ("input", "src"), ("track", "src")}
FETCHING_LINK_RELS = {"stylesheet", "preconnect", "dns-prefetch", "preload", "prefetch", "modulepreload", "icon",
                      "manifest", "apple-touch-icon"}
CSS_URL = re.compile(r"""(?:url\(\s*['"]?|@import\s+['"])(https?:)?//""", re.IGNORECASE)


@dataclass
class PageScan:
    ids: set[str] = field(default_factory=set)
    links: list[str] = field(default_factory=list)      # <a href>
    fetches: list[tuple[str, str]] = field(default_factory=list)  # (tag, url)


class _Parser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.scan = PageScan()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("id", "name") if tag == "a" else ("id",):
            if attrs.get(key):
                self.scan.ids.add(attrs[key])
        if tag == "a" and attrs.get("href") is not None:
            self.scan.links.append(attrs["href"])
        if tag == "link" and attrs.get("href"):
            rels = set((attrs.get("rel") or "").lower().split())
            if rels & FETCHING_LINK_RELS:
                self.scan.fetches.append(("link " + " ".join(sorted(rels)), attrs["href"]))
        for attr in ("src", "data", "srcset", "poster"):
            if (tag, attr) in FETCHING and attrs.get(attr):
                self.scan.fetches.append((tag, attrs[attr]))
        if attrs.get("style") and CSS_URL.search(attrs["style"]):
            self.scan.fetches.append((tag + " style", attrs["style"]))


def scan_page(path: Path) -> PageScan:
    parser = _Parser()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser.scan


def _is_external(url: str) -> bool:
    parts = urlsplit(url.strip())
    return bool(parts.scheme in ("http", "https") or url.strip().startswith("//"))


def _target(site: Path, page: Path, url: str, base: str) -> tuple[Path, str]:
    parts = urlsplit(url)
    rel_page = page.relative_to(site).as_posix()
    path = unquote(parts.path)
    if path.startswith("/"):  # absolute paths (the 404 page uses them) start at site_url's path
        path = "/" + path[len(base):] if path.startswith(base) else path
        target = posixpath.normpath(path.lstrip("/") or ".")
    else:
        target = posixpath.normpath(posixpath.join(posixpath.dirname(rel_page), path)) if path else rel_page
    resolved = site / target
    if resolved.is_dir():
        resolved = resolved / "index.html"
    return resolved, unquote(parts.fragment)


def check_links(site: Path, base: str = "/") -> list[str]:
    """Broken internal links and anchors, as 'page: url (reason)'; ``base`` is site_url's path."""
    pages = {p: scan_page(p) for p in site.rglob("*.html")}
    problems = []
    for page, scan in pages.items():
        for url in scan.links:
            if _is_external(url) or url.startswith(("mailto:", "javascript:", "data:")):
                continue
            target, fragment = _target(site, page, url, base)
            where = f"{page.relative_to(site)}: {url}"
            if not target.exists():
                problems.append(f"{where} (no such file: {target.relative_to(site) if target.is_relative_to(site) else target})")
            elif fragment and target.suffix == ".html" and fragment not in pages[target].ids:
                problems.append(f"{where} (no anchor #{fragment} in {target.relative_to(site)})")
    return sorted(problems)


def check_third_party(site: Path) -> list[str]:
    """Anything a page or stylesheet would fetch from another host."""
    problems = []
    for page in site.rglob("*.html"):
        for tag, url in scan_page(page).fetches:
            if _is_external(url) or CSS_URL.search(url):
                problems.append(f"{page.relative_to(site)}: <{tag}> {url[:120]}")
    for sheet in site.rglob("*.css"):
        for match in CSS_URL.finditer(sheet.read_text(encoding="utf-8", errors="replace")):
            start = match.start()
            problems.append(f"{sheet.relative_to(site)}: {sheet.read_text(encoding='utf-8')[start:start + 120]}")
    return sorted(problems)
