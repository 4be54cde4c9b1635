"""The MkDocs hook (mkdocs.yml names this file). MkDocs imports it once per process, so for every
build it imports the build modules afresh (``mkdocs serve`` then rebuilds with the code as edited)
and forwards each event to events.py, which adapts it to the build modules."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

from mkdocs.plugins import event_priority

# MkDocs loads this file by its path, with its folder on sys.path only while it loads: the
# repository's package is imported now, and the build modules are found through it later.
ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
import scripts  # noqa: E402,F401

BUILD_PACKAGE = "scripts.site"
build = None  # the current build's events.Events


def fresh_events_module():
    """events.py and every build module it imports, read from disk again."""
    for name in [n for n in sys.modules if n == BUILD_PACKAGE or n.startswith(BUILD_PACKAGE + ".")]:
        del sys.modules[name]
    return importlib.import_module(BUILD_PACKAGE + ".events")


def on_config(config):
    global build
    build = fresh_events_module().Events(config)
    return config


# Runs before mkdocs-jupyter's on_files, which must see the notebook pages to render them.
@event_priority(100)
def on_files(files, config):
    return build.on_files(files, config)


def on_page_markdown(markdown, page, config, files):
    return build.on_page_markdown(markdown, page)


def on_page_content(html, page, config, files):
    return build.on_page_content(html, page)


def on_post_build(config):
    build.on_post_build(config)


def on_build_error(error):
    if build is not None:
        build.close()


def on_serve(server, config, builder):
    # The build modules are read again for every build; pages, data and charts are watched already.
    for watched in ("notebooks", "requirements", "scripts/site"):
        server.watch(str(ROOT / watched))
    return server
