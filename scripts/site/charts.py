"""Chart specs (docs/data/charts/*.yaml) turned into accessible figures at build time, from the
data sets of the catalog (catalog.py).

Each chart becomes: a <figure> with a title and an ARIA label, the plotly figure (a static picture
drawn at build time, made interactive in the browser by the self-hosted plotly.js: see
static_charts.py and docs/assets/javascripts/charts.js), a collapsible table
with the same numbers, links to the data, and a provenance line. Text from data files is escaped
both in the table and in the figure, so a "<script>" in a label shows as text.
"""

from __future__ import annotations

import csv
import html
import io
import re
from dataclasses import dataclass, replace
from pathlib import Path

from scripts.site.addresses import built_url
from scripts.site.catalog import load_dataset
from scripts.site.datafiles import Field, load_yaml, validate_record
from scripts.site.datasets import Dataset
from scripts.site.errors import BuildError
from scripts.site.registry import Registry
from scripts.site.static_charts import StaticCharts

# Okabe & Ito's palette: distinguishable with the common colour-vision deficiencies.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#999999"]
# Fixed colours for categories that mean the same thing on every chart.
CATEGORY_COLOURS = {
    "active": "#0072B2", "maintenance": "#E69F00", "deprecated": "#D55E00", "renamed": "#CC79A7",
    "yes": "#0072B2", "partial": "#E69F00", "no": "#BBBBBB", "undocumented": "#BBBBBB",
}
# Error bars: `error` names a column with a symmetric half-width; `error_low` and `error_high` name
# columns with the lower and upper ends of an interval around y (the spread between processes).
ERROR_BARS = ("error", "error_low", "error_high")
KINDS = {
    # kind: (required encodings, optional encodings)
    "bar": (("x", "y"), ("color", *ERROR_BARS)),
    "grouped-bar": (("x", "y", "color"), ERROR_BARS),
    "scatter": (("x", "y"), ("color", "text", "error_low", "error_high")),
    "heatmap": (("x", "y", "z"), ()),
    "timeline": (("start", "end", "y", "color"), ("text",)),
}
# A table placeholder's argument: a data file, with an optional row selection.
TABLE_ARGUMENT = re.compile(r"^(?P<name>[\w.-]+\.(?:csv|yaml))(?:\[(?P<select>[^\]]*)\])?$")
ENCODINGS = ("x", "y", "z", "color", *ERROR_BARS, "text", "start", "end")

CHART_FIELDS = (
    Field("id", "slug"),
    Field("title"),
    Field("data"),
    Field("kind", "choice", choices=tuple(KINDS)),
    Field("encoding", "record", fields=tuple(Field(e, required=False, nullable=True) for e in ENCODINGS)),
    Field("log_y", "choice", choices=("yes", "no"), required=False, nullable=True),
    Field("filter", "mapping", required=False, nullable=True),
    Field("caption"),
)


@dataclass(frozen=True)
class ChartSpec:
    id: str
    title: str
    data: str
    kind: str
    encoding: dict
    log_y: str | None
    filter: dict | None
    caption: str


def load_specs(folder: Path) -> dict[str, ChartSpec]:
    """Every chart spec in the YAML files of ``folder`` (one file per chapter, say)."""
    specs: dict[str, ChartSpec] = {}
    for path in sorted(folder.glob("*.yaml")):
        specs.update(_load_spec_file(path, specs))
    return specs


def _load_spec_file(path: Path, known: dict[str, ChartSpec]) -> dict[str, ChartSpec]:
    data = load_yaml(path)
    if not isinstance(data, list):
        raise BuildError(str(path), "expected a list of chart specs")
    specs: dict[str, ChartSpec] = {}
    for i, item in enumerate(data, start=1):
        name = item.get("id") if isinstance(item, dict) else None
        where = f"{path}, chart {name or i}"
        clean = validate_record(item, CHART_FIELDS, where)
        if clean["id"] in specs or clean["id"] in known:
            raise BuildError(f"{where}, field 'id'", "duplicate chart id")
        required, optional = KINDS[clean["kind"]]
        enc = {k: v for k, v in clean["encoding"].items() if v}
        missing = [e for e in required if e not in enc]
        if missing:
            raise BuildError(f"{where}, field 'encoding.{missing[0]}'", f"required for a {clean['kind']} chart")
        extra = [e for e in enc if e not in required + optional]
        if extra:
            raise BuildError(f"{where}, field 'encoding.{extra[0]}'", f"not used by a {clean['kind']} chart")
        bounds = [e for e in ("error_low", "error_high") if e in enc]
        if len(bounds) == 1:
            other = "error_high" if bounds[0] == "error_low" else "error_low"
            raise BuildError(f"{where}, field 'encoding.{other}'", f"required with encoding.{bounds[0]}")
        if bounds and "error" in enc:
            raise BuildError(f"{where}, field 'encoding.error'", "use either error or error_low and error_high")
        specs[clean["id"]] = ChartSpec(**{**clean, "encoding": enc})
    return specs


