"""The stack diagram and the flow diagrams, drawn from the registry and the data files."""

import re

import pytest
import yaml

from scripts.site.addresses import built_url
from scripts.site.catalog import load_catalog
from scripts.site.errors import BuildError
from scripts.site.flow_diagrams import FlowDiagrams, load_export_paths, load_pipeline
from scripts.site.registry import RETIRED, load_registry
from scripts.site.stack_diagram import StackDiagram
from tests.conftest import ROOT

DOCS = ROOT / "docs"
SVG = re.compile(r"<svg.*?</svg>", re.DOTALL)
LISTING = re.compile(r"<details.*?</details>", re.DOTALL)
HREF = re.compile(r'<a (?:xlink:)?href="([^"]+)"')


def links(html):
    return HREF.findall(html)


def svg_of(html):
    return SVG.search(html).group(0)


@pytest.fixture(scope="module")
def registry():
    return load_registry(DOCS / "data")


def test_every_registry_tool_is_on_the_stack_diagram_once(registry):
    html = StackDiagram.load(DOCS / "data", registry).placeholder("stack", "index.md")
    drawn = links(svg_of(html))
    assert sorted(drawn) == sorted(built_url("index.md", t.page, True) for t in registry.tools.values())
    assert sorted(links(LISTING.search(html).group(0))) == sorted(drawn), "the list says other things than the picture"


def test_a_new_part_and_tool_appear_in_the_diagram_by_declaring_a_layer(data_copy):
    parts = yaml.safe_load((data_copy / "parts.yaml").read_text())
    parts.append({"id": "new-part", "title": "A new part", "summary": "Added later.", "layer": "runtimes",
                  "tools": ["new-tool"]})
    (data_copy / "parts.yaml").write_text(yaml.safe_dump(parts, sort_keys=False))
    record = yaml.safe_load((data_copy / "tools" / "vllm.yaml").read_text())
    record.update(id="new-tool", name="New Tool", part="new-part")
    (data_copy / "tools" / "new-tool.yaml").write_text(yaml.safe_dump(record, sort_keys=False))
    registry = load_registry(data_copy)
    stack = StackDiagram.load(data_copy, registry)
    assert "new-part/new-tool/" in links(svg_of(stack.placeholder("stack", "index.md")))
    assert links(svg_of(stack.placeholder("stack/new-part", "new-part/index.md"))) == ["new-tool/"]


@pytest.mark.parametrize("file, change, where", [
    ("parts.yaml", lambda data: data[1].update(layer="middleware"), "part 'libraries-tracking', field 'layer'"),
    ("tools/triton.yaml", lambda data: data.update(layer="middleware"), "tool 'triton', field 'layer'"),
])
def test_an_unknown_layer_stops_the_build_naming_the_file(data_copy, file, change, where):
    path = data_copy / file
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(BuildError) as caught:
        StackDiagram.load(data_copy, load_registry(data_copy))
    assert caught.value.where == f"{path}, {where}"
    assert "unknown layer 'middleware'" in caught.value.message and "stack.yaml" in caught.value.message


def test_each_part_slice_draws_exactly_that_part_s_tools(registry):
    stack = StackDiagram.load(DOCS / "data", registry)
    for part in registry.parts:
        page = f"{part}/index.md"
        drawn = links(svg_of(stack.placeholder(f"stack/{part}", page)))
        assert sorted(drawn) == sorted(built_url(page, t.page, True) for t in registry.tools_in(part)), part


def test_retired_tools_are_drawn_dashed_and_listed_with_their_successor(registry):
    html = StackDiagram.load(DOCS / "data", registry).placeholder("stack", "index.md")
    for tool in registry.tools.values():
        box = re.search(rf'<a xlink:href="{re.escape(built_url("index.md", tool.page, True))}"><rect class="([^"]+)"', html)
        assert ("fg-d-box--retired" in box.group(1)) == (tool.status in RETIRED), tool.id
    listing = LISTING.search(html).group(0)
    assert ">TorchScript</a> (deprecated, successor: torch.export)" in listing
    assert ">TensorFlow Lite</a> (renamed, successor: LiteRT)" in listing


def flows(data_dir=DOCS / "data"):
    registry = load_registry(data_dir)
    return FlowDiagrams.load(data_dir.parent, registry, load_catalog(DOCS, registry))


def test_the_export_paths_draw_a_line_for_each_route_that_converted_here():
    diagram = flows().diagrams["export-paths"]
    rows = diagram.data.rows
    html = diagram.render("edge-mobile/index.md", True)
    routes = {"runs": 'class="fg-d-edge" d="M', "converts only": 'class="fg-d-edge fg-d-edge--partial" d="M'}
    for outcome, mark in routes.items():
        assert svg_of(html).count(mark) == sum(r["outcome"] == outcome for r in rows) + 1, outcome  # + legend
    ran = sum(r["outcome"] == "runs" for r in rows)
    assert f"Of the {len(rows)} routes tried, {ran} converted and ran here" in html


def test_the_pipelines_link_their_pages_and_sources():
    diagram = flows().diagrams["cuda-trajectory"]
    html = diagram.render("compilers/index.md", True)
    assert "compilers/nvcc.md" not in html and "nvcc/#virtual-and-real-architectures" in html
    listing = LISTING.search(html).group(0)
    assert listing.count('">source</a>') == len(diagram.stages)


def diagrams_data():
    return yaml.safe_load((DOCS / "data" / "diagrams.yaml").read_text())


def test_a_stage_naming_a_missing_page_stops_the_build():
    item = diagrams_data()["pipelines"][0]
    item["stages"][1]["page"] = "inference-serving/torch-compiler.md"
    with pytest.raises(BuildError, match=r"pipeline 'torch-compile', stage 2, field 'page'.*torch-compiler\.md"):
        load_pipeline(item, DOCS / "data" / "diagrams.yaml", DOCS)


def test_a_route_the_file_does_not_map_stops_the_build():
    registry = load_registry(DOCS / "data")
    item = diagrams_data()["export_paths"]
    del item["formats"]["LiteRT"]
    with pytest.raises(BuildError, match=r"export_paths, field 'targets'.*'LiteRT'"):
        load_export_paths(item, DOCS / "data" / "diagrams.yaml", registry, load_catalog(DOCS, registry))


def test_an_unknown_diagram_is_refused_with_the_known_ones():
    with pytest.raises(BuildError, match="unknown diagram 'stacks'.*torch-compile, cuda-trajectory, export-paths"):
        flows().placeholder("stacks", "index.md")
