"""The cloud GPU providers data set (docs/data/cloud-providers.yaml), for tables and charts.

The file states, for each provider, its kind, the managed ML services around its GPUs, and one
cell per accelerator family: whether the provider's own pages list it ("yes", "partial" with a
note, or "no"), which models, and the page that says so. Every pair of provider and family must
be stated, so a gap in the file is an error rather than an empty cell in the chart.
"""

from __future__ import annotations

import html
from pathlib import Path

from scripts.site.datafiles import Field, load_yaml, validate_record
from scripts.site.datasets import CAPABILITY_VALUES, Column, Dataset
from scripts.site.errors import BuildError
from scripts.site.registry import Registry

PROVIDER_KINDS = ("hyperscaler", "gpu-cloud", "marketplace")
KIND_LABELS = {"hyperscaler": "Hyperscaler", "gpu-cloud": "GPU cloud", "marketplace": "Marketplace"}
DATA_FILE = "cloud-providers.yaml"

FAMILY_FIELDS = (Field("id", "slug"), Field("label"), Field("examples"))
SERVICE_FIELDS = (Field("name"), Field("what"), Field("source", "url"))
CELL_FIELDS = (
    Field("family", "slug"),
    Field("value", "choice", choices=CAPABILITY_VALUES),
    Field("models"),
    Field("source", "url"),
)
PROVIDER_FIELDS = (
    Field("id", "slug"),
    Field("name"),
    Field("tool", "slug", required=False, nullable=True),
    Field("kind", "choice", choices=PROVIDER_KINDS),
    Field("kind_source", "url"),
    Field("as_of", "date"),
    Field("note", required=False, nullable=True),
    Field("services"),       # lists, checked item by item below
    Field("accelerators"),
)


def _list(value, where: str) -> list:
    if not isinstance(value, list) or not value:
        raise BuildError(where, "expected a non-empty list")
    return value


def load_providers(registry: Registry, docs_dir: Path) -> tuple[list[dict], list[dict]]:
    """The families and the validated providers, in file order. Errors name file, row and field."""
    path = docs_dir / "data" / DATA_FILE
    data = load_yaml(path)
    if not isinstance(data, dict) or set(data) != {"families", "providers"}:
        raise BuildError(str(path), "expected the keys 'families' and 'providers'")
    families: dict[str, dict] = {}
    for i, item in enumerate(_list(data["families"], f"{path}, field 'families'"), start=1):
        family = validate_record(item, FAMILY_FIELDS, f"{path}, family {i}")
        if family["id"] in families:
            raise BuildError(f"{path}, family {i}, field 'id'", f"duplicate family {family['id']!r}")
        families[family["id"]] = family
    providers, seen = [], set()
    for i, item in enumerate(_list(data["providers"], f"{path}, field 'providers'"), start=1):
        name = item.get("id") if isinstance(item, dict) else None
        where = f"{path}, provider {name or i}"
        # Validate the scalar fields first; the two lists are checked item by item.
        provider = validate_record({**item, "services": "-", "accelerators": "-"} if isinstance(item, dict) else item,
                                   PROVIDER_FIELDS, where)
        if provider["id"] in seen:
            raise BuildError(f"{where}, field 'id'", "duplicate provider id")
        seen.add(provider["id"])
        if provider["tool"]:
            registry.tool(provider["tool"], f"{where}, field 'tool'")
        provider["services"] = [
            validate_record(s, SERVICE_FIELDS, f"{where}, service {j}")
            for j, s in enumerate(_list(item["services"], f"{where}, field 'services'"), start=1)]
        cells: dict[str, dict] = {}
        for j, c in enumerate(_list(item["accelerators"], f"{where}, field 'accelerators'"), start=1):
            cell_where = f"{where}, accelerator {j}"
            cell = validate_record(c, CELL_FIELDS, cell_where)
            if cell["family"] not in families:
                raise BuildError(f"{cell_where}, field 'family'",
                                 f"unknown family {cell['family']!r}; expected one of {', '.join(families)}")
            if cell["family"] in cells:
                raise BuildError(f"{cell_where}, field 'family'", f"family {cell['family']!r} is stated twice")
            cells[cell["family"]] = cell
        missing = [f for f in families if f not in cells]
        if missing:
            raise BuildError(f"{where}, field 'accelerators'",
                             f"no cell for {', '.join(missing)}: every family must be stated")
        provider["accelerators"] = [cells[f] for f in families]  # in the families' order
        if provider["tool"]:
            _check_registry_agrees(provider, registry.tools[provider["tool"]], where)
        providers.append(provider)
    return list(families.values()), providers


def _check_registry_agrees(provider: dict, tool, where: str) -> None:
    """The registry's hardware list and this file's accelerator cells state the same facts for
    NVIDIA and AMD GPUs; refuse to build when they disagree."""
    offered = {c["family"] for c in provider["accelerators"] if c["value"] != "no"}
    for vendor, has in (("nvidia", any(f.startswith("nvidia") for f in offered)), ("amd", "amd" in offered)):
        if has != (vendor in tool.hardware):
            raise BuildError(f"{where}, field 'accelerators'",
                             f"{'lists' if has else 'does not list'} {vendor} GPUs, but {tool.path} "
                             f"{'does not' if has else 'does'} (field 'hardware'): make the two agree")


def cloud_providers_dataset(registry: Registry, docs_dir: Path) -> Dataset:
    """One row per (provider, accelerator family): the chart's cells and its data table."""
    families, providers = load_providers(registry, docs_dir)
    labels = {f["id"]: f["label"] for f in families}
    rows = []
    for p in providers:
        for cell in p["accelerators"]:
            rows.append({"provider": p["name"], "kind": KIND_LABELS[p["kind"]], "family": labels[cell["family"]],
                         "offered": cell["value"], "models": cell["models"], "source": cell["source"],
                         "as_of": p["as_of"].isoformat()})
    dates = sorted({p["as_of"] for p in providers})
    span = dates[0].isoformat() + (f" to {dates[-1].isoformat()}" if dates[-1] != dates[0] else "")
    provenance = (f"Facts from docs/data/{DATA_FILE}, read from each provider's own pages as of {span}; "
                  f"each row links its page. No prices.")
    columns = [Column("provider", "Provider"), Column("kind", "Kind"), Column("family", "Accelerator family"),
               Column("offered", "Offered"), Column("models", "Models (instance families)"),
               Column("source", "Source"), Column("as_of", "As of")]
    return Dataset("cloud-providers", rows, columns, html.escape(provenance), f"data/{DATA_FILE}")
