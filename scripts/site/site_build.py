"""What one build of the site needs, computed once per build: the registry, the notebooks (executed
or taken from the cache) and the pages they become. The MkDocs hook (hooks.py) only adapts this."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from scripts import ROOT
from scripts.site import executor, notebook_pages, quotes
from scripts.site.addresses import notebook_page, notebook_source
from scripts.site.cards import card, parts_map, tool_list
from scripts.site.catalog import load_catalog
from scripts.site.charts import Charts
from scripts.site.errors import BuildError
from scripts.site.flow_diagrams import FlowDiagrams
from scripts.site.learning_paths import LearningPaths
from scripts.site.registry import Registry, load_registry
from scripts.site.selector import selector
from scripts.site.stack_diagram import StackDiagram
from scripts.site.static_charts import StaticCharts


def cache_dir(root: Path = ROOT) -> Path:
    """Where executed notebooks and page inputs are kept: FIELDGUIDE_CACHE, or .cache/fieldguide."""
    return Path(os.environ.get("FIELDGUIDE_CACHE", root / ".cache" / "fieldguide")).resolve()


def _flag(name: str, default: str) -> bool:
    return os.environ.get(name, default).strip().lower() not in ("0", "false", "no", "")


def _write_if_changed(path: Path, text: str) -> None:
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        executor.atomic_write(path, text)


def check_execution_mode(tool, notebook: executor.Notebook | None) -> None:
    """The card's execution mode must say what the tool's notebook does: run in the main environment,
    run in a side environment (named), recorded elsewhere, or no notebook at all."""
    if notebook is None:
        actual, env = "none", None
    elif notebook.recorded:
        actual, env = "recorded", None
    else:
        actual, env = ("main", None) if notebook.env == "main" else ("side", notebook.env)
    declared = tool.execution["mode"]
    if declared != actual or (actual == "side" and tool.execution["env"] != env):
        says = f"mode {actual}" + (f" with env {env}" if env else "")
        has = notebook_source(tool.id) if notebook else f"no {notebook_source(tool.id)}"
        raise BuildError(f"{tool.path}, tool '{tool.id}', field 'execution'",
                         f"declares mode {declared}" + (f" with env {tool.execution['env']}" if tool.execution["env"] else "")
                         + f", but {has} means {says}")


@dataclass
class SiteBuild:
    root: Path
    docs_dir: Path
    cache: Path
    execute: bool
    jobs: int
    directory_urls: bool = True
    registry: Registry | None = None
    charts: Charts | None = None
    pictures: StaticCharts | None = None
    stack: StackDiagram | None = None
    flows: FlowDiagrams | None = None
    paths: LearningPaths | None = None
    notebooks: dict[str, executor.Notebook] = field(default_factory=dict)
    # tool id -> path of the notebook page's input (merged, prepared copy)
    pages: dict[str, Path] = field(default_factory=dict)
    executed: set[str] = field(default_factory=set)
    # CSS classes the notebook pages use: their shared stylesheet keeps only these
    notebook_classes: set[str] = field(default_factory=set)
    _quote_sources: quotes.Sources | None = field(default=None, repr=False)
    _read: dict[str, nbformat.NotebookNode] = field(default_factory=dict, repr=False)

    @classmethod
    def from_env(cls, docs_dir: Path, directory_urls: bool = True, root: Path = ROOT) -> "SiteBuild":
        return cls(
            root=root,
            docs_dir=docs_dir,
            directory_urls=directory_urls,
            cache=cache_dir(root),
            execute=_flag("FIELDGUIDE_EXECUTE", "1"),
            jobs=int(os.environ.get("FIELDGUIDE_JOBS", executor.usable_cpus())),
        )

    @property
    def workspace(self) -> executor.Workspace:
        return executor.Workspace(self.root, self.cache)

    def load(self, log=print) -> None:
        """Read and validate all inputs; execute stale notebooks; write the page inputs."""
        self.registry = load_registry(self.docs_dir / "data")
        data = load_catalog(self.docs_dir, self.registry)
        self.pictures = StaticCharts(self.cache / "static-charts")
        self.charts = Charts(self.docs_dir, self.registry, data, self.directory_urls, self.pictures)
        self.stack = StackDiagram.load(self.docs_dir / "data", self.registry, self.directory_urls)
        self.flows = FlowDiagrams.load(self.docs_dir, self.registry, data, self.directory_urls)
        self.paths = LearningPaths.load(self.root, self.docs_dir, self.registry, self.stack.layers)
        self.notebooks = {}
        for path in sorted((self.root / "notebooks").glob("*.ipynb")):
            nb = executor.Notebook.read(path)
            if nb.part:
                self.registry.part(nb.part, f"{path}, metadata.fieldguide.part")
            else:
                self.registry.tool(nb.id, f"{path} (a notebook is named by its tool's registry id, "
                                          f"or declares the part it belongs to)")
            self.notebooks[nb.id] = nb
        for tool in self.registry.tools.values():
            check_execution_mode(tool, self.notebooks.get(tool.id))
        todo = executor.plan(list(self.notebooks.values()), self.workspace)
        if self.execute:
            if todo.stale:
                log(f"executing {len(todo.stale)} notebook(s) with {self.jobs} job(s): "
                    + ", ".join(nb.id for nb in todo.stale))
            executor.execute_stale(todo, self.workspace, self.jobs, log=log)
            executor.prune(todo, self.workspace)
        self.executed = set(todo.fresh)
        self.pages = {}
        for notebook_id, notebook in self.notebooks.items():
            if notebook.recorded:
                nb = notebook.nb
            elif notebook_id in todo.fresh:
                nb = executor.merge(notebook.nb, nbformat.read(todo.fresh[notebook_id], as_version=4))
            else:
                nb = notebook.nb
            # The download is the notebook as Jupyter shows it; the page input has site-drawn figures.
            _write_if_changed(self.download(notebook_id), nbformat.writes(nb))
            self.pages[notebook_id] = self.cache / "pages" / notebook_page(notebook_id)
            _write_if_changed(self.pages[notebook_id], nbformat.writes(notebook_pages.prepare(nb, self.pictures)))

    def download(self, notebook_id: str) -> Path:
        return self.cache / "downloads" / f"{notebook_id}.ipynb"

    def notebook_part(self, notebook_id: str) -> str:
        nb = self.notebooks[notebook_id]
        return nb.part or self.registry.tools[notebook_id].part

    def diagram(self, arg: str, page: str) -> str:
        """``<!-- diagram: stack -->``, ``stack/<part>``, or a flow diagram's id."""
        if arg == "stack" or arg.startswith("stack/"):
            return self.stack.placeholder(arg, page)
        return self.flows.placeholder(arg, page)

    def placeholder_handlers(self) -> dict:
        notebooks = set(self.notebooks)
        return {
            "card": lambda arg, page: card(arg, page, self.registry, notebooks),
            "tools": lambda arg, page: tool_list(arg, page, self.registry, notebooks),
            "map": lambda arg, page: parts_map(arg, page, self.registry),
            "chart": self.charts.placeholder,
            "table": self.charts.table,
            "output": self.notebook_output,
            "selector": lambda arg, page: selector(arg, page, self.registry, notebooks, self.paths, self.stack,
                                                   self.directory_urls),
            "diagram": self.diagram,
            "path": lambda arg, page: self.paths.render(arg, page, self.diagram),
            "paths": self.paths.listing,
            "value": lambda arg, page: quotes.value(self.quote_sources, arg),
            "ratio": lambda arg, page: quotes.ratio(self.quote_sources, arg),
            "change": lambda arg, page: quotes.change(self.quote_sources, arg),
        }

    @property
    def quote_sources(self) -> quotes.Sources:
        if self._quote_sources is None:
            self._quote_sources = quotes.Sources(self.charts.data, self.executed_notebook, set(self.notebooks))
        return self._quote_sources

    def executed_notebook(self, notebook_id: str) -> nbformat.NotebookNode | None:
        """The page input of a notebook this build executed or recorded; None in a preview."""
        if not self.is_executed(notebook_id):
            return None
        if notebook_id not in self._read:
            self._read[notebook_id] = nbformat.read(self.pages[notebook_id], as_version=4)
        return self._read[notebook_id]

    def notebook_output(self, arg: str, page: str) -> str:
        """``<!-- output: <notebook>/<tag> -->``: a tagged cell's outputs from the executed notebook."""
        notebook_id, _, tag = arg.partition("/")
        where = f"docs/{page}"
        if notebook_id not in self.notebooks or not tag:
            raise BuildError(where, f"expected <notebook id>/<cell tag> naming a notebook in notebooks/, got {arg!r}")
        return notebook_pages.quoted_output(self.executed_notebook(notebook_id), notebook_id, tag, page,
                                            f"{where}, placeholder 'output: {arg}'")

    def is_executed(self, notebook_id: str) -> bool:
        nb = self.notebooks[notebook_id]
        return bool(nb.recorded) or notebook_id in self.executed

