import re

import pytest
import yaml

from scripts.commands.new_tool import REGISTRY_TEMPLATE
from scripts.site.cards import card
from scripts.site.errors import BuildError
from scripts.site.registry import load_registry
from tests.conftest import ROOT

# Tools the guide covers; each must have an entry (and so a page, see test_site.py).
REQUIRED_TOOLS = {
    "pytorch", "tensorflow", "keras", "jax", "mlx", "lightning", "vllm", "tensorrt", "triton",
    "triton-inference-server", "torch-compile", "torchscript", "onnxruntime", "detectron2", "cuda", "rocm",
    "opencl", "coreml", "pytorch-mobile", "executorch", "tensorflow-lite", "litert", "fastai", "onnx", "wandb",
    "aws", "google-cloud", "azure", "lambda", "vast-ai", "xla", "llvm", "mlir", "nvcc", "hugging-face", "openvino",
}


def test_registry_loads_and_covers_every_tool():
    registry = load_registry(ROOT / "docs" / "data")
    assert REQUIRED_TOOLS <= set(registry.tools)
    for part in registry.parts:
        assert registry.tools_in(part), f"part {part} has no tools"


def test_renamed_and_deprecated_tools_name_successors():
    registry = load_registry(ROOT / "docs" / "data")
    assert registry.tools["tensorflow-lite"].status == "renamed"
    assert registry.tools["tensorflow-lite"].successor == "litert"
    assert registry.tools["pytorch-mobile"].successor == "executorch"
    assert registry.tools["torchscript"].status == "deprecated"


def edit(data_dir, tool_id, change):
    path = data_dir / "tools" / f"{tool_id}.yaml"
    record = yaml.safe_load(path.read_text())
    change(record)
    path.write_text(yaml.safe_dump(record, sort_keys=False))
    return path


@pytest.mark.parametrize("change, field, expected", [
    (lambda r: r.pop("license"), "license", "missing"),
    (lambda r: r.update(status="retired"), "status", "expected one of active, maintenance, deprecated, renamed"),
    (lambda r: r.update(first_release="2016-13"), "first_release", "expected YYYY, YYYY-MM or YYYY-MM-DD"),
    (lambda r: r.update(verified="last week"), "verified", "expected a date YYYY-MM-DD"),
    (lambda r: r.update(part="frameworks"), "part", "unknown part 'frameworks'"),
    (lambda r: r.update(status="deprecated", successor="pytorch-2"), "successor", "not a tool in the registry"),
    (lambda r: r.update(status="renamed", successor=None), "successor", "must name its successor"),
    (lambda r: r["sources"].pop("license"), "license", "missing"),
    (lambda r: r["links"].update(docs="docs.pytorch.org"), "docs", "expected an http(s) URL"),
    (lambda r: r.update(platforms=["linux", "beos"]), "platforms", "unknown value 'beos'"),
    (lambda r: r.update(execution={"mode": "none", "env": None, "gpu": None, "reason": None}),
     "execution.reason", "required when execution.mode is none"),
    (lambda r: r.update(licence="MIT"), "licence", "unknown field"),
    (lambda r: r.update(description="TODO one sentence on what it is."), "description", "placeholder"),
    (lambda r: r["sources"].update(status="https://example.org/releases"), "sources.status", "placeholder URL"),
    (lambda r: r["links"].update(docs="https://docs.example.com/"), "links.docs", "placeholder URL"),
    (lambda r: r.update(platforms=["linux", "TODO"]), "platforms", "placeholder"),
    (lambda r: r.update(license="Apache-2.O"), "license", "written like an SPDX expression"),
    (lambda r: r.update(license="bsd-3-clause"), "license", "as 'BSD-3-Clause'"),
    (lambda r: r.update(license="Free to use " + "and to share " * 12), "license", "at most 120 characters"),
])
def test_bad_registry_entry_names_file_tool_and_field(data_copy, change, field, expected):
    path = edit(data_copy, "pytorch", change)
    with pytest.raises(BuildError) as err:
        load_registry(data_copy)
    message = str(err.value)
    assert str(path) in message
    assert "tool 'pytorch'" in message
    assert re.search(rf"field '[^']*{re.escape(field)}'", message), message
    assert expected in message


def test_duplicate_id_is_refused(data_copy):
    clone = data_copy / "tools" / "pytorch-copy.yaml"
    clone.write_text((data_copy / "tools" / "pytorch.yaml").read_text())
    with pytest.raises(BuildError) as err:
        load_registry(data_copy)
    message = str(err.value)
    assert "tool 'pytorch', field 'id': duplicate id, also declared by" in message
    assert "pytorch-copy.yaml" in message and "pytorch.yaml" in message


def test_malformed_yaml_names_the_file(data_copy):
    path = data_copy / "tools" / "jax.yaml"
    path.write_text("id: jax\nname: [unclosed\n")
    with pytest.raises(BuildError, match=r"jax.yaml: not valid YAML"):
        load_registry(data_copy)


def test_scaffold_defaults_are_refused_until_replaced(data_copy):
    path = data_copy / "tools" / "demo-tool.yaml"
    path.write_text(REGISTRY_TEMPLATE.format(id="demo-tool", name="Demo", part="compilers", year=2026,
                                             today="2026-11-30"))
    with pytest.raises(BuildError) as err:
        load_registry(data_copy)
    message = str(err.value)
    assert str(path) in message and "tool 'demo-tool'" in message
    assert "field 'description'" in message and "placeholder" in message


@pytest.mark.parametrize("licence", [
    "Apache-2.0 WITH LLVM-exception", "MIT OR Apache-2.0", "Commercial service", "Proprietary",
    "Royalty-free Khronos standard",
])
def test_licence_is_an_spdx_expression_or_a_short_description(data_copy, licence):
    edit(data_copy, "pytorch", lambda r: r.update(license=licence))
    assert load_registry(data_copy).tools["pytorch"].license == licence


def test_card_shows_an_spdx_expression_as_code_and_a_description_as_text(data_copy):
    edit(data_copy, "jax", lambda r: r.update(license="Apache-2.0 OR MIT"))
    edit(data_copy, "pytorch", lambda r: r.update(license="Royalty-free standard"))
    registry = load_registry(data_copy)
    assert "| License | `Apache-2.0 OR MIT` " in card("jax", "research-frameworks/jax.md", registry, set())
    assert "| License | Royalty-free standard " in card("pytorch", "research-frameworks/pytorch.md", registry, set())
