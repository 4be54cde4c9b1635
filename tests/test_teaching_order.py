"""The teaching order declared in docs/data/parts.yaml drives the navigation: parts, tools within a
part (retired ones last, marked), each notebook beside the page that presents it."""

import json

import pytest
import yaml

from scripts.commands.new_tool import add_to_teaching_order
from scripts.site.errors import BuildError
from scripts.site.nav import build_nav
from scripts.site.registry import RETIRED, load_registry
from tests.conftest import ROOT

DOCS = ROOT / "docs"


def notebooks(registry):
    """Notebook id -> (part, page), as the hook passes them to build_nav."""
    found = {}
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        part = json.loads(path.read_text())["metadata"].get("fieldguide", {}).get("part")
        found[path.stem] = (part or registry.tools[path.stem].part, f"notebooks/{path.stem}.ipynb")
    return found


def sections(nav):
    """Part title -> the entries of its section, each as (title or None, page)."""
    out = {}
    for item in nav:
        (title, value), = item.items()
        if isinstance(value, list):
            out[title] = [next(iter(e.items())) if isinstance(e, dict) else (None, e) for e in value]
    return out


def rewrite_parts(data_dir, change):
    path = data_dir / "parts.yaml"
    parts = yaml.safe_load(path.read_text())
    change(parts)
    path.write_text(yaml.safe_dump(parts, sort_keys=False))
    return path


def tool_pages(section):
    return [page for _, page in section if not page.startswith("notebooks/") and not page.endswith("/index.md")]


def test_navigation_follows_the_declared_order_and_changes_with_it(data_copy):
    registry = load_registry(data_copy)
    before = sections(build_nav(DOCS, registry, notebooks(registry)))
    assert list(before) == [p.title for p in registry.parts.values()]
    declared = registry.parts["research-frameworks"].tools
    assert tool_pages(before["Research frameworks"])[:len(declared)] == [f"research-frameworks/{t}.md" for t in declared]

    def reorder(parts):
        parts.reverse()
        frameworks = next(p for p in parts if p["id"] == "research-frameworks")
        frameworks["tools"] = list(reversed(frameworks["tools"]))
    rewrite_parts(data_copy, reorder)
    registry = load_registry(data_copy)
    after = sections(build_nav(DOCS, registry, notebooks(registry)))
    assert list(after) == list(reversed(list(before)))
    assert tool_pages(after["Research frameworks"])[:len(declared)] == [
        f"research-frameworks/{t}.md" for t in reversed(declared)]


def test_retired_tools_follow_the_current_ones_marked_wherever_they_are_listed(data_copy):
    def retired_first(parts):
        edge = next(p for p in parts if p["id"] == "edge-mobile")
        edge["tools"] = ["pytorch-mobile", "tensorflow-lite"] + [t for t in edge["tools"]
                                                                if t not in ("pytorch-mobile", "tensorflow-lite")]
    rewrite_parts(data_copy, retired_first)
    registry = load_registry(data_copy)
    edge = [(title, page) for title, page in sections(build_nav(DOCS, registry, notebooks(registry)))["Edge and mobile"]
            if not page.startswith("notebooks/")]
    tools = [t for t in (registry.tools.get(page.rsplit("/", 1)[-1][:-3]) for _, page in edge) if t]
    statuses = [t.status in RETIRED for t in tools]
    assert statuses == sorted(statuses), "a retired tool comes before a current one"
    assert [t.id for t in tools if t.status in RETIRED] == ["pytorch-mobile", "tensorflow-lite"]
    titles = dict((page, title) for title, page in edge)
    assert titles["edge-mobile/pytorch-mobile.md"] == "PyTorch Mobile (deprecated)"
    assert titles["edge-mobile/tensorflow-lite.md"] == "TensorFlow Lite (renamed)"


def test_each_notebook_sits_right_after_the_page_that_presents_it():
    registry = load_registry(DOCS / "data")
    found = notebooks(registry)
    nav = sections(build_nav(DOCS, registry, found))
    assert not any(title == "Notebooks" for entries in nav.values() for title, _ in entries)
    for part in registry.parts.values():
        pages = [page for _, page in nav[part.title]]
        for tool in registry.tools_in(part.id):
            if tool.id in found:
                assert pages[pages.index(tool.page) + 1] == f"notebooks/{tool.id}.ipynb", tool.id
    cuda = [page for _, page in nav["Low-level GPU programming"]]
    assert cuda[cuda.index("gpu-programming/cuda.md"):][:3] == [
        "gpu-programming/cuda.md", "notebooks/cuda.ipynb", "notebooks/cuda-gpu.ipynb"]
    frameworks = [page for _, page in nav["Research frameworks"]]
    assert frameworks[frameworks.index("research-frameworks/rosetta.md") + 1] == "notebooks/rosetta.ipynb"


def test_a_tool_left_out_of_its_part_s_order_stops_the_build_naming_both_files(data_copy):
    def drop(parts):
        compilers = next(p for p in parts if p["id"] == "compilers")
        compilers["tools"].remove("llvm")
    path = rewrite_parts(data_copy, drop)
    with pytest.raises(BuildError) as caught:
        load_registry(data_copy)
    assert caught.value.where == f"{path}, part 'compilers', field 'tools'"
    assert "'llvm'" in caught.value.message and "tools/llvm.yaml" in caught.value.message


def test_a_part_that_lists_another_part_s_tool_is_refused(data_copy):
    def steal(parts):
        next(p for p in parts if p["id"] == "compilers")["tools"].append("pytorch")
    rewrite_parts(data_copy, steal)
    with pytest.raises(BuildError, match="lists 'pytorch', which .*pytorch.yaml puts in part 'research-frameworks'"):
        load_registry(data_copy)


def test_a_part_without_a_layer_stops_the_build_naming_parts_yaml(data_copy):
    path = rewrite_parts(data_copy, lambda parts: parts[0].pop("layer"))
    with pytest.raises(BuildError) as caught:
        load_registry(data_copy)
    assert caught.value.where == f"{path}, part 'research-frameworks', field 'layer'"
    assert caught.value.message == "missing"


def test_the_scaffold_adds_a_new_tool_at_the_end_of_its_part_s_order(data_copy):
    path = data_copy / "parts.yaml"
    comments = [line for line in path.read_text().splitlines() if line.startswith("#")]
    add_to_teaching_order(path, "compilers", "demo-tool")
    parts = {p["id"]: p for p in yaml.safe_load(path.read_text())}
    assert parts["compilers"]["tools"][-1] == "demo-tool"
    assert all(p["tools"].count("demo-tool") == (p["id"] == "compilers") for p in parts.values())
    assert [line for line in path.read_text().splitlines() if line.startswith("#")] == comments