def _t(value) -> str:
    """Text for plotly: it reads a few HTML tags in strings, so escape them to show literally."""
    return html.escape(str(value), quote=False)


def _axis_title(data: Dataset, name: str, where: str) -> str:
    column = data.column(name, where)
    return _t(f"{column.label} ({column.unit})" if column.unit else column.label)


def _groups(rows: list[dict], key: str | None) -> list[tuple[str, list[dict]]]:
    if not key:
        return [("", rows)]
    order: dict[str, list[dict]] = {}
    for row in rows:
        order.setdefault(str(row[key]), []).append(row)
    return list(order.items())


def _colour(name: str, index: int) -> str:
    return CATEGORY_COLOURS.get(name, PALETTE[index % len(PALETTE)])


def _interval_error(rows: list[dict], enc: dict, where: str) -> dict | None:
    """Asymmetric error bars from the columns holding each bar's lower and upper ends; None when no
    row has them (data measured before the file had them). A row with a value but without its
    interval, or with a value outside it, is refused."""
    y, low, high = enc["y"], enc["error_low"], enc["error_high"]
    valued = [r for r in rows if r[y] is not None]
    if all(r[low] is None and r[high] is None for r in valued):
        return None
    plus, minus = [], []
    for r in rows:
        if r[y] is None:
            plus.append(None)
            minus.append(None)
            continue
        label = f"{where}, row " + ", ".join(f"{enc[e]}={r[enc[e]]}" for e in ("x", "color") if e in enc)
        if r[low] is None or r[high] is None:
            raise BuildError(label, f"has {y} but no {low} or {high}, which other rows have")
        if not r[low] <= r[y] <= r[high]:
            raise BuildError(label, f"{y} {r[y]} is outside its interval [{r[low]}, {r[high]}] ({low}, {high})")
        plus.append(r[high] - r[y])
        minus.append(r[y] - r[low])
    return {"type": "data", "symmetric": False, "array": plus, "arrayminus": minus, "visible": True}


