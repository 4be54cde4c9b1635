import pytest

from scripts.site.errors import BuildError
from scripts.site.placeholders import check_expanded, expand

HANDLERS = {"card": lambda arg, page: f"[card {arg} on {page}]"}


def test_placeholder_is_replaced_with_page_context():
    assert expand("a <!-- card: jax --> b", "p/x.md", HANDLERS) == "a [card jax on p/x.md] b"


def test_code_blocks_and_spans_keep_placeholders_as_written():
    text = "```md\n<!-- card: jax -->\n```\n`<!-- card: jax -->`\n~~~\n<!-- card: x -->\n~~~\n"
    assert expand(text, "p.md", HANDLERS) == text


def test_ordinary_comments_are_left_alone():
    assert expand("<!-- just a note -->", "p.md", HANDLERS) == "<!-- just a note -->"


def test_unknown_placeholder_names_page_and_lists_known():
    with pytest.raises(BuildError, match=r"docs/p.md: unknown placeholder 'cart' .* known: card"):
        expand("<!-- cart: jax -->", "p.md", HANDLERS)


def test_handler_errors_name_the_page_and_placeholder():
    def fail(arg, page):
        raise BuildError("registry", f"unknown tool id {arg!r}")

    with pytest.raises(BuildError, match=r"docs/p.md, placeholder 'card: nope': unknown tool id 'nope'"):
        expand("<!-- card: nope -->", "p.md", {"card": fail})


def test_unknown_tool_in_a_real_card_is_named():
    from scripts.site.site_build import ROOT, SiteBuild

    build = SiteBuild.from_env(ROOT / "docs")
    build.execute = False
    build.load(log=lambda _: None)
    with pytest.raises(BuildError, match=r"docs/p.md, placeholder 'card: pytorch-3'.*unknown tool id 'pytorch-3'"):
        expand("<!-- card: pytorch-3 -->", "p.md", build.placeholder_handlers())


def test_stray_backtick_does_not_hide_later_placeholders():
    text = "A stray ` backtick.\n\n<!-- card: jax -->\n\nSpan `<!-- card: x -->` kept.\n"
    assert expand(text, "p.md", HANDLERS) == ("A stray ` backtick.\n\n[card jax on p.md]\n\n"
                                             "Span `<!-- card: x -->` kept.\n")


def test_placeholder_left_in_rendered_page_fails_naming_it():
    check_expanded("<p>code: <code>&lt;!-- card: jax --&gt;</code></p><!-- a note -->", "p.md")
    with pytest.raises(BuildError, match=r"docs/p.md: placeholder '<!-- chart: gpu -->' was not expanded"):
        check_expanded("<p>text</p>\n<!-- chart: gpu -->\n", "p.md")
