"""Every data set a page can show, loaded and validated once per build, whether or not a chart or
table uses it yet: the sets derived from the registry, by name, and each CSV or YAML file under
docs/data/ by its file name (a file with a ``.schema.yaml`` beside it)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from scripts.site.datasets import (
    Dataset,
    capabilities_dataset,
    facts_dataset,
    measurement_dataset,
    tools_dataset,
)
from scripts.site.errors import BuildError
from scripts.site.providers import cloud_providers_dataset
from scripts.site.registry import Registry

DERIVED: dict[str, Callable[[Registry, Path], Dataset]] = {
    "tools": tools_dataset,
    "capabilities": capabilities_dataset,
    "cloud-providers": cloud_providers_dataset,
}


def load_dataset(name: str, registry: Registry, docs_dir: Path, where: str) -> Dataset:
    """A registry-derived data set by name, or a data file by its name under docs/data/."""
    if name in DERIVED:
        return DERIVED[name](registry, docs_dir)
    path = docs_dir / "data" / name
    if name.endswith((".csv", ".yaml")) and path.is_file():
        if not path.with_suffix(".schema.yaml").is_file():
            raise BuildError(str(path), f"has no schema: declare its columns in {path.with_suffix('.schema.yaml').name}")
        loader = measurement_dataset if name.endswith(".csv") else facts_dataset
        return loader(path)(registry, docs_dir)
    raise BuildError(where, f"unknown data set {name!r}; expected one of {', '.join(sorted(DERIVED))}, "
                            f"or a CSV or YAML file under docs/data/ with a schema beside it")


def load_catalog(docs_dir: Path, registry: Registry) -> dict[str, Dataset]:
    """Data set name -> data set, for the derived sets and every data file with a schema."""
    data = {name: build(registry, docs_dir) for name, build in DERIVED.items()}
    folder = docs_dir / "data"
    for path in sorted(folder.glob("*.csv")) + sorted(folder.glob("*.schema.yaml")):
        name = path.name.replace(".schema.yaml", ".yaml") if path.name.endswith(".schema.yaml") else path.name
        if name.endswith(".yaml") and not (folder / name).is_file():
            continue  # the schema of a CSV
        data[name] = load_dataset(name, registry, docs_dir, str(path))
    return data
