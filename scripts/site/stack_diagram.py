"""The stack diagram: every tool of the registry in its layer, from the frameworks down to the
hardware, as inline SVG with the same facts as a list.

The layers are declared in docs/data/stack.yaml. A tool's layer is its own ``layer`` field, or else
its part's (docs/data/parts.yaml), so a new part or tool appears in the diagram by declaring its
layer; an unknown layer stops the build naming the file. ``<!-- diagram: stack -->`` draws the
whole stack; ``<!-- diagram: stack/<part> -->`` draws the slice that holds one part's tools.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from scripts.site import svg
from scripts.site.addresses import built_url
from scripts.site.datafiles import Field, load_yaml, validate_record
from scripts.site.errors import BuildError
from scripts.site.registry import HARDWARE, RETIRED, STATUSES, Registry, Tool

LAYER_FIELDS = (
    Field("id", "slug"),
    Field("title"),
    Field("summary"),
    Field("shows_hardware", "choice", choices=(True, False), required=False, nullable=True),
)
WIDTH = svg.WIDTH
LABEL_WIDTH = 170       # the layer's title and summary, left of its tools
PAD = 10
BOX_HEIGHT = 30
ROW = BOX_HEIGHT + 8
NAME_SIZE = 14
NOTE_SIZE = 11
TITLE_SIZE = 14
SUMMARY_SIZE = 12


@dataclass(frozen=True)
class Layer:
    id: str
    title: str
    summary: str
    shows_hardware: bool


def load_layers(path: Path) -> list[Layer]:
    data = load_yaml(path)
    if not isinstance(data, dict) or not isinstance(data.get("layers"), list) or not data["layers"]:
        raise BuildError(str(path), "expected a non-empty list 'layers'")
    layers: list[Layer] = []
    for i, item in enumerate(data["layers"], start=1):
        clean = validate_record(item, LAYER_FIELDS, f"{path}, layer {i}")
        if any(layer.id == clean["id"] for layer in layers):
            raise BuildError(f"{path}, layer '{clean['id']}'", "duplicate id")
        layers.append(Layer(clean["id"], clean["title"], clean["summary"], bool(clean["shows_hardware"])))
    return layers


def check_layers(layers: list[Layer], registry: Registry, stack_file: Path, parts_file: Path) -> None:
    """Every part and every tool that names a layer names one of ``layers``."""
    known = [layer.id for layer in layers]
    expected = f"expected one of {', '.join(known)} (the layers in {stack_file})"
    for part in registry.parts.values():
        if part.layer not in known:
            raise BuildError(f"{parts_file}, part '{part.id}', field 'layer'", f"unknown layer {part.layer!r}; {expected}")
    for tool in registry.tools.values():
        if tool.layer and tool.layer not in known:
            raise BuildError(f"{tool.path}, tool '{tool.id}', field 'layer'", f"unknown layer {tool.layer!r}; {expected}")


@dataclass(frozen=True)
class Item:
    """One box: a tool (a link to its page) or a hardware family (plain)."""
    label: str
    note: str = ""            # a retired tool's status
    tool: Tool | None = None

    @property
    def width(self) -> float:
        note = svg.text_width(f" {self.note}", NOTE_SIZE) if self.note else 0
        return svg.text_width(self.label, NAME_SIZE) + note + 2 * PAD


class StackDiagram:
    def __init__(self, layers: list[Layer], registry: Registry, directory_urls: bool = True):
        self.layers = layers
        self.registry = registry
        self.directory_urls = directory_urls

    @classmethod
    def load(cls, data_dir: Path, registry: Registry, directory_urls: bool = True) -> "StackDiagram":
        layers = load_layers(data_dir / "stack.yaml")
        check_layers(layers, registry, data_dir / "stack.yaml", data_dir / "parts.yaml")
        return cls(layers, registry, directory_urls)

    def tools(self, part: str | None = None) -> dict[str, list[Tool]]:
        """Layer id -> its tools in teaching order (retired ones last), for one part or all."""
        placed: dict[str, list[Tool]] = {layer.id: [] for layer in self.layers}
        for tool in self.registry.in_teaching_order():
            if part is None or tool.part == part:
                placed[self.registry.layer_of(tool)].append(tool)
        return {layer: [t for t in tools if t.status not in RETIRED] + [t for t in tools if t.status in RETIRED]
                for layer, tools in placed.items()}

    def hardware(self, tools: list[Tool]) -> list[str]:
        """The hardware families that ``tools`` run on, in the registry's order."""
        used = {h for tool in tools for h in tool.hardware}
        return [h for h in HARDWARE if h in used]

    def rows(self, part: str | None) -> list[tuple[Layer, list[list[Item]]]]:
        """Each layer with its boxes in groups; each group starts a new line of boxes."""
        placed = self.tools(part)
        every = [t for tools in placed.values() for t in tools]
        result = []
        for layer in self.layers:
            tools = [Item(t.name, STATUSES[t.status].lower() if t.status in RETIRED else "", t)
                     for t in placed[layer.id]]
            groups = [[Item(HARDWARE[h]) for h in self.hardware(every)]] if layer.shows_hardware else []
            result.append((layer, [g for g in groups + [tools] if g]))
        return result

    def placeholder(self, arg: str, page: str) -> str:
        """``stack`` or ``stack/<part id>``."""
        _, _, part = arg.partition("/")
        if part:
            self.registry.part(part, f"docs/{page}")
        return self.render(page, part or None)

    def render(self, page: str, part: str | None) -> str:
        svg_id = f"stack-{part}" if part else "stack"
        body, height = self._draw(page, part)
        if part:
            title = f"Where the tools of {self.registry.parts[part].title} sit in the stack"
            caption = (f"<strong>{svg.esc(title)}.</strong> Each box links to a tool's page; dashed boxes are "
                       f"deprecated or renamed tools. The bottom layer lists the hardware these tools run on. "
                       f'The whole stack is on the <a href="{built_url(page, "index.md#the-stack", self.directory_urls)}">home page</a>.')
        else:
            title = "The deep learning stack: every tool in this guide, by layer"
            caption = (f"<strong>{svg.esc(title)}.</strong> From what a person writes (top) to the hardware it "
                       f"runs on (bottom). Each box links to a tool's page; dashed boxes are deprecated or renamed "
                       f"tools, which point to their successors. Drawn at build time from the tools registry.")
        return svg.figure(svg_id, WIDTH, height, title, body, caption, self._listing(page, part),
                          "The same stack as a list")

    def _draw(self, page: str, part: str | None) -> tuple[str, float]:
        parts, y = [], 0.0
        tools_x, right = LABEL_WIDTH + PAD, WIDTH - PAD
        for layer, groups in self.rows(part):
            title = svg.wrap(layer.title, LABEL_WIDTH - 2 * PAD, TITLE_SIZE, bold=True)
            summary = svg.wrap(layer.summary, LABEL_WIDTH - 2 * PAD, SUMMARY_SIZE) if groups else []
            label_height = PAD + len(title) * TITLE_SIZE * 1.3 + len(summary) * SUMMARY_SIZE * 1.3 + PAD
            boxes, row_y = [], y + PAD
            for group in groups:
                x = tools_x
                for item in group:
                    if x + item.width > right and x > tools_x:
                        x, row_y = tools_x, row_y + ROW
                    boxes.append(self._box(item, x, row_y, page))
                    x += item.width + 8
                row_y += ROW
            height = max(label_height, row_y - y + PAD - 8 if groups else 0)
            parts.append(svg.box(0, y, WIDTH, height, "fg-d-band" if groups else "fg-d-band fg-d-band--empty"))
            parts.append(svg.text(PAD, y + PAD + TITLE_SIZE, title, TITLE_SIZE, "fg-d-title"))
            if summary:
                parts.append(svg.text(PAD, y + PAD + len(title) * TITLE_SIZE * 1.3 + SUMMARY_SIZE, summary,
                                      SUMMARY_SIZE, "fg-d-summary"))
            parts += boxes
            y += height + 6
        return "".join(parts), y - 6

    def _box(self, item: Item, x: float, y: float, page: str) -> str:
        css = "fg-d-box" + (" fg-d-box--retired" if item.note else "") + ("" if item.tool else " fg-d-box--plain")
        name_y = y + BOX_HEIGHT / 2 + NAME_SIZE * 0.35
        label = (f'<text class="fg-d-name" x="{x + PAD:g}" y="{name_y:g}" font-size="{NAME_SIZE}">{svg.esc(item.label)}'
                 + (f'<tspan class="fg-d-note" font-size="{NOTE_SIZE}"> {svg.esc(item.note)}</tspan>' if item.note else "")
                 + "</text>")
        shape = svg.box(x, y, item.width, BOX_HEIGHT, css) + label
        return svg.link(built_url(page, item.tool.page, self.directory_urls), shape) if item.tool else shape

    def _listing(self, page: str, part: str | None) -> str:
        """The text alternative: each layer with its tools (linked, retired ones with their successor)."""
        entries = []
        for layer, groups in self.rows(part):
            if not groups:
                continue
            items = []
            for item in (i for group in groups for i in group):
                if item.tool is None:
                    items.append(svg.esc(item.label))
                    continue
                text = f'<a href="{built_url(page, item.tool.page, self.directory_urls)}">{svg.esc(item.label)}</a>'
                if item.note:
                    successor = self.registry.tools.get(item.tool.successor or "")
                    text += f" ({item.note}" + (f", successor: {svg.esc(successor.name)}" if successor else "") + ")"
                items.append(text)
            hardware = " (hardware, then the tools)" if layer.shows_hardware else ""
            entries.append(f"<li><strong>{svg.esc(layer.title)}</strong>{hardware}: {svg.esc(layer.summary)} "
                           + ", ".join(items) + "</li>")
        return f'<ol class="fg-diagram__layers">{"".join(entries)}</ol>'