def figure(spec: ChartSpec, data: Dataset) -> dict:
    """The plotly figure (as JSON-ready dicts) for a spec and its data."""
    where = f"chart {spec.id}"
    enc = spec.encoding
    for name in enc.values():
        data.column(name, f"{where}, encoding")
    traces: list[dict] = []
    layout: dict = {"margin": {"l": 10, "r": 10, "t": 10, "b": 10}, "legend": {"orientation": "h", "y": -0.15}}
    if spec.kind in ("bar", "grouped-bar", "scatter"):
        for i, (group, rows) in enumerate(_groups(data.rows, enc.get("color"))):
            trace = {"name": _t(group), "x": [_t(r[enc["x"]]) if isinstance(r[enc["x"]], str) else r[enc["x"]] for r in rows],
                     "y": [r[enc["y"]] for r in rows], "marker": {"color": _colour(group, i)}}
            if spec.kind == "scatter":
                trace.update(type="scatter", mode="markers+text" if "text" in enc else "markers")
                if "text" in enc:
                    trace.update(text=[_t(r[enc["text"]]) for r in rows], textposition="top center")
            else:
                trace["type"] = "bar"
                if "error" in enc:
                    trace["error_y"] = {"type": "data", "array": [r[enc["error"]] for r in rows], "visible": True}
            if "error_low" in enc:
                interval = _interval_error(rows, enc, where)
                if interval:
                    trace["error_y"] = interval
            trace["showlegend"] = bool(group)
            traces.append(trace)
        layout["xaxis"] = {"title": {"text": _axis_title(data, enc["x"], where)}, "automargin": True}
        layout["yaxis"] = {"title": {"text": _axis_title(data, enc["y"], where)}, "automargin": True,
                           "type": "log" if spec.log_y == "yes" else "linear"}
        if spec.kind == "grouped-bar":
            layout["barmode"] = "group"
    elif spec.kind == "heatmap":
        xs = list(dict.fromkeys(r[enc["x"]] for r in data.rows))
        ys = list(dict.fromkeys(r[enc["y"]] for r in data.rows))
        levels = list(dict.fromkeys(r[enc["z"]] for r in data.rows))
        numeric = all(isinstance(v, (int, float)) for v in levels)
        cells = {(r[enc["x"]], r[enc["y"]]): r[enc["z"]] for r in data.rows}
        if numeric:
            z = [[cells.get((x, y)) for x in xs] for y in ys]
            colorscale = "Cividis"
        else:  # categories: one colour band each, in the order the schema gives them
            levels = sorted(levels, key=lambda v: list(CATEGORY_COLOURS).index(v) if v in CATEGORY_COLOURS else 99)
            z = [[levels.index(cells[(x, y)]) if (x, y) in cells else None for x in xs] for y in ys]
            n = len(levels)
            colorscale = [[edge, _colour(levels[k], k)] for k in range(n) for edge in (k / n, (k + 1) / n)]
        text = [[_t(cells.get((x, y), "")) for x in xs] for y in ys]
        trace = {"type": "heatmap", "x": [_t(x) for x in xs], "y": [_t(y) for y in ys], "z": z, "text": text,
                 "texttemplate": "%{text}", "hovertemplate": "%{y}<br>%{x}: %{text}<extra></extra>",
                 "colorscale": colorscale, "xgap": 2, "ygap": 2}
        if not numeric:
            trace.update(zmin=-0.5, zmax=len(levels) - 0.5, showscale=False)
        traces.append(trace)
        layout["xaxis"] = {"side": "top", "automargin": True}
        layout["yaxis"] = {"autorange": "reversed", "automargin": True}
        layout["height"] = 120 + 32 * len(ys)
    elif spec.kind == "timeline":
        y_order = [_t(r[enc["y"]]) for r in data.rows]
        for i, (group, rows) in enumerate(_groups(data.rows, enc["color"])):
            durations = [(r[enc["end"]] - r[enc["start"]]).days * 86400000 for r in rows]
            trace = {"type": "bar", "orientation": "h", "name": _t(group), "y": [_t(r[enc["y"]]) for r in rows],
                     "base": [r[enc["start"]].isoformat() for r in rows], "x": durations,
                     "marker": {"color": _colour(group, i)},
                     "hovertemplate": "%{y}: since %{base|%Y-%m}<extra>" + _t(group) + "</extra>"}
            if "text" in enc:
                trace.update(text=[_t(f"→ {r[enc['text']]}") if r[enc["text"]] else "" for r in rows],
                             textposition="inside", insidetextanchor="end")
            traces.append(trace)
        layout["xaxis"] = {"type": "date", "automargin": True}
        layout["yaxis"] = {"categoryorder": "array", "categoryarray": y_order, "autorange": "reversed",
                           "automargin": True, "dtick": 1}
        layout["height"] = 120 + 22 * len(y_order)
    return {"data": traces, "layout": layout}


def _cell(value) -> str:
    if isinstance(value, str) and value.startswith(("http://", "https://")):
        return f'<a href="{html.escape(value)}">source</a>'
    if isinstance(value, float):
        return f"{value:.4g}"
    return html.escape("" if value is None else str(value))


def table_html(data: Dataset) -> str:
    columns = [c for c in data.columns if c.shown]
    # Cells are separated by whitespace: the search index reads text only, and would run
    # adjacent cells together into one word.
    head = "\n".join(f"<th scope=\"col\">{html.escape(c.label)}{f' ({html.escape(c.unit)})' if c.unit else ''}</th>"
                     for c in columns)
    body = "\n".join("<tr>\n" + "\n".join(f"<td>{_cell(row.get(c.name))}</td>" for c in columns) + "\n</tr>"
                     for row in data.rows)
    return f"<table>\n<thead>\n<tr>\n{head}\n</tr>\n</thead>\n<tbody>\n{body}\n</tbody>\n</table>"


def table_csv(data: Dataset) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    columns = [c for c in data.columns if c.shown]
    writer.writerow([f"{c.name} [{c.unit}]" if c.unit else c.name for c in columns])
    for row in data.rows:
        writer.writerow(["" if row.get(c.name) is None else row.get(c.name) for c in columns])
    return out.getvalue()


def chart_csv_path(spec: ChartSpec) -> str:
    return f"data/chart-tables/{spec.id}.csv"


def table_csv_path(name: str) -> str:
    return f"data/tables/{name.rsplit('.', 1)[0]}.csv"


