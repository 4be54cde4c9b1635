"""Expands placeholders written as HTML comments, e.g. ``<!-- card: pytorch -->``.

A comment counts as a placeholder when it has the shape ``<!-- name: argument -->``. Unknown
names and bad arguments stop the build naming the page, so a typo never renders as nothing.
Comments of any other shape are left alone.
"""

from __future__ import annotations

import re
from typing import Callable

from scripts.errors import BuildError

# Code is matched first so that a placeholder shown inside a code block or span stays as written.
TOKENS = re.compile(
    r"(?P<fence>^(?P<indent>[ \t]*)(?P<mark>```+|~~~+).*?^(?P=indent)(?P=mark)[ \t]*$)"
    r"|(?P<code>`+)[^`].*?(?P=code)"
    r"|<!--\s*(?P<name>[a-z][a-z0-9-]*):\s*(?P<arg>[^>]*?)\s*-->",
    re.MULTILINE | re.DOTALL,
)

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
