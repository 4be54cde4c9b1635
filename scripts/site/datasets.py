"""The data sets that charts and tables show, each with its schema declared once.

A data set is either a file under docs/data/ (CSV for measurements, YAML for facts) or rows derived
from the tools registry. Each yields typed rows, the columns to show in the data table, and a
provenance line. Measurement CSVs carry their provenance in required columns.
"""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from scripts.site.capability_agreement import MATRIX_FILE, check_capabilities_agree
from scripts.site.datafiles import Field, load_yaml, read_csv, validate_record
from scripts.site.errors import BuildError
from scripts.site.registry import Registry

CAPABILITY_VALUES = ("yes", "partial", "no")

# Columns every measurement CSV carries, so each row says where and how it was measured.
PROVENANCE_FIELDS = (
    Field("cpu", description="CPU model"),
    Field("cores", "int", description="logical cores visible to the run"),
    Field("threads", "int", description="threads the libraries were allowed"),
    Field("versions", description="package versions, 'name=version' separated by spaces"),
    Field("date", "date"),
    Field("script", description="the script that wrote the row, relative to the repository"),
    Field("commit", description="git commit of the repository when measured"),
    # Written by the benchmark harness (scripts/bench/harness.py); empty in rows measured before it.
    Field("cpu_flags", required=False, description="kernel-relevant instruction-set extensions the CPU reports"),
    Field("kernel", required=False, description="operating-system kernel release"),
    Field("governor", required=False, description="cpufreq governor of the pinned CPUs, or 'not exposed'"),
    Field("cpu_list", required=False, description="the CPUs the worker processes were pinned to"),
    Field("smt_siblings", required=False, description="each pinned CPU with the CPUs that share its core"),
    Field("blas", required=False, description="BLAS libraries and threading layers loaded by the workers"),
    Field("load_avg", required=False, description="1-, 5- and 15-minute load averages when the run started"),
    Field("processes", "int", required=False, description="independent worker processes behind the row"),
    Field("order_seed", "int", required=False, description="seed of the run's randomised process order"),
    Field("process_order", required=False, description="positions of the row's processes in the run's order"),
)


@dataclass
class Column:
    name: str
    label: str
    unit: str | None = None
    shown: bool = True  # False: used by a chart's encoding but left out of its data table


