"""What each MkDocs event does, adapted to the build modules (site_build.py holds the build's state).
hooks.py imports this module afresh for every build and forwards the events to it."""

from __future__ import annotations

from pathlib import Path

import mkdocs_jupyter
import nbformat
from mkdocs.exceptions import PluginError
from mkdocs.plugins import get_plugin_logger
from mkdocs.structure.files import File

from scripts.site import addresses, notebook_pages, placeholders
from scripts.site.errors import BuildError
from scripts.site.nav import build_nav
from scripts.site.site_build import SiteBuild
from scripts.site.static_charts import PLOTLY_BUNDLE

log = get_plugin_logger("fieldguide")
PLOTLY_URL = "assets/vendor/plotly-cartesian.min.js"
NOTEBOOK_ASSETS = Path(mkdocs_jupyter.__file__).parent / "templates" / "mkdocs_html" / "assets"


def _fail(exc: BuildError) -> PluginError:
    return PluginError(f"\n\n  {exc.where}\n  {exc.message}\n")


class Events:
    """One build: the events of one MkDocs build, in the order MkDocs sends them."""

    def __init__(self, config):
        # plotly.js draws the charts' pictures during the build, so it must be there first
        if not PLOTLY_BUNDLE.is_file():
            raise PluginError(f"{PLOTLY_BUNDLE} is missing: run `npm ci` (make setup does) to install the site's plotly.js")
        self.state = None
        try:
            self.repository = addresses.Repository.from_config(config["repo_url"], config["edit_uri"])
            self.state = SiteBuild.from_env(Path(config["docs_dir"]), config["use_directory_urls"])
            self.state.load(log=log.info)
            state = self.state
            config["nav"] = build_nav(state.docs_dir, state.registry,
                                      {i: (state.notebook_part(i), addresses.notebook_page(i)) for i in state.notebooks})
        except BuildError as exc:
            self.close()
            raise _fail(exc) from None
        except BaseException:
            self.close()
            raise

    def on_files(self, files, config):
        state = self.state
        for notebook_id in state.pages:
            # A plain File rooted in the cache (mkdocs-jupyter's wrapper needs a real source folder).
            files.append(File(addresses.notebook_page(notebook_id), src_dir=str(state.cache / "pages"),
                              dest_dir=config["site_dir"], use_directory_urls=config["use_directory_urls"]))
            files.append(File.generated(config, addresses.notebook_download(notebook_id),
                                        abs_src_path=str(state.download(notebook_id))))
        files.append(File.generated(config, PLOTLY_URL, abs_src_path=str(PLOTLY_BUNDLE)))
        for path, text in state.charts.downloads().items():
            files.append(File.generated(config, path, content=text))
        return files

    def on_page_markdown(self, markdown, page):
        if addresses.notebook_id(page.file.src_uri) is not None:  # notebook pages come as JSON, not Markdown
            return markdown
        try:
            return placeholders.expand(markdown, page.file.src_uri, self.state.placeholder_handlers())
        except BuildError as exc:
            raise _fail(exc) from None

    def on_page_content(self, html, page):
        notebook_id = addresses.notebook_id(page.file.src_uri)
        if notebook_id is None:
            try:
                placeholders.check_expanded(html, page.file.src_uri)
            except BuildError as exc:
                raise _fail(exc) from None
            return html
        state = self.state
        page.edit_url = self.repository.edit(addresses.notebook_source(notebook_id))
        nb = nbformat.read(state.pages[notebook_id], as_version=4)
        page.title = notebook_pages.plain_title(page.title)
        state.notebook_classes.update(notebook_pages.used_classes(html))
        notebook_pages.align_toc(list(page.toc), html)
        home = notebook_pages.home_page(notebook_id, state.registry, state.notebook_part(notebook_id))
        return notebook_pages.finish(html, nb, notebook_id, self.repository, state.is_executed(notebook_id), home,
                                     state.directory_urls)

    def on_post_build(self, config):
        self.close()
        if not self.state.pages:
            return
        target = Path(config["site_dir"]) / notebook_pages.STYLESHEET
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(notebook_pages.stylesheet(NOTEBOOK_ASSETS, self.state.notebook_classes), encoding="utf-8")

    def close(self):
        """Stop the browser that drew this build's new chart pictures, if one started."""
        if self.state is not None and self.state.pictures is not None:
            self.state.pictures.close()
