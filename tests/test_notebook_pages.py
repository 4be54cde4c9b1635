"""Unit tests of scripts/site/notebook_pages.py: the notebook stylesheet trim and the page input."""

from pathlib import Path

import nbformat

from scripts.site import notebook_pages


def kept(css: str, classes: set[str]) -> list[str]:
    """The selectors of each rule the trim keeps."""
    return [prelude for prelude, _ in notebook_pages._split_rules(notebook_pages.trim_css(css, classes))]


def test_trim_keeps_rules_that_match_where_a_class_is_absent():
    css = ".jp-Cell:not(.jp-mod-active) .jp-InputPrompt{opacity:.5}.jp-mod-active{outline:1px}"
    assert kept(css, {"jp-Cell", "jp-InputPrompt"}) == [".jp-Cell:not(.jp-mod-active) .jp-InputPrompt"]


def test_trim_reads_attribute_values_as_values_not_classes():
    css = ("a[href^='x.y']{color:red}"
           '.jp-RenderedText[data-mime-type="application/vnd.jupyter.stderr"]{background:pink}')
    assert kept(css, {"jp-RenderedText"}) == ["a[href^='x.y']",
                                              '.jp-RenderedText[data-mime-type="application/vnd.jupyter.stderr"]']


def test_trim_drops_selectors_whose_classes_are_unused_and_keeps_the_rest_of_the_list():
    css = ".a .b,.a .c{margin:0}.d{margin:1px}@media print{.d{color:red}.a{color:blue}}"
    assert notebook_pages.trim_css(css, {"a", "b"}) == ".a .b{margin:0}@media print{.a{color:blue}}"


def test_trim_splits_selector_lists_only_at_their_own_commas():
    css = ".w :is(.x:hover,.y) .z,.unused{display:none}"
    assert kept(css, {"w", "z"}) == [".w :is(.x:hover,.y) .z"]


ROOT = Path("/srv/build/field-guide")
SITE_PACKAGES = "/srv/build/field-guide/.venvs/main/lib/python3.11/site-packages"
STDLIB = "/opt/python/3.11.7/lib/python3.11"


def test_build_machine_paths_leave_tracebacks_warnings_and_printed_text(pictures):
    # IPython colours each path and writes paths under the home folder with a ~
    frame = f"\x1b[36mFile \x1b[39m\x1b[32m{SITE_PACKAGES}/torch/jit/_script.py:1443\x1b[39m, in \x1b[36mscript\x1b[39m"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x", outputs=[
        nbformat.v4.new_output("error", ename="RuntimeError", evalue=f"see {ROOT}/scripts/site/datasets.py",
                               traceback=[frame, "File ~/.pyenv/versions/3.11.7/lib/python3.11/json/decoder.py:337"]),
        nbformat.v4.new_output("stream", name="stderr",
                               text=f"{STDLIB}/warnings.py:1: UserWarning: careful\n{ROOT}/notebooks/x.py:2: note\n"),
        nbformat.v4.new_output("execute_result", data={"text/plain": f"'{SITE_PACKAGES}/numpy/__init__.py'"}),
    ])])
    error, stream, result = notebook_pages.prepare(nb, pictures, root=ROOT).cells[0].outputs
    assert error.traceback == [
        "\x1b[36mFile \x1b[39m\x1b[32m<site-packages>/torch/jit/_script.py:1443\x1b[39m, in \x1b[36mscript\x1b[39m",
        "File <stdlib>/json/decoder.py:337"]
    assert error.evalue == "see scripts/site/datasets.py"
    assert stream.text == "<stdlib>/warnings.py:1: UserWarning: careful\nnotebooks/x.py:2: note\n"
    assert result.data["text/plain"] == "'<site-packages>/numpy/__init__.py'"
    assert nb.cells[0].outputs[0].traceback[0] == frame, "the notebook itself (the download) is left as it ran"


def test_paths_that_are_not_the_build_machines_stay():
    text = "see https://pytorch.org/docs/stable/jit.html and docs/data/x.csv, a/lib/python3.11/ note"
    assert notebook_pages.short_paths(text, ROOT) == text


def test_tracebacks_keep_the_named_colours_the_stylesheet_follows_and_lose_fixed_ones(pictures):
    # IPython colours source lines in 256 colours (nbconvert: fixed inline colours) and the rest
    # in the 16 named ones (nbconvert: classes)
    line = ("\x1b[38;5;28;01mdef\x1b[39;00m\x1b[38;5;250m \x1b[39m\x1b[34mf\x1b[39m(x)"
            " \x1b[38;2;10;20;30mrgb\x1b[0m \x1b[30;43mhere\x1b[39;49m")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x", outputs=[
        nbformat.v4.new_output("error", ename="E", evalue="", traceback=[line])])])
    shown = notebook_pages.prepare(nb, pictures, root=ROOT).cells[0].outputs[0].traceback[0]
    assert shown == "\x1b[01mdef\x1b[39;00m \x1b[39m\x1b[34mf\x1b[39m(x) rgb\x1b[0m \x1b[30;43mhere\x1b[39;49m"


def test_a_plotly_output_becomes_the_sites_chart_box_with_its_static_picture(pictures):
    figure = {"data": [{"type": "scatter", "y": [3, 1, 2]}], "layout": {"title": {"text": "Loss"}, "height": 300}}
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x", outputs=[
        nbformat.v4.new_output("display_data", data={notebook_pages.PLOTLY_MIME: figure, "text/plain": "Figure"})])])
    data = notebook_pages.prepare(nb, pictures).cells[0].outputs[0].data
    assert list(data) == ["text/html"]
    assert data["text/html"].startswith('<div class="fg-plot" role="group" aria-label="Loss ')
    assert 'style="height: 300px"' in data["text/html"]
    assert '<svg class="fg-plot__static" role="img"><title>Loss</title></svg></div>' in data["text/html"]
