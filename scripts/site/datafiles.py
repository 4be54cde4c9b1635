"""Typed fields and validation for the data files under docs/data/.

Each data file has a schema declared once (in ``datasets.py`` or ``registry.py``) as a list of
``Field`` objects. Validation either returns clean values or raises ``BuildError`` naming the
file, the row and the field, and saying what was expected. Nothing is dropped silently.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import yaml

from scripts.site.errors import BuildError

PARTIAL_DATE = re.compile(r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$")
SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")
HEADER_UNIT = re.compile(r"^\s*(?P<name>[^\[\]]+?)\s*(\[(?P<unit>[^\]]*)\])?\s*$")


@dataclass(frozen=True)
class Field:
    """One column of a CSV file, or one key of a YAML record.

    kind: text, slug, identifier (a column name), int, number, date (YYYY-MM-DD), partial-date (YYYY[-MM[-DD]]), url,
    choice (one of ``choices``), choices (a list of ``choices``), or record (nested ``fields``).
    """

    name: str
    kind: str = "text"
    required: bool = True
    unit: str | None = None
    choices: tuple[str, ...] = ()
    fields: tuple["Field", ...] = ()
    nullable: bool = False
    description: str = ""

    @property
    def header(self) -> str:
        return f"{self.name} [{self.unit}]" if self.unit else self.name


def _fail(where: str, f: Field, message: str) -> BuildError:
    return BuildError(f"{where}, field '{f.name}'", message)


def _check_text(value: Any, f: Field, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(where, f, f"expected non-empty text, got {value!r}")
    return value.strip()


def _check_slug(value: Any, f: Field, where: str) -> str:
    text = _check_text(value, f, where)
    if not SLUG.match(text):
        raise _fail(where, f, f"expected a lowercase slug like 'onnx-runtime', got {text!r}")
    return text


def _check_identifier(value: Any, f: Field, where: str) -> str:
    text = _check_text(value, f, where)
    if not IDENTIFIER.match(text):
        raise _fail(where, f, f"expected a lowercase name like 'epoch_time', got {text!r}")
    return text


def _check_int(value: Any, f: Field, where: str) -> int:
    try:
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError
        return int(value)
    except (TypeError, ValueError):
        raise _fail(where, f, f"expected an integer, got {value!r}") from None


def _check_number(value: Any, f: Field, where: str) -> float:
    try:
        if isinstance(value, bool):
            raise ValueError
        number = float(value)
    except (TypeError, ValueError):
        raise _fail(where, f, f"expected a number, got {value!r}") from None
    if number != number:  # NaN would draw nothing and hide a missing measurement
        raise _fail(where, f, "expected a number, got NaN")
    return number


def _check_date(value: Any, f: Field, where: str) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise _fail(where, f, f"expected a date YYYY-MM-DD, got {value!r}") from None


def _check_partial_date(value: Any, f: Field, where: str) -> str:
    text = str(value).strip() if isinstance(value, (str, int, dt.date)) else ""
    if not PARTIAL_DATE.match(text):
        raise _fail(where, f, f"expected YYYY, YYYY-MM or YYYY-MM-DD, got {value!r}")
    return text


def _check_url(value: Any, f: Field, where: str) -> str:
    text = _check_text(value, f, where)
    if not re.match(r"^https?://[^\s/]+\.[^\s]+$", text):
        raise _fail(where, f, f"expected an http(s) URL, got {text!r}")
    return text


def _check_choice(value: Any, f: Field, where: str) -> str:
    if value not in f.choices:
        raise _fail(where, f, f"expected one of {', '.join(f.choices)}; got {value!r}")
    return value


def _check_choices(value: Any, f: Field, where: str) -> list[str]:
    if isinstance(value, str) and "|" not in value:
        value = [value]
    elif isinstance(value, str):
        value = value.split("|")
    if not isinstance(value, list) or not value:
        raise _fail(where, f, f"expected a non-empty list drawn from {', '.join(f.choices)}")
    unknown = [v for v in value if v not in f.choices]
    if unknown:
        raise _fail(where, f, f"unknown value {unknown[0]!r}; expected one of {', '.join(f.choices)}")
    if len(set(value)) != len(value):
        raise _fail(where, f, "a value is listed twice")
    return list(value)


def _check_record(value: Any, f: Field, where: str) -> dict:
    if not isinstance(value, dict):
        raise _fail(where, f, f"expected a mapping with keys {', '.join(s.name for s in f.fields)}")
    return validate_record(value, f.fields, f"{where}, field '{f.name}'")


def _check_mapping(value: Any, f: Field, where: str) -> dict:
    if not isinstance(value, dict) or not value or not all(isinstance(k, str) for k in value):
        raise _fail(where, f, "expected a mapping of column names to values")
    return dict(value)


CHECKS: dict[str, Callable[[Any, Field, str], Any]] = {
    "text": _check_text,
    "slug": _check_slug,
    "identifier": _check_identifier,
    "int": _check_int,
    "number": _check_number,
    "date": _check_date,
    "partial-date": _check_partial_date,
    "url": _check_url,
    "choice": _check_choice,
    "choices": _check_choices,
    "record": _check_record,
    "mapping": _check_mapping,
}


def is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def validate_value(value: Any, f: Field, where: str) -> Any:
    if is_empty(value):
        if f.required and not f.nullable:
            raise _fail(where, f, f"required value is empty (expected {f.kind})")
        return None
    return CHECKS[f.kind](value, f, where)


def validate_record(record: dict, fields: tuple[Field, ...] | list[Field], where: str) -> dict:
    """Validate one YAML mapping: every declared key present, no undeclared key, each value typed."""
    if not isinstance(record, dict):
        raise BuildError(where, f"expected a mapping, got {type(record).__name__}")
    known = {f.name for f in fields}
    extra = sorted(set(record) - known)
    if extra:
        raise BuildError(f"{where}, field '{extra[0]}'", f"unknown field; expected one of {', '.join(sorted(known))}")
    clean = {}
    for f in fields:
        if f.name not in record:
            if f.required:
                raise _fail(where, f, "missing")
            clean[f.name] = None
            continue
        clean[f.name] = validate_value(record[f.name], f, where)
    return clean


def load_yaml(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except yaml.YAMLError as exc:
        raise BuildError(str(path), f"not valid YAML: {exc}") from None


@dataclass
class Table:
    """Rows of a validated CSV file, with the schema they were checked against."""

    path: Path
    fields: tuple[Field, ...]
    rows: list[dict] = field(default_factory=list)

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)


def read_csv(path: Path, fields: tuple[Field, ...], key: tuple[str, ...] = ()) -> Table:
    """Read and validate a CSV whose header names each column as ``name`` or ``name [unit]``."""
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh.read().splitlines())
    try:
        header = next(reader)
    except StopIteration:
        raise BuildError(str(path), "the file is empty; expected a header row") from None
    columns = []
    for raw in header:
        m = HEADER_UNIT.match(raw)
        columns.append((m.group("name"), m.group("unit")) if m else (raw, None))
    by_name = {f.name: f for f in fields}
    for name, unit in columns:
        if name not in by_name:
            raise BuildError(f"{path}, column '{name}'", f"unknown column; expected {', '.join(f.header for f in fields)}")
        expected = by_name[name].unit
        if unit != expected:
            want = f"[{expected}]" if expected else "no unit"
            raise BuildError(f"{path}, column '{name}'", f"unit [{unit}] does not match the schema: expected {want}"
                             if unit else f"unit missing from the header: expected '{by_name[name].header}'")
    present = [name for name, _ in columns]
    for f in fields:
        if f.required and f.name not in present:
            raise BuildError(f"{path}, column '{f.name}'", f"missing column; expected header '{f.header}'")
    table = Table(path, fields)
    seen: dict[tuple, int] = {}
    for lineno, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        where = f"{path}, row {lineno}"
        if len(cells) != len(columns):
            raise BuildError(where, f"expected {len(columns)} cells, found {len(cells)}")
        raw = dict(zip(present, cells))
        row = {f.name: validate_value(raw.get(f.name), f, where) for f in fields}
        if key:
            k = tuple(row[name] for name in key)
            if k in seen:
                raise BuildError(where, f"duplicate key {dict(zip(key, k))} (first on row {seen[k]})")
            seen[k] = lineno
        table.rows.append(row)
    if not table.rows:
        raise BuildError(str(path), "no data rows")
    return table
