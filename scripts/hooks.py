"""MkDocs hook: adapts MkDocs events to the plain modules in scripts/ (see site_build.py)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import mkdocs_jupyter  # noqa: E402
import nbformat  # noqa: E402
from mkdocs.exceptions import PluginError  # noqa: E402
from mkdocs.plugins import event_priority, get_plugin_logger  # noqa: E402
from mkdocs.structure.files import File  # noqa: E402
from mkdocs.utils import get_relative_url  # noqa: E402

from scripts import notebook_pages, placeholders  # noqa: E402
from scripts.errors import BuildError  # noqa: E402
from scripts.nav import build_nav  # noqa: E402
from scripts.site_build import SiteBuild  # noqa: E402
from scripts.static_charts import PLOTLY_BUNDLE  # noqa: E402

log = get_plugin_logger("fieldguide")
PLOTLY_URL = "assets/vendor/plotly-cartesian.min.js"
NOTEBOOK_ASSETS = Path(mkdocs_jupyter.__file__).parent / "templates" / "mkdocs_html" / "assets"

state: SiteBuild | None = None
notebook_classes: set[str] = set()


def _fail(exc: BuildError) -> PluginError:
    return PluginError(f"\n\n  {exc.where}\n  {exc.message}\n")


def on_config(config):
    global state
    if not PLOTLY_BUNDLE.is_file():
        raise PluginError(f"{PLOTLY_BUNDLE} is missing: run `npm ci` (make setup does) to install the site's plotly.js")
    state = SiteBuild.from_env(Path(config["docs_dir"]))
    try:
        state.load(log=log.info)
        config["nav"] = build_nav(state.docs_dir, state.registry,
                                  {i: (state.notebook_part(i), state.notebook_page(i)) for i in state.notebooks})
    except BuildError as exc:
        raise _fail(exc) from None
    return config


# Runs before mkdocs-jupyter's on_files, which must see the notebook pages to render them.
@event_priority(100)
def on_files(files, config):
    for notebook_id in state.pages:
        # A plain File rooted in the cache (mkdocs-jupyter's wrapper needs a real source folder).
        files.append(File(state.notebook_page(notebook_id), src_dir=str(state.cache / "pages"),
                          dest_dir=config["site_dir"], use_directory_urls=config["use_directory_urls"]))
        files.append(File.generated(config, f"notebooks/{notebook_id}/{notebook_id}.ipynb",
                                    abs_src_path=str(state.download(notebook_id))))
    files.append(File.generated(config, PLOTLY_URL, abs_src_path=str(PLOTLY_BUNDLE)))
    for path, text in state.charts.downloads().items():
        files.append(File.generated(config, path, content=text))
    return files


def on_page_markdown(markdown, page, config, files):
    if _notebook_id(page) is not None:  # MkDocs hands notebook pages over as JSON, not Markdown
        return markdown
    try:
        return placeholders.expand(markdown, page.file.src_uri, state.placeholder_handlers())
    except BuildError as exc:
        raise _fail(exc) from None


def _notebook_id(page) -> str | None:
    uri = page.file.src_uri
    if uri.startswith("notebooks/") and uri.endswith(".ipynb"):
        return uri[len("notebooks/"):-len(".ipynb")]
    return None


def on_page_content(html, page, config, files):
    notebook_id = _notebook_id(page)
    if notebook_id is None:
        try:
            placeholders.check_expanded(html, page.file.src_uri)
        except BuildError as exc:
            raise _fail(exc) from None
        return html
    page.edit_url = f"{config['repo_url']}/edit/main/notebooks/{notebook_id}.ipynb"
    nb = nbformat.read(state.pages[notebook_id], as_version=4)
    page.title = notebook_pages.plain_title(page.title)
    notebook_classes.update(notebook_pages.used_classes(html))
    notebook_pages.align_toc(list(page.toc), html)
    stylesheet = "../../" + notebook_pages.STYLESHEET if config["use_directory_urls"] else "../" + notebook_pages.STYLESHEET
    text, target = notebook_pages.home_page(notebook_id, state.registry, state.notebook_part(notebook_id))
    home = (text, get_relative_url(files.get_file_from_path(target).url, page.url))
    return notebook_pages.finish(html, nb, notebook_id, config["repo_url"], state.is_executed(notebook_id), stylesheet,
                                 home)


def on_post_build(config):
    state.pictures.close()  # the browser that drew this build's new pictures, if it started
    if not state.pages:
        return
    target = Path(config["site_dir"]) / notebook_pages.STYLESHEET
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(notebook_pages.stylesheet(NOTEBOOK_ASSETS, notebook_classes), encoding="utf-8")


def on_build_error(error):
    if state is not None:
        state.pictures.close()


def on_serve(server, config, builder):
    for watched in ("notebooks", "requirements", "scripts"):
        server.watch(str(ROOT / watched))
    return server
