"""Helpers that turn data-file text into Markdown that shows as typed and never runs."""

import html
import re

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~])")


def escape(text: object) -> str:
    """Escape text for a Markdown table cell or paragraph: no HTML, no Markdown syntax."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(str(text), quote=True)).replace("\n", " ")