def render(spec: ChartSpec, data: Dataset, page: str, directory_urls: bool, pictures: StaticCharts) -> str:
    """The chart's HTML block, with links relative to ``page`` (docs-relative source path)."""
    title_id = f"chart-{spec.id}-title"
    links = [f'<a href="{built_url(page, chart_csv_path(spec), directory_urls)}" download>Download this table (CSV)</a>']
    if data.source_file:
        links.append(f'<a href="{built_url(page, data.source_file, directory_urls)}">source data file</a>')
    label = f"Chart: {spec.title}. The same data is in the table below."
    return (
        f'<figure class="fg-chart" id="chart-{spec.id}" aria-labelledby="{title_id}">\n'
        f'<figcaption><strong id="{title_id}">{html.escape(spec.title)}</strong> '
        f'<span class="fg-chart__caption">{html.escape(spec.caption)}</span></figcaption>\n'
        f'{pictures.plot(figure(spec, data), label)}\n'
        f'<details class="fg-chart__data"><summary>Data table: {html.escape(spec.title)}</summary>\n'
        f'{table_html(data)}\n</details>\n'
        f'<p class="fg-chart__provenance">{data.provenance} · {" · ".join(links)}</p>\n'
        f"</figure>\n"
    )


class Charts:
    """All chart specs, with their data sets loaded once per build."""

    def __init__(self, docs_dir: Path, registry: Registry, data: dict[str, Dataset], directory_urls: bool,
                 pictures: StaticCharts | None = None):
        self.docs_dir = docs_dir
        self.registry = registry
        self.data = data
        self.directory_urls = directory_urls
        self.pictures = pictures  # needed only to place charts on pages
        self.specs = load_specs(docs_dir / "data" / "charts")
        for spec in self.specs.values():  # every spec is checked against its data, placed or not
            self.dataset(spec)

    def dataset(self, spec: ChartSpec) -> Dataset:
        """The chart's rows: its data set, narrowed by the spec's filter."""
        data = self.data.get(spec.data) or load_dataset(spec.data, self.registry, self.docs_dir,
                                                        f"chart {spec.id}, field 'data'")
        if spec.filter:
            where = f"chart {spec.id}, field 'filter'"
            for column in spec.filter:
                data.column(column, where)
            rows = [r for r in data.rows if all(str(r[k]) == str(v) for k, v in spec.filter.items())]
            if not rows:
                raise BuildError(where, f"no row of {spec.data} matches {spec.filter}")
            data = replace(data, rows=rows)
        figure(spec, data)
        return data

    def placeholder(self, chart_id: str, page: str) -> str:
        if chart_id not in self.specs:
            raise BuildError(f"docs/{page}", f"unknown chart id {chart_id!r}; charts are declared in docs/data/charts/")
        spec = self.specs[chart_id]
        return render(spec, self.dataset(spec), page, self.directory_urls, self.pictures)

    def table(self, argument: str, page: str) -> str:
        """A data file shown as a table only (no chart), with its provenance and data links:
        ``file.yaml``, or ``file.yaml[column=value, ...]`` for the rows that match every condition."""
        where = f"docs/{page}"
        found = TABLE_ARGUMENT.match(argument)
        name = found.group("name") if found else argument
        if name not in self.data or not self.data[name].source_file:
            raise BuildError(where, f"unknown data file {name!r}: tables show CSV or YAML files under "
                                    f"docs/data/ that have a schema beside them")
        data = self.data[name]
        if found.group("select") is not None:
            conditions = [c.partition("=") for c in found.group("select").split(",")]
            if any(not sep or not column.strip() for column, sep, _ in conditions):
                raise BuildError(where, f"table {argument!r}: expected {name}[column=value, ...]")
            wanted = {column.strip(): value.strip() for column, _, value in conditions}
            for column in wanted:
                data.column(column, f"{where}, table {argument!r}")
            rows = [r for r in data.rows if all(str(r[k]) == v for k, v in wanted.items())]
            if not rows:
                raise BuildError(where, f"table {argument!r}: no row of {name} matches {wanted}")
            data = replace(data, rows=rows)
        links = [f'<a href="{built_url(page, table_csv_path(name), self.directory_urls)}" download>Download this table (CSV)</a>']
        if data.source_file:
            links.append(f'<a href="{built_url(page, data.source_file, self.directory_urls)}">source data file</a>')
        return (f'<div class="fg-table">\n{table_html(data)}\n'
                f'<p class="fg-chart__provenance">{data.provenance} · {" · ".join(links)}</p>\n</div>\n')

    def downloads(self) -> dict[str, str]:
        """Site path -> CSV text for every chart's table."""
        files = {chart_csv_path(spec): table_csv(self.dataset(spec)) for spec in self.specs.values()}
        files.update({table_csv_path(name): table_csv(data) for name, data in self.data.items() if data.source_file})
        return files