@dataclass
class Dataset:
    name: str
    rows: list[dict]
    columns: list[Column]
    provenance: str            # HTML, escaped
    source_file: str | None    # docs-relative path of the raw file, if there is one

    def column(self, name: str, where: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise BuildError(where, f"data set {self.name!r} has no column {name!r}; "
                                f"columns: {', '.join(c.name for c in self.columns)}")


def _start_date(partial: str) -> dt.date:
    parts = [int(p) for p in partial.split("-")] + [1, 1]
    return dt.date(parts[0], parts[1], parts[2])


def tools_dataset(registry: Registry, docs_dir: Path) -> Dataset:
    rows = []
    for tool in sorted(registry.tools.values(), key=lambda t: _start_date(t.first_release)):
        successor = registry.tools[tool.successor].name if tool.successor else ""
        rows.append({
            "tool": tool.name, "part": registry.parts[tool.part].title, "first_release": tool.first_release,
            "start": _start_date(tool.first_release), "end": tool.verified, "status": tool.status,
            "successor": successor, "source": tool.sources["first_release"],
            "status_source": tool.sources["status"],
        })
    verified = sorted({t.verified for t in registry.tools.values()})
    provenance = (f"Facts from the tools registry (docs/data/tools/, one file per tool); each row links its "
                  f"sources. Last verified {verified[0].isoformat()}"
                  + (f" to {verified[-1].isoformat()}" if verified[-1] != verified[0] else "") + ".")
    columns = [Column("tool", "Tool"), Column("part", "Part"), Column("first_release", "First release"),
               Column("status", "Status"), Column("successor", "Successor"), Column("source", "Source (release)"),
               Column("status_source", "Source (status)"),
               Column("start", "Start", shown=False), Column("end", "Verified", shown=False)]
    return Dataset("tools", rows, columns, html.escape(provenance), None)


CAPABILITY_FIELDS = (Field("id", "slug"), Field("label"))
CELL_FIELDS = (
    Field("tool", "slug"),
    Field("capability", "slug"),
    Field("value", "choice", choices=CAPABILITY_VALUES),
    Field("note", required=False, nullable=True),
    Field("source", "url"),
)


def capabilities_dataset(registry: Registry, docs_dir: Path) -> Dataset:
    path = docs_dir / "data" / "capabilities.yaml"
    data = load_yaml(path)
    if not isinstance(data, dict) or set(data) != {"capabilities", "cells"}:
        raise BuildError(str(path), "expected the keys 'capabilities' and 'cells'")
    capabilities = {}
    for i, item in enumerate(data["capabilities"], start=1):
        c = validate_record(item, CAPABILITY_FIELDS, f"{path}, capability {i}")
        capabilities[c["id"]] = c["label"]
    rows, seen, cells = [], {}, []
    for i, item in enumerate(data["cells"], start=1):
        where = f"{path}, cell {i}"
        cell = validate_record(item, CELL_FIELDS, where)
        cells.append(cell)
        registry.tool(cell["tool"], f"{where}, field 'tool'")
        if cell["capability"] not in capabilities:
            raise BuildError(f"{where}, field 'capability'", f"unknown capability {cell['capability']!r}; "
                                                             f"expected one of {', '.join(capabilities)}")
        key = (cell["tool"], cell["capability"])
        if key in seen:
            raise BuildError(where, f"duplicate key tool={key[0]}, capability={key[1]} (first in cell {seen[key]})")
        seen[key] = i
        rows.append({"tool": registry.tools[cell["tool"]].name, "capability": capabilities[cell["capability"]],
                     "value": cell["value"], "note": cell["note"] or "", "source": cell["source"]})
    tools = {r["tool"] for r in rows}
    for tool in tools:
        missing = [label for label in capabilities.values() if (tool, label) not in {(r["tool"], r["capability"]) for r in rows}]
        if missing:
            raise BuildError(str(path), f"tool {tool!r} has no cell for {', '.join(missing)}: every pair must be stated")
    matrix = docs_dir / "data" / MATRIX_FILE  # the other files that state some of the same facts
    check_capabilities_agree(cells, registry, path, measurement_dataset(matrix)(registry, docs_dir).rows, matrix)
    columns = [Column("tool", "Tool"), Column("capability", "Capability"), Column("value", "Supported"),
               Column("note", "Note"), Column("source", "Source")]
    return Dataset("capabilities", rows, columns,
                   "Facts from docs/data/capabilities.yaml; each row links the official page that states it.",
                   "data/capabilities.yaml")


COLUMN_FIELDS = (
    Field("name", "identifier"),
    Field("label"),
    Field("kind", "choice", choices=("text", "int", "number", "date", "choice", "url")),
    Field("unit", required=False, nullable=True),
    Field("required", "choice", choices=("yes", "no"), required=False, nullable=True),
)


def load_schema(path: Path) -> tuple[tuple[Field, ...], tuple[str, ...], dict]:
    """A measurement CSV's schema, declared beside it as <name>.schema.yaml."""
    data = load_yaml(path)
    if not isinstance(data, dict) or not isinstance(data.get("columns"), list) or not data["columns"]:
        raise BuildError(str(path), "expected 'description', 'key' and a non-empty list 'columns'")
    extra = set(data) - {"description", "key", "columns"}
    if extra:
        raise BuildError(f"{path}, field '{sorted(extra)[0]}'", "unknown field; expected description, key, columns")
    fields, labels = [], {}
    for i, item in enumerate(data["columns"], start=1):
        item = dict(item) if isinstance(item, dict) else item
        choices = item.pop("choices", None) if isinstance(item, dict) else None
        c = validate_record(item, COLUMN_FIELDS, f"{path}, column {i}")
        if (c["kind"] == "choice") != isinstance(choices, list):
            raise BuildError(f"{path}, column '{c['name']}', field 'choices'",
                             "a choice column lists its choices, and only a choice column has them")
        fields.append(Field(c["name"], c["kind"], required=c["required"] != "no", unit=c["unit"],
                            choices=tuple(str(v) for v in choices or ())))
        labels[c["name"]] = c["label"]
    names = [f.name for f in fields]
    clash = [f.name for f in PROVENANCE_FIELDS if f.name in names]
    if clash:
        raise BuildError(f"{path}, column '{clash[0]}'", "is a provenance column, which every measurement file has")
    key = data.get("key") or []
    unknown = [k for k in key if k not in names]
    if not isinstance(key, list) or unknown:
        raise BuildError(f"{path}, field 'key'", f"expected a list of column names, got {key!r}")
    return tuple(fields), tuple(key), labels


def measurement_dataset(csv_path: Path) -> Callable[[Registry, Path], Dataset]:
    def load(registry: Registry, docs_dir: Path) -> Dataset:
        fields, key, labels = load_schema(csv_path.with_suffix(".schema.yaml"))
        table = read_csv(csv_path, fields + PROVENANCE_FIELDS, key)
        columns = [Column(f.name, labels[f.name], f.unit) for f in fields]
        return Dataset(csv_path.name, table.rows, columns, measurement_provenance(table.rows),
                       f"data/{csv_path.name}")
    return load


def facts_dataset(yaml_path: Path) -> Callable[[Registry, Path], Dataset]:
    """A YAML table of facts: a list of rows under 'rows', each with a 'source' URL column."""
    def load(registry: Registry, docs_dir: Path) -> Dataset:
        schema = yaml_path.with_suffix(".schema.yaml")
        fields, key, labels = load_schema(schema)
        if not any(f.name == "source" and f.kind == "url" and f.required for f in fields):
            raise BuildError(str(schema), "a table of facts needs a required 'source' column of kind url")
        data = load_yaml(yaml_path)
        if not isinstance(data, dict) or not isinstance(data.get("rows"), list) or not data["rows"]:
            raise BuildError(str(yaml_path), "expected a non-empty list under 'rows'")
        rows, seen = [], {}
        for i, item in enumerate(data["rows"], start=1):
            row = validate_record(item, fields, f"{yaml_path}, row {i}")
            k = tuple(row[name] for name in key)
            if key and k in seen:
                raise BuildError(f"{yaml_path}, row {i}", f"duplicate key {dict(zip(key, k))} (first on row {seen[k]})")
            seen[k] = i
            rows.append(row)
        columns = [Column(f.name, labels[f.name], f.unit) for f in fields]
        return Dataset(yaml_path.name, rows, columns,
                       f"Facts from docs/data/{html.escape(yaml_path.name)}; each row links its source.",
                       f"data/{yaml_path.name}")
    return load


def measurement_provenance(rows: list[dict]) -> str:
    """One line per distinct machine/run, so mixed sources (CPU and GPU series) stay visible."""
    runs = []
    for row in rows:
        run = (f"Measured by {row['script']} on {row['cpu']} ({row['cores']} cores, {row['threads']} threads), "
               f"{row['date'].isoformat()}, commit {row['commit']}; {row['versions']}.")
        if run not in runs:
            runs.append(run)
    return "<br>".join(html.escape(r) for r in runs)


# Data sets derived from the registry and the YAML fact files, by name.
