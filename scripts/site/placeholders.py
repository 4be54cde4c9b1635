"""Expands placeholders written as HTML comments, e.g. ``<!-- card: pytorch -->``.

A comment counts as a placeholder when it has the shape ``<!-- name: argument -->``. Unknown
names and bad arguments stop the build naming the page, so a typo never renders as nothing.
Comments of any other shape are left alone. A placeholder still present in the rendered page (one
that an unclosed code span or fence hid from expansion) stops the build too.
"""

from __future__ import annotations

import re
from typing import Callable

from scripts.site.errors import BuildError

# Code is matched first so that a placeholder shown inside a code block or span stays as written.
# A code span ends at a blank line, as in Markdown, so a stray backtick cannot swallow a page.
TOKENS = re.compile(
    r"(?P<fence>^(?P<indent>[ \t]*)(?P<mark>```+|~~~+).*?^(?P=indent)(?P=mark)[ \t]*$)"
    r"|(?P<code>`+)[^`](?:(?!\n[ \t]*\n).)*?(?P=code)"
    r"|<!--\s*(?P<name>[a-z][a-z0-9-]*):\s*(?P<arg>[^>]*?)\s*-->",
    re.MULTILINE | re.DOTALL,
)

# In rendered HTML a placeholder shown as code is escaped (&lt;!--), so any match here was never expanded.
LEFTOVER = re.compile(r"<!--\s*[a-z][a-z0-9-]*:\s*[^>]*?-->")

# handler(argument, page_src_path) -> Markdown
Handler = Callable[[str, str], str]


def expand(markdown: str, page: str, handlers: dict[str, Handler]) -> str:
    """Replace every placeholder in ``markdown`` using ``handlers``; ``page`` names the source file."""

    def replace(match: re.Match) -> str:
        if match.group("name") is None:
            return match.group(0)
        name, arg = match.group("name"), match.group("arg")
        if name not in handlers:
            raise BuildError(f"docs/{page}", f"unknown placeholder '{name}' in {match.group(0)!r}; "
                                             f"known: {', '.join(sorted(handlers))}")
        if not arg:
            raise BuildError(f"docs/{page}", f"placeholder '{name}' needs an argument, e.g. <!-- {name}: id -->")
        try:
            return handlers[name](arg, page)
        except BuildError as exc:
            raise BuildError(f"docs/{page}, placeholder '{name}: {arg}'", exc.message) from None

    return TOKENS.sub(replace, markdown)


def check_expanded(html: str, page: str) -> None:
    """Fail when a placeholder reached the rendered page unexpanded."""
    match = LEFTOVER.search(html)
    if match:
        raise BuildError(f"docs/{page}", f"placeholder {match.group(0)!r} was not expanded: an unclosed code span "
                                         f"or fence earlier on the page (a stray backtick) hides it from the build")
