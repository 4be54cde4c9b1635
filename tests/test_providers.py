"""The cloud GPU providers data set: it loads, every cell is stated, and errors name the place."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from scripts.site import charts
from scripts.site.catalog import load_dataset
from scripts.site.errors import BuildError
from scripts.site.providers import load_providers
from scripts.site.registry import load_registry

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


@pytest.fixture(scope="module")
def registry():
    return load_registry(DOCS / "data")


def broken_docs(tmp_path: Path, edit) -> Path:
    """A copy of docs/data (as docs_dir/data) with cloud-providers.yaml changed by ``edit``."""
    docs = tmp_path / "docs"
    shutil.copytree(DOCS / "data", docs / "data")
    path = docs / "data" / "cloud-providers.yaml"
    data = yaml.safe_load(path.read_text())
    edit(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return docs


def test_every_provider_states_every_family(registry):
    families, providers = load_providers(registry, DOCS)
    assert len(providers) >= 10
    for p in providers:
        assert [c["family"] for c in p["accelerators"]] == [f["id"] for f in families]
        assert p["services"], p["id"]
    kinds = {p["kind"] for p in providers}
    assert kinds == {"hyperscaler", "gpu-cloud", "marketplace"}


def test_dataset_feeds_the_heatmap(registry):
    data = load_dataset("cloud-providers", registry, DOCS, "test")
    families, providers = load_providers(registry, DOCS)
    assert len(data.rows) == len(families) * len(providers)
    assert {r["offered"] for r in data.rows} <= {"yes", "partial", "no"}
    spec = charts.load_specs(DOCS / "data" / "charts")["cloud-gpu-accelerators"]
    fig = charts.figure(spec, data)
    assert len(fig["data"][0]["y"]) == len(providers) and len(fig["data"][0]["x"]) == len(families)


def test_registry_tools_point_at_their_pages(registry):
    _, providers = load_providers(registry, DOCS)
    for p in providers:
        if p["tool"]:
            assert registry.tools[p["tool"]].part == "cloud-gpu"


def test_index_page_names_every_managed_service(registry):
    _, providers = load_providers(registry, DOCS)
    index = (DOCS / "cloud-gpu" / "index.md").read_text()
    for p in providers:
        for s in p["services"]:
            assert s["name"] in index, f"{p['id']}: {s['name']} is missing from docs/cloud-gpu/index.md"


@pytest.mark.parametrize("edit, where, message", [
    (lambda d: d["providers"][0]["accelerators"].pop(), "provider aws, field 'accelerators'", "no cell for own-chips"),
    (lambda d: d["providers"][1]["accelerators"][0].update(value="maybe"),
     "provider google-cloud, accelerator 1, field 'value'", "expected one of yes, partial, no"),
    (lambda d: d["providers"][2]["accelerators"][0].update(source="learn.microsoft.com"),
     "provider azure, accelerator 1, field 'source'", "expected an http(s) URL"),
    (lambda d: d["providers"][0].update(kind="neocloud"), "provider aws, field 'kind'", "expected one of"),
    (lambda d: d["providers"][0].update(tool="no-such-tool"), "provider aws, field 'tool'", "no-such-tool"),
    (lambda d: d["providers"][0]["accelerators"][1].update(family="nvidia-blackwell"),
     "provider aws, accelerator 2, field 'family'", "stated twice"),
    (lambda d: d["providers"][0]["services"][0].pop("source"), "provider aws, service 1, field 'source'", "missing"),
])
def test_errors_name_file_row_and_field(tmp_path, registry, edit, where, message):
    docs = broken_docs(tmp_path, edit)
    with pytest.raises(BuildError) as err:
        load_providers(registry, docs)
    assert where in err.value.where and "cloud-providers.yaml" in err.value.where
    assert message in err.value.message


def test_registry_and_provider_file_must_agree_on_gpu_vendors(tmp_path):
    docs = tmp_path / "docs"
    shutil.copytree(ROOT / "docs" / "data", docs / "data")
    path = docs / "data" / "tools" / "lambda.yaml"
    path.write_text(path.read_text().replace("hardware: [nvidia]", "hardware: [nvidia, amd]"))
    with pytest.raises(BuildError, match=r"provider lambda, field 'accelerators': does not list amd GPUs, "
                                         r"but .*lambda.yaml does \(field 'hardware'\)"):
        load_providers(load_registry(docs / "data"), docs)
