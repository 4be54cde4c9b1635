"""No measured number is typed into a page: a time, size, ratio or error that a notebook or a
benchmark produced is a placeholder (``<!-- value: ... -->``, ``ratio``, ``change``; see
scripts/site/quotes.py) that quotes where it came from, so the next run cannot leave it stale.

A number that a source states is a fact, not a measurement. It is written inside the text of the
link to that source, where a reader sees where it comes from:
``protocol buffers cannot exceed [2 GB](https://protobuf.dev/...)``. Shapes (``16 x 16``), settings
(``ε = 10⁻⁸``) and the few names in ``ALLOWED`` below are not measurements either.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scripts.site.placeholders import TOKENS

DOCS = Path(__file__).resolve().parent.parent / "docs"

UNITS = (r"ms|µs|us|ns|s|seconds?|minutes?|hours?|kB|KB|MB|GB|TB|KiB|MiB|GiB|bytes?|%|×|x|times"
         r"|tokens/s|samples/s|GB/s|GFLOP/s|TFLOP/s")
# A quantity: a number and its unit ("3.5 s", "22,056 bytes", "45 %", "4x").
QUANTITY = re.compile(rf"(?<![\w.,/-])\d[\d,]*(?:\.\d+)?[ \u00a0\u202f]?(?:{UNITS})(?![\w/])")
# An error or a tolerance: a power of ten stated as a bound or an estimate ("about 6 × 10⁻⁶",
# "to within 10⁻⁵", "by about 1e-3"); a power of ten given as a setting ("ε = 10⁻⁸") is not one.
TOLERANCE = re.compile(r"\b(?:about|within|order of|around|roughly|at most|up to|less than|below|under)\s+"
                       r"((?:\d+(?:\.\d+)?\s?×\s?)?10[⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+|\d+(?:\.\d+)?e-\d+\b)")
# Dimensions, not quantities: "8×8 images", "a 16 x 16 tile" (but not "6 × 10⁻⁶").
SHAPE = re.compile(r"(?<![\w.])\d+\s?[x×]\s?\d+(?![\d⁰¹²³⁴⁵⁶⁷⁸⁹⁻])")
# A link to a source: its text may state the source's numbers.
SOURCE_LINK = re.compile(r"\[(?:[^\[\]]|\[[^\]]*\])*\]\(https?://[^)\s]*\)")
LINK_TARGET = re.compile(r"(?<=\])\([^)\s]*\)")
COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
# Product names that contain a memory size: the size is part of the name.
ALLOWED = re.compile(r"\bA100 40 GB and 80 GB\b")


def _blank(match: re.Match) -> str:
    """Mask a match with spaces, keeping its newlines, so that offsets and line numbers stay right."""
    return re.sub(r"[^\n]", " ", match.group(0))


def measured_numbers(markdown: str) -> list[tuple[int, str, str]]:
    """(line number, number, line) for each number in prose that looks measured and is typed in."""
    prose = markdown
    # Code blocks, code spans and placeholders, as the build sees them; then comments, links to
    # sources, other links' targets, allowed names and shapes.
    for pattern in (TOKENS, COMMENT, SOURCE_LINK, LINK_TARGET, ALLOWED, SHAPE):
        prose = pattern.sub(_blank, prose)
    found = [(m.start(1), m.group(1)) for m in TOLERANCE.finditer(prose)]
    prose = TOLERANCE.sub(_blank, prose)  # "6 × 10⁻⁶" is one number, not also a "6 ×"
    found += [(m.start(), m.group(0)) for m in QUANTITY.finditer(prose)]
    lines = markdown.splitlines()
    return [(prose.count("\n", 0, at) + 1, number, lines[prose.count("\n", 0, at)].strip())
            for at, number in sorted(found)]


@pytest.mark.parametrize("text, numbers", [
    ("The epoch took 3.5 s, 12 % longer.", ["3.5 s", "12 %"]),
    ("The file has 22,056 bytes, about 6 × 10⁻⁶ off and 4x smaller.", ["22,056 bytes", "6 × 10⁻⁶", "4x"]),
    ("equal to within\n10⁻⁵, or by about 1e-5", ["10⁻⁵", "1e-5"]),
    ("It ran [3 times faster](../page.md) here.", ["3 times"]),
])
def test_measured_looking_numbers_are_found(text, numbers):
    assert [n for _, n, _ in measured_numbers(text)] == numbers


@pytest.mark.parametrize("text", [
    "It took <!-- value: bench.csv[engine=onnx].latency | .1f --> ms.",
    "Limits: [files up to 2 GB](https://onnx.ai/onnx/repo-docs/ExternalData.html).",
    "Run `sleep 5s` or\n\n```\ntime: 3 s\n```\n",
    "8×8 images in 16 x 16 tiles on an H200 with CUDA 13.0, x86-64, PyTorch 2.x.",
    "Adam with ε = 10⁻⁸ and a learning rate of 1e-3.",
    "| A2 | A100 40 GB and 80 GB | NVIDIA Ampere |",
])
def test_quoted_linked_and_code_numbers_pass(text):
    assert measured_numbers(text) == []


def test_line_numbers_count_masked_lines():
    assert measured_numbers("```\na\nb\n```\n<!--\nnote\n-->\nIt took 2 s.") == [(8, "2 s", "It took 2 s.")]


PAGES = sorted(p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md"))


@pytest.mark.parametrize("page", PAGES)
def test_no_measured_number_is_typed_into_a_page(page):
    found = measured_numbers((DOCS / page).read_text(encoding="utf-8"))
    assert not found, (
        f"docs/{page}: numbers that look measured are typed in; quote them with <!-- value: ... -->, "
        f"or put a number that a source states in the text of the link to that source:\n"
        + "\n".join(f"  line {line}: {number!r} in: {text}" for line, number, text in found))
