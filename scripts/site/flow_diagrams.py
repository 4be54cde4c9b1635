"""Flow diagrams declared in docs/data/diagrams.yaml, drawn as inline SVG with a text alternative:

- a pipeline: stages top to bottom, each with the program that makes it, what it is, a link to the
  page that shows it and its primary source;
- the export paths: the measured export matrix (which source reached which format here) joined to
  the registry (which platforms each format's runtime runs on).

Placed with ``<!-- diagram: <id> -->``. A stage's page, a tool id or a value of the matrix that the
file does not map stops the build naming the file and the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from scripts.site import svg
from scripts.site.addresses import built_url, notebook_id, notebook_source
from scripts.site.datafiles import Field, load_yaml, validate_record
from scripts.site.datasets import Dataset
from scripts.site.errors import BuildError
from scripts.site.registry import PLATFORMS, Registry

STAGE_FIELDS = (
    Field("name"),
    Field("made_by", required=False, nullable=True),
    Field("what"),
    Field("page", required=False, nullable=True),
    Field("source", "url"),
)
PIPELINE_FIELDS = (Field("id", "slug"), Field("title"), Field("caption"))  # and its list of stages
EXPORT_FIELDS = (Field("id", "slug"), Field("title"), Field("data"), Field("sources", "mapping"),
                 Field("formats", "mapping"))
FORMAT_FIELDS = (Field("tool", "slug"), Field("runtime", "slug"))
WIDTH = svg.WIDTH
PAD = 12
# Outcomes of the export matrix drawn as a line, with the line's style.
DRAWN = {"runs": "fg-d-edge", "converts only": "fg-d-edge fg-d-edge--partial"}


def _page_exists(docs_dir: Path, page: str, where: str) -> None:
    path = page.partition("#")[0]
    notebook = notebook_id(path)
    if not (docs_dir / path).is_file() and not (notebook and (docs_dir.parent / notebook_source(notebook)).is_file()):
        raise BuildError(where, f"no page {path!r} under docs/ (or notebook under notebooks/)")


@dataclass(frozen=True)
class Pipeline:
    id: str
    title: str
    caption: str
    stages: list[dict]

    def render(self, page: str, directory_urls: bool) -> str:
        box_w, text_x, size, small = 230, 230 + 2 * PAD, 14, 12
        body, y = [svg.arrow_marker(f"{self.id}-arrow")], 0.0
        for i, stage in enumerate(self.stages):
            name = svg.wrap(stage["name"], box_w - 2 * PAD, size, bold=True)
            made = svg.wrap(f"made by {stage['made_by']}", box_w - 2 * PAD, small) if stage["made_by"] else []
            what = svg.wrap(stage["what"], WIDTH - text_x - PAD, small)
            height = max(PAD + len(name) * size * 1.3 + len(made) * small * 1.3 + PAD,
                         PAD + len(what) * small * 1.3 + PAD)
            shape = (svg.box(0, y, box_w, height, "fg-d-box" + ("" if stage["page"] else " fg-d-box--plain"))
                     + svg.text(PAD, y + PAD + size, name, size, "fg-d-name"))
            if made:
                shape += svg.text(PAD, y + PAD + len(name) * size * 1.3 + small, made, small, "fg-d-note")
            body.append(svg.link(built_url(page, stage["page"], directory_urls), shape) if stage["page"] else shape)
            body.append(svg.text(text_x, y + PAD + small, what, small, "fg-d-summary"))
            y += height
            if i < len(self.stages) - 1:
                body.append(f'<path class="fg-d-edge" d="M{box_w / 2:g} {y + 2:g}V{y + 26:g}" '
                            f'marker-end="url(#{self.id}-arrow)"/>')
                y += 28
        listing = "".join(
            f"<li><strong>{svg.esc(s['name'])}</strong>"
            + (f" (made by {svg.esc(s['made_by'])})" if s["made_by"] else "")
            + f": {svg.esc(s['what'])} "
            + (f'<a href="{built_url(page, s["page"], directory_urls)}">On this site</a> · ' if s["page"] else "")
            + f'<a href="{svg.esc(s["source"])}">source</a></li>' for s in self.stages)
        caption = f"<strong>{svg.esc(self.title)}.</strong> {svg.esc(self.caption)}"
        return svg.figure(f"diagram-{self.id}", WIDTH, y, self.title, "".join(body), caption,
                          f"<ol>{listing}</ol>", "The same steps as a list, with their sources")


def load_pipeline(item: dict, path: Path, docs_dir: Path) -> Pipeline:
    stages = item.get("stages") if isinstance(item, dict) else None
    clean = validate_record({k: v for k, v in item.items() if k != "stages"} if isinstance(item, dict) else item,
                            PIPELINE_FIELDS, f"{path}, pipeline")
    where = f"{path}, pipeline '{clean['id']}'"
    if not isinstance(stages, list) or len(stages) < 2:
        raise BuildError(f"{where}, field 'stages'", "expected a list of at least two stages")
    checked = []
    for i, stage in enumerate(stages, start=1):
        s = validate_record(stage, STAGE_FIELDS, f"{where}, stage {i}")
        if s["page"]:
            _page_exists(docs_dir, s["page"], f"{where}, stage {i}, field 'page'")
        checked.append(s)
    return Pipeline(clean["id"], clean["title"], clean["caption"], checked)


@dataclass(frozen=True)
class ExportPaths:
    id: str
    title: str
    data: Dataset
    sources: dict[str, str]          # matrix source -> tool id
    formats: dict[str, dict]         # matrix target -> {tool, runtime}
    registry: Registry

    def routes(self) -> dict[tuple[str, str], dict]:
        return {(r["source"], r["target"]): r for r in self.data.rows}

    def platforms(self) -> list[str]:
        used = {p for f in self.formats.values() for p in self.registry.tools[f["runtime"]].platforms}
        return [p for p in PLATFORMS if p in used and p != "cloud"]

    def summary(self) -> str:
        """How many routes converted and ran, converted only, or did not convert: counted from the data."""
        outcomes = [r["outcome"] for r in self.data.rows]
        ran, converted = outcomes.count("runs"), outcomes.count("converts only")
        return (f"Of the {len(outcomes)} routes tried, {ran} converted and ran here, {converted} converted but "
                f"need a runtime this Linux machine lacks, and {len(outcomes) - ran - converted} did not convert "
                f"here.")

    def render(self, page: str, directory_urls: bool) -> str:
        src_x, src_w, fmt_x = 0, 170, 320
        fmt_w, row_src, row_fmt, head = WIDTH - fmt_x, 64, 58, 34
        size, small = 14, 12
        sources = list(self.sources)
        formats = list(self.formats)
        src_y = {s: head + i * row_src + (len(formats) * row_fmt - len(sources) * row_src) / 2
                 for i, s in enumerate(sources)}
        fmt_y = {f: head + i * row_fmt for i, f in enumerate(formats)}
        body = [svg.text(src_x, 18, ["Trained in"], size, "fg-d-title"),
                svg.text(fmt_x, 18, ["Exported to, and the platforms its runtime runs on"], size, "fg-d-title")]
        routes = self.routes()
        for s in sources:
            for f in formats:
                outcome = routes[(s, f)]["outcome"]
                if outcome in DRAWN:
                    y1, y2 = src_y[s] + 20, fmt_y[f] + 22
                    mid = (src_x + src_w + fmt_x) / 2
                    body.append(f'<path class="{DRAWN[outcome]}" d="M{src_w:g} {y1:g}C{mid:g} {y1:g} '
                                f'{mid:g} {y2:g} {fmt_x:g} {y2:g}"/>')
        for s in sources:
            tool = self.registry.tools[self.sources[s]]
            shape = svg.box(src_x, src_y[s], src_w, 40, "fg-d-box") + svg.text(PAD, src_y[s] + 25, [s], size, "fg-d-name")
            body.append(svg.link(built_url(page, tool.page, directory_urls), shape))
        for f in formats:
            tool, runtime = (self.registry.tools[self.formats[f][k]] for k in ("tool", "runtime"))
            where = ", ".join(PLATFORMS[p] for p in runtime.platforms if p != "cloud")
            name = f if runtime.name in f else f"{f}, in {runtime.name}"
            shape = (svg.box(fmt_x, fmt_y[f], fmt_w, 46, "fg-d-box")
                     + svg.text(fmt_x + PAD, fmt_y[f] + 19, [name], size, "fg-d-name")
                     + svg.text(fmt_x + PAD, fmt_y[f] + 37, [where], small, "fg-d-note"))
            body.append(svg.link(built_url(page, tool.page, directory_urls), shape))
        legend_y = head + len(formats) * row_fmt + 12
        body.append(f'<path class="fg-d-edge" d="M0 {legend_y:g}H40"/>'
                    + svg.text(48, legend_y + 4, ["converted and ran here"], small, "fg-d-summary")
                    + f'<path class="fg-d-edge fg-d-edge--partial" d="M210 {legend_y:g}H250"/>'
                    + svg.text(258, legend_y + 4, ["converted; its runtime does not run on Linux"], small,
                               "fg-d-summary"))
        caption = (f"<strong>{svg.esc(self.title)}.</strong> {svg.esc(self.summary())} The lines are this site's "
                   f"measurement (the export matrix, <code>docs/data/{svg.esc(self.data.name)}</code>); the platforms "
                   f"are what each runtime's documentation states (its registry entry). A missing line is a route "
                   f"that did not convert here, which the list below names with the reason.")
        return svg.figure(f"diagram-{self.id}", WIDTH, legend_y + 12, self.title, "".join(body), caption,
                          self._listing(page, directory_urls), "The same routes as a list")

    def _listing(self, page: str, directory_urls: bool) -> str:
        routes, items = self.routes(), []
        for s in self.sources:
            reached = []
            for f in self.formats:
                row = routes[(s, f)]
                reason = row["outcome"] + (f": {row['note']}" if row.get("note") else "")
                reached.append(f"{svg.esc(f)} ({svg.esc(reason)})")
            items.append(f"<li><strong>{svg.esc(s)}</strong>: {'; '.join(reached)}</li>")
        for f, names in self.formats.items():
            runtime = self.registry.tools[names["runtime"]]
            where = ", ".join(PLATFORMS[p] for p in runtime.platforms if p != "cloud")
            items.append(f'<li><a href="{built_url(page, self.registry.tools[names["tool"]].page, directory_urls)}">{svg.esc(f)}</a> '
                         f"runs in {svg.esc(runtime.name)} on {svg.esc(where)} "
                         f'(<a href="{svg.esc(runtime.sources["platforms"])}">source</a>)</li>')
        return f"<ul>{''.join(items)}</ul>"


def load_export_paths(item: dict, path: Path, registry: Registry, datasets: dict[str, Dataset]) -> ExportPaths:
    where = f"{path}, export_paths"
    clean = validate_record(item, EXPORT_FIELDS, where)
    if clean["data"] not in datasets:
        raise BuildError(f"{where}, field 'data'", f"unknown data file {clean['data']!r}")
    data = datasets[clean["data"]]
    for key in ("source", "target"):
        data.column(key, f"{where}, field 'data'")
    for name, tool_id in clean["sources"].items():
        registry.tool(tool_id, f"{where}, field 'sources.{name}'")
    formats = {}
    for name, value in clean["formats"].items():
        formats[name] = validate_record(value, FORMAT_FIELDS, f"{where}, field 'formats.{name}'")
        for key in ("tool", "runtime"):
            registry.tool(formats[name][key], f"{where}, field 'formats.{name}.{key}'")
    for row in data.rows:
        for key, mapped in (("source", clean["sources"]), ("target", formats)):
            if row[key] not in mapped:
                raise BuildError(f"{where}, field '{key}s'", f"{clean['data']} has the {key} {row[key]!r}, "
                                                              f"which this file does not map to a tool")
    measured = {(r["source"], r["target"]) for r in data.rows}
    missing = [f"{s} to {f}" for s in clean["sources"] for f in formats if (s, f) not in measured]
    if missing:
        raise BuildError(f"{where}, field 'data'", f"{clean['data']} has no row for {', '.join(missing)}")
    return ExportPaths(clean["id"], clean["title"], data, clean["sources"], formats, registry)


class FlowDiagrams:
    def __init__(self, diagrams: dict, directory_urls: bool):
        self.diagrams = diagrams
        self.directory_urls = directory_urls

    @classmethod
    def load(cls, docs_dir: Path, registry: Registry, datasets: dict[str, Dataset],
             directory_urls: bool = True) -> "FlowDiagrams":
        path = docs_dir / "data" / "diagrams.yaml"
        data = load_yaml(path)
        if not isinstance(data, dict) or set(data) != {"pipelines", "export_paths"}:
            raise BuildError(str(path), "expected the keys 'pipelines' and 'export_paths'")
        diagrams: dict = {}
        for item in data["pipelines"]:
            pipeline = load_pipeline(item, path, docs_dir)
            diagrams[pipeline.id] = pipeline
        export = load_export_paths(data["export_paths"], path, registry, datasets)
        diagrams[export.id] = export
        return cls(diagrams, directory_urls)

    def placeholder(self, arg: str, page: str) -> str:
        if arg not in self.diagrams:
            raise BuildError(f"docs/{page}", f"unknown diagram {arg!r}; expected stack, stack/<part>, or one of "
                                             f"{', '.join(self.diagrams)} (docs/data/diagrams.yaml)")
        return self.diagrams[arg].render(page, self.directory_urls)
