"""Check every external link of the built site (needs the network; not part of `make test`).

    python -m scripts.commands.linkcheck_external [site]

Each distinct URL is fetched once (HEAD, then GET where a server refuses HEAD); failures are
listed with the pages that link them, and the exit status is 1 if any link is broken.
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.request
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urldefrag

from scripts.site.site_checks import _is_external, scan_page

AGENT = "Mozilla/5.0 (compatible; fieldguide-linkcheck)"


def external_links(site: Path) -> dict[str, list[str]]:
    links: dict[str, list[str]] = defaultdict(list)
    for page in sorted(site.rglob("*.html")):
        for url in scan_page(page).links:
            if _is_external(url):
                links[urldefrag(url)[0]].append(page.relative_to(site).as_posix())
    return links


def check(url: str, timeout: float = 20) -> str | None:
    """None if the URL answers, else the reason."""
    for method in ("HEAD", "GET"):
        request = urllib.request.Request(url, method=method, headers={"User-Agent": AGENT})
        try:
            with urllib.request.urlopen(request, timeout=timeout):
                return None
        except urllib.error.HTTPError as exc:
            if method == "HEAD" and exc.code in (403, 405, 501):
                continue  # some servers refuse HEAD; ask again with GET
            return f"HTTP {exc.code}"
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            return str(getattr(exc, "reason", exc))
    return None


def main(argv: list[str]) -> int:
    site = Path(argv[0] if argv else "site")
    if not (site / "index.html").is_file():
        print(f"{site} holds no built site: run `make build` first", file=sys.stderr)
        return 2
    links = external_links(site)
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = dict(zip(links, pool.map(check, links)))
    broken = {url: reason for url, reason in results.items() if reason}
    for url, reason in sorted(broken.items()):
        pages = ", ".join(sorted(set(links[url]))[:3])
        print(f"{reason}: {url}  (linked from {pages})")
    print(f"{len(links)} external links checked, {len(broken)} broken")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
