r"""Numbers quoted in prose, read from where they were produced, so that prose holds no copy that
can drift from the data.

    <!-- value: framework-bench.csv[framework=MLX, setting=2 threads].epoch_time | .1f -->
    <!-- value: onnx/size_kb -->                 a value the notebook onnx printed (see below)
    <!-- ratio: A / B | .1f -->                  A divided by B, each a value as above
    <!-- change: A / B | .0% -->                 A / B - 1: how much larger (or smaller) A is

A data file is a CSV or YAML file under docs/data/ with a schema; the selection in brackets must
match exactly one row (a comma inside a value is written ``\,``). A notebook publishes values in code cells tagged ``values`` whose printed
lines read ``name = value``. The optional format after ``|`` is a Python format spec. A selection
that matches no row or several, an unknown column, a notebook value that was not printed, or a
format that does not apply stops the build naming the page and the placeholder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

import nbformat

from scripts.site.addresses import notebook_source
from scripts.site.datasets import Dataset
from scripts.site.errors import BuildError

VALUES_TAG = "values"
DATA_SOURCE = re.compile(r"^(?P<file>[\w.-]+\.(?:csv|yaml))\[(?P<select>[^\]]*)\]\.(?P<field>[a-z][a-z0-9_]*)$")
NOTEBOOK_SOURCE = re.compile(r"^(?P<notebook>[a-z0-9]+(?:-[a-z0-9]+)*)/(?P<name>[a-z][a-z0-9_]*)$")
# Conditions of a selection are separated by commas; a comma inside a value is written "\,".
UNESCAPED_COMMA = re.compile(r"(?<!\\),")
VALUE_LINE = re.compile(r"^(?P<name>[a-z][a-z0-9_]*) = (?P<value>.+)$")


@dataclass(frozen=True)
class Quoted:
    value: object
    origin: str  # where it was read, for the reader's tooltip


class Sources:
    """Looks values up in the build's validated data sets and executed notebooks."""

    def __init__(self, datasets: dict[str, Dataset], notebook: Callable[[str], nbformat.NotebookNode | None],
                 notebooks: set[str]):
        self.datasets = datasets
        self.notebook = notebook      # id -> executed notebook, or None when this build did not run it
        self.notebooks = notebooks

    def lookup(self, source: str) -> Quoted | None:
        """The value named by ``source``; None when it comes from a notebook this build did not run."""
        source = source.strip()
        data = DATA_SOURCE.match(source)
        if data:
            return self._from_data(data.group("file"), data.group("select"), data.group("field"))
        from_notebook = NOTEBOOK_SOURCE.match(source)
        if from_notebook:
            return self._from_notebook(from_notebook.group("notebook"), from_notebook.group("name"))
        raise BuildError(source, "expected <file>.csv[column=value, ...].column or <notebook id>/<name>")

    def _from_data(self, name: str, select: str, column: str) -> Quoted:
        if name not in self.datasets:
            raise BuildError(name, f"unknown data file; expected one of {', '.join(sorted(self.datasets))}")
        data = self.datasets[name]
        data.column(column, name)
        wanted = {}
        for condition in filter(None, (c.strip() for c in UNESCAPED_COMMA.split(select))):
            key, sep, value = (part.strip().replace("\\,", ",") for part in condition.partition("="))
            if not sep:
                raise BuildError(name, f"selection {condition!r}: expected column=value")
            data.column(key, name)
            wanted[key] = value
        rows = [r for r in data.rows if all(str(r[k]) == v for k, v in wanted.items())]
        if len(rows) != 1:
            raise BuildError(name, f"selection [{select}] matches {len(rows)} rows; it must match exactly one")
        if rows[0][column] is None:
            raise BuildError(name, f"selection [{select}] has no value in column {column!r}")
        return Quoted(rows[0][column], f"docs/data/{name}: {select.strip()}; {column}")

    def _from_notebook(self, notebook_id: str, name: str) -> Quoted | None:
        if notebook_id not in self.notebooks:
            raise BuildError(notebook_id, "unknown notebook; notebooks are named by the files in notebooks/")
        nb = self.notebook(notebook_id)
        if nb is None:
            return None
        values = notebook_values(nb, notebook_source(notebook_id))
        if name not in values:
            raise BuildError(notebook_source(notebook_id), f"prints no value {name!r} in a cell tagged "
                                                               f"{VALUES_TAG!r}; it prints: {', '.join(values) or 'none'}")
        stamp = nb.metadata.get("fieldguide", {}).get("execution") or nb.metadata.get("fieldguide", {}).get("recorded", {})
        return Quoted(values[name], f"{notebook_source(notebook_id)}, executed {stamp.get('date', '')}: {name}")


def notebook_values(nb: nbformat.NotebookNode, where: str) -> dict[str, object]:
    """``name = value`` lines printed by the cells tagged ``values``; numbers become numbers."""
    values: dict[str, object] = {}
    for cell in nb.cells:
        if cell.cell_type != "code" or VALUES_TAG not in cell.metadata.get("tags", []):
            continue
        text = "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream")
        for line in text.splitlines():
            match = VALUE_LINE.match(line.strip())
            if not match:
                continue
            if match.group("name") in values:
                raise BuildError(where, f"value {match.group('name')!r} is printed twice")
            values[match.group("name")] = _number_or_text(match.group("value").strip())
    return values


def _number_or_text(text: str) -> object:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _format(value: object, spec: str, where: str) -> str:
    try:
        return format(value, spec) if spec else str(value)
    except (TypeError, ValueError) as exc:
        raise BuildError(where, f"format {spec!r} does not apply to {value!r}: {exc}") from None


def _split(arg: str) -> tuple[str, str]:
    body, _, spec = arg.partition("|")
    return body.strip(), spec.strip()


def _span(text: str, origin: str) -> str:
    title = origin.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    return f'<span class="fg-value" title="{title}">{text}</span>'


NOT_RUN = '<span class="fg-value" title="The notebook was not executed in this preview">(not run)</span>'


def value(sources: Sources, arg: str) -> str:
    body, spec = _split(arg)
    quoted = sources.lookup(body)
    if quoted is None:
        return NOT_RUN
    return _span(_format(quoted.value, spec, body), quoted.origin)


def _quotient(sources: Sources, arg: str, minus: float) -> str:
    body, spec = _split(arg)
    parts = [p.strip() for p in re.split(r"\s/\s", body)]
    if len(parts) != 2:
        raise BuildError(body, "expected two values separated by ' / '")
    a, b = (sources.lookup(p) for p in parts)
    if a is None or b is None:
        return NOT_RUN
    for side, quoted in zip(parts, (a, b)):
        if isinstance(quoted.value, bool) or not isinstance(quoted.value, (int, float)):
            raise BuildError(side, f"is {quoted.value!r}, not a number")
    if b.value == 0:
        raise BuildError(parts[1], "is zero")
    return _span(_format(a.value / b.value - minus, spec, body), f"{a.origin} / {b.origin}")


def ratio(sources: Sources, arg: str) -> str:
    return _quotient(sources, arg, 0.0)


def change(sources: Sources, arg: str) -> str:
    return _quotient(sources, arg, 1.0)
