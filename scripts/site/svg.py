"""Small pieces for the site's inline SVG diagrams (stack_diagram.py, flow_diagrams.py).

Diagrams carry classes, not colours: docs/assets/stylesheets/fieldguide.css colours them from
Material's palette variables, so they follow the light and dark schemes. Text is measured by an
estimate of the system font's average character width, generous so that labels fit their boxes.
"""

from __future__ import annotations

import html

WIDTH = 720  # user units of every diagram; about the width of a page's text column
# Advance widths of Helvetica (per 1000 units of font size, from its metrics), which the system
# font stacks approach; a margin covers wider fonts and bold text.
_WIDTHS = dict(zip(
    " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~",
    (278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, *[556] * 10, 278, 278, 584,
     584, 584, 556, 1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667, 778,
     722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, 333, 556, 556, 500, 556, 556, 278,
     556, 556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334,
     260, 334, 584)))
MARGIN = 1.08
BOLD = 1.07


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def text_width(text: str, size: float, bold: bool = False) -> float:
    units = sum(_WIDTHS.get(ch, 1000) for ch in text)  # anything else (×, →) counted as wide
    return units / 1000 * size * MARGIN * (BOLD if bold else 1)


def wrap(text: str, width: float, size: float, bold: bool = False) -> list[str]:
    """``text`` broken at spaces into lines no wider than ``width`` (a longer word keeps its own line)."""
    lines: list[str] = []
    for word in text.split():
        if lines and text_width(f"{lines[-1]} {word}", size, bold) <= width:
            lines[-1] += f" {word}"
        else:
            lines.append(word)
    return lines


def text(x: float, y: float, lines: list[str], size: float, css: str = "", leading: float = 1.3) -> str:
    """Lines of text, the first baseline at ``y``."""
    spans = "".join(f'<tspan x="{x:g}" dy="{0 if i == 0 else size * leading:g}">{esc(line)}</tspan>'
                    for i, line in enumerate(lines))
    return f'<text class="{css}" x="{x:g}" y="{y:g}" font-size="{size:g}">{spans}</text>'


def box(x: float, y: float, w: float, h: float, css: str) -> str:
    return f'<rect class="{css}" x="{x:g}" y="{y:g}" width="{w:g}" height="{h:g}" rx="4"/>'


def link(href: str, body: str) -> str:
    """A link in SVG. ``xlink:href``, not ``href``: Material's instant navigation assigns ``href`` on
    every element that has the plain attribute, which an SVG link's read-only ``href`` refuses."""
    return f'<a xlink:href="{esc(href)}">{body}</a>'


def arrow_marker(marker_id: str) -> str:
    return (f'<defs><marker id="{marker_id}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
            f'markerHeight="7" orient="auto-start-reverse"><path class="fg-d-arrowhead" d="M0 0L10 5L0 10z"/>'
            f'</marker></defs>')


def figure(svg_id: str, width: float, height: float, title: str, body: str, caption: str, listing: str,
           listing_summary: str) -> str:
    """The diagram as a figure: the SVG (named by its title), a caption, and a text alternative with
    the same facts as a list, in a collapsible section that screen readers and search also read."""
    return (f'<figure class="fg-diagram" id="{svg_id}">'
            f'<div class="fg-diagram__scroll"><svg class="fg-diagram__svg" viewBox="0 0 {width:g} {height:g}" '
            f'role="group" aria-labelledby="{svg_id}-title"><title id="{svg_id}-title">{esc(title)}</title>'
            f"{body}</svg></div>"
            f'<figcaption>{caption}</figcaption>'
            f'<details class="fg-diagram__list"><summary>{esc(listing_summary)}</summary>{listing}</details>'
            f"</figure>\n")
