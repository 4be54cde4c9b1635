"""Learning paths (docs/data/paths.yaml) and the stack selector that points to them."""

import html
import re

import pytest
import yaml

from scripts.site.errors import BuildError
from scripts.site.learning_paths import LearningPaths
from scripts.site.registry import load_registry
from scripts.site.selector import selector
from scripts.site.stack_diagram import load_layers
from tests.conftest import ROOT

DOCS = ROOT / "docs"


def load(data_dir=DOCS / "data"):
    registry = load_registry(data_dir)
    return LearningPaths.load(ROOT, DOCS, registry, load_layers(DOCS / "data" / "stack.yaml"))


def no_diagram(arg, page):
    return f"[diagram {arg}]\n"


def test_each_path_renders_its_steps_in_order_with_what_is_run_and_understood():
    paths = load()
    for path in paths.paths.values():
        text = paths.render(path.id, "start-here.md", no_diagram)
        assert text.startswith(f"## {path.title} {{#path-{path.id}}}")
        items = re.findall(r"^1\. \*\*\[(.+?)\]\((.+?)\)\*\*", text, re.MULTILINE)
        assert [title for title, _ in items] == [s["title"] for s in path.steps]
        for step in path.steps:
            if step["notebooks"]:
                assert f"*Run:* {step['ran']}" in html.unescape(text.replace("\\", ""))
        assert text.count("*Understood:*") == len(path.steps)
        if path.diagram:
            assert f"[diagram {path.diagram}]" in text


def test_a_new_part_joins_the_paths_of_its_layer_by_itself(data_copy):
    parts = yaml.safe_load((data_copy / "parts.yaml").read_text())
    parts.append({"id": "later-part", "title": "A later part",
                  "summary": "Declared after the paths were written.", "layer": "frameworks", "tools": None})
    (data_copy / "parts.yaml").write_text(yaml.safe_dump(parts, sort_keys=False))
    paths = load(data_copy)
    joined = [p.id for p in paths.paths.values() if "[A later part](later-part/index.md)"
              in paths.render(p.id, "start-here.md", no_diagram)]
    assert joined and joined == [p.id for p in paths.paths.values() if "frameworks" in p.layers]


@pytest.mark.parametrize("change, message", [
    (lambda d: d["paths"][0]["steps"][0].update(page="research-frameworks/pytorh.md"),
     r"path 'cuda', step 1, field 'page'.*no Markdown page docs/research-frameworks/pytorh\.md"),
    (lambda d: d["paths"][0]["steps"][0].update(notebooks=["pytorh"]), r"step 1, field 'notebooks'.*'pytorh'"),
    (lambda d: d["paths"][0]["steps"][0].pop("ran"), r"step 1, field 'ran'"),
    (lambda d: d["paths"][0].update(layers=["compilers", "kernels"]), r"no path goes through the layer\(s\) hardware"),
    (lambda d: d["paths"][0].update(uses=["train"]), r"no path suits the selector's use\(s\) kernels"),
])
def test_a_bad_path_stops_the_build_naming_the_path_and_step(tmp_path, change, message):
    data = yaml.safe_load((DOCS / "data" / "paths.yaml").read_text())
    change(data)
    docs = tmp_path / "docs"
    (docs / "data").mkdir(parents=True)
    (docs / "data" / "paths.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    for folder in (p for p in DOCS.iterdir() if p.is_dir() and p.name != "data"):
        (docs / folder.name).symlink_to(folder)
    registry = load_registry(DOCS / "data")
    with pytest.raises(BuildError, match=message):
        LearningPaths.load(ROOT, docs, registry, load_layers(DOCS / "data" / "stack.yaml"))


def test_the_selector_lists_tools_in_teaching_order_with_the_paths_for_each_use():
    from scripts.site.stack_diagram import StackDiagram

    registry = load_registry(DOCS / "data")
    paths = load()
    out = selector("stack", "index.md", registry, set(), paths, StackDiagram.load(DOCS / "data", registry), True)
    names = [html.unescape(n) for n in re.findall(r'class="fg-selector__name" href="[^"]+">([^<]+)</a>', out)]
    assert names == [t.name for t in registry.in_teaching_order() if t.status != "renamed"]
    offered = dict(re.findall(r'<li data-use="([^"]+)"><a href="start-here/#path-([a-z-]+)">', out))
    assert offered == {" ".join(p.uses): p.id for p in paths.paths.values()}
