"""The layout at any terminal size: the chat keeps the width, the side panels open over it
on narrow terminals; citations in answers lead to their excerpt; the first screen says
how to start. Pictures of the same states are in test_tui_snapshots.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Footer
from textual.widgets.markdown import MarkdownBlock

from ctxchat.app.tui.citations import citation_parser, cited_pages
from ctxchat.app.tui.dropped import piece_from_source
from ctxchat.app.tui.widgets.chat import Answer, ChatView, Welcome
from ctxchat.app.tui.widgets.context import ContextPanel, Excerpt
from ctxchat.app.tui.widgets.library import LibraryTable
from ctxchat.app.tui.widgets.prompt import PromptInput
from ctxchat.app.tui.widgets.status import StatusInfo, StatusLine
from devkit.tui_helpers import TEST_CONFIG, make_app, paste, pdf_named, settle

NARROW, MEDIUM, WIDE = (80, 24), (120, 36), (200, 50)


def shown(app, selector: str) -> bool:
    widget = app.query_one(selector)
    return bool(widget.display) and widget.region.area > 0


def on_screen(app, selector: str) -> bool:
    """Drawn whole, inside the terminal."""
    widget = app.query_one(selector)
    return widget.region.area > 0 and app.screen.region.contains_region(widget.region)


@pytest.mark.asyncio
async def test_at_80x24_the_chat_input_and_status_have_the_width() -> None:
    app = make_app()
    async with app.run_test(size=NARROW) as pilot:
        await pilot.pause()
        assert not shown(app, "#library") and not shown(app, "#context")
        assert app.query_one(ChatView).region.width >= 78
        assert app.query_one(PromptInput).region.width >= 78
        for part in ("#chat", "#prompt", "#status"):
            assert on_screen(app, part), part
        # The footer shows the keys that open the panels, inside the 80 columns.
        keys = {k.description: k for k in app.query_one(Footer).query("FooterKey")}
        for description in ("Copy prompt", "Library", "Context", "Cited page"):
            assert keys[description].region.right <= 80, description


@pytest.mark.asyncio
async def test_the_panels_join_the_row_as_the_terminal_widens() -> None:
    app = make_app()
    async with app.run_test(size=MEDIUM) as pilot:
        await pilot.pause()
        assert shown(app, "#context") and not shown(app, "#library")
        assert app.query_one(ChatView).region.width >= 70
        await pilot.resize_terminal(*WIDE)
        await pilot.pause()
        assert shown(app, "#context") and shown(app, "#library")
        assert app.query_one(ChatView).region.width >= 90
        await pilot.resize_terminal(*NARROW)
        await pilot.pause()
        assert not shown(app, "#library") and not shown(app, "#context")


@pytest.mark.asyncio
async def test_ctrl_l_opens_the_library_over_the_chat_and_esc_closes_it(tmp_path: Path) -> None:
    app = make_app()
    async with app.run_test(size=NARROW) as pilot:
        await paste(app, pilot, str(pdf_named(tmp_path, "field report.pdf", pages=2)))
        chat_width = app.query_one(ChatView).region.width
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert shown(app, "#library") and app.focused is app.query_one(LibraryTable)
        assert app.query_one(ChatView).region.width == chat_width  # over it, not beside
        await pilot.press("space")  # the library's own keys work in the overlay
        assert app.session.used == set()
        await pilot.press("escape")
        await pilot.pause()
        assert not shown(app, "#library") and app.focused is app.query_one(PromptInput)
        await pilot.press("ctrl+l")
        await pilot.press("ctrl+r")  # one overlay at a time
        await pilot.pause()
        assert shown(app, "#context") and not shown(app, "#library")
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert not shown(app, "#context") and app.focused is app.query_one(PromptInput)


@pytest.mark.asyncio
async def test_esc_in_a_panel_beside_the_chat_leaves_it_there() -> None:
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await pilot.press("ctrl+l")
        assert app.focused is app.query_one(LibraryTable)
        await pilot.press("escape")  # not an overlay: Esc stays the answer's cancel key
        await pilot.pause()
        assert shown(app, "#library") and app.focused is app.query_one(LibraryTable)
        await pilot.press("ctrl+l")  # pressed again in the library: back to the question
        assert app.focused is app.query_one(PromptInput)


# -- citations -----------------------------------------------------------------------------


def test_citation_forms_the_answers_use() -> None:
    text = "Yes [p. 3], see [pp. 4-5] and [report.pdf, p. 9]; not [p 2] or [3]. Again [p.3]."
    assert cited_pages(text) == [3, 4, 5, 9]
    tokens = citation_parser().parseInline("The code is 93767 [p. 2].")[0].children
    assert [t.type for t in tokens] == ["text", "link_open", "text", "link_close", "text"]
    assert tokens[1].attrs["href"] == "cite:2" and tokens[2].content == "[p. 2]"


def twelve_pages() -> list:
    """A context long enough to scroll: one excerpt on each of pages 1..12."""
    return [
        piece_from_source(
            f"Page {n} notes: the depot ledger was checked.",
            f"Page {n} notes: the depot ledger was checked and signed by the clerk.",
            page=n,
        )
        for n in range(1, 13)
    ]


async def answered(app, pilot, answer: str) -> Answer:
    chat = app.query_one(ChatView)
    await chat.add_question("Who signed the ledger?")
    widget = await chat.add_answer(answer)
    app.query_one(ContextPanel).set_context(twelve_pages(), title="Context sent")
    await settle(app, pilot)
    return widget


def cited_excerpt(app) -> Excerpt:
    [excerpt] = [e for e in app.query(Excerpt) if e.has_class("-cited")]
    return excerpt


def visible_in_panel(app, excerpt: Excerpt) -> bool:
    scroll = app.query_one("#context-scroll")
    return scroll.region.contains(excerpt.region.x, excerpt.region.y)


@pytest.mark.asyncio
async def test_clicking_a_citation_scrolls_the_context_to_its_page() -> None:
    app = make_app()
    async with app.run_test(size=MEDIUM) as pilot:
        answer = await answered(app, pilot, "The clerk signed it [p. 11].")
        panel_excerpts = {e.page: e for e in app.query(Excerpt)}
        assert not visible_in_panel(app, panel_excerpts[11])  # below the fold at first
        paragraph = answer.query(MarkdownBlock).first()
        column = str(paragraph.render()).index("[p. 11]") + 2
        await pilot.click(paragraph, offset=(column, 0))
        await pilot.pause()
        await pilot.pause()
        assert cited_excerpt(app).page == 11
        assert visible_in_panel(app, panel_excerpts[11])


@pytest.mark.asyncio
async def test_ctrl_g_walks_the_cited_pages_and_opens_the_panel_when_narrow() -> None:
    app = make_app()
    async with app.run_test(size=NARROW) as pilot:
        await answered(app, pilot, "Signed [p. 10] and counter-signed [p. 2].")
        await pilot.press("ctrl+g")
        await pilot.pause()
        await pilot.pause()
        assert shown(app, "#context") and cited_excerpt(app).page == 10
        assert visible_in_panel(app, cited_excerpt(app))
        await pilot.press("ctrl+g")
        await pilot.pause()
        await pilot.pause()
        assert cited_excerpt(app).page == 2 and visible_in_panel(app, cited_excerpt(app))
        await pilot.press("ctrl+g")
        await pilot.pause()
        assert cited_excerpt(app).page == 10  # round again
        await pilot.press("ctrl+t")  # the view redrawn without dropped words: still marked
        await pilot.pause()
        assert cited_excerpt(app).page == 10


@pytest.mark.asyncio
async def test_a_new_context_replaces_the_shown_one_at_once() -> None:
    app = make_app()
    async with app.run_test(size=MEDIUM) as pilot:
        panel = app.query_one(ContextPanel)
        panel.set_context(twelve_pages(), title="first")
        panel.set_context(twelve_pages()[3:5], title="second")  # before a refresh
        await pilot.pause()
        assert [e.page for e in app.query(Excerpt)] == [4, 5]
        panel.set_context(
            [], title="Context sent (saved chat)", plain_text="[p. 7] Kept. [p. 9] On."
        )
        await pilot.pause()
        assert [(e.page, e.text.plain) for e in app.query(Excerpt)] == [
            (7, "[p. 7] Kept."),
            (9, "[p. 9] On."),
        ]
        assert panel.show_page(9)


@pytest.mark.asyncio
async def test_a_page_not_in_the_context_is_said_so() -> None:
    app = make_app()
    async with app.run_test(size=MEDIUM) as pilot:
        await answered(app, pilot, "It is on [p. 40].")
        await pilot.press("ctrl+g")
        await pilot.pause()
        assert "p. 40 is not in the context sent" in app.notices
        assert not [e for e in app.query(Excerpt) if e.has_class("-cited")]


@pytest.mark.asyncio
async def test_a_citation_split_across_streamed_chunks_becomes_a_link() -> None:
    app = make_app()
    async with app.run_test(size=MEDIUM) as pilot:
        chat = app.query_one(ChatView)
        answer = await chat.add_answer()
        for chunk in ("The code is 93767 [p", ". 1", "2]."):
            await answer.append(chunk)
        await pilot.pause()
        content = answer.query(MarkdownBlock).first()._content
        links = [s for s in content.spans if "@click" in str(s.style)]
        assert [str(content)[s.start : s.end] for s in links] == ["[p. 12]"]


# -- first screen and status -------------------------------------------------------------------


@pytest.mark.asyncio
async def test_the_first_screen_says_how_to_start_and_which_model_answers() -> None:
    app = make_app()
    async with app.run_test(size=NARROW) as pilot:
        await pilot.pause()
        welcome = app.query_one(Welcome)
        text = str(welcome.render())
        assert "Drop a PDF" in text and "press Enter" in text and "Ctrl+Y" in text
        assert app.session.model_label in text
        # The bundled 135M reader: where better answers come from.
        assert "ctxchat models pull qwen2.5-1.5b" in text and "(F2)" in text
        assert on_screen(app, "Welcome")
        app.apply_config(TEST_CONFIG.with_changes(server_url="http://127.0.0.1:8080/v1"))
        assert "http://127.0.0.1:8080/v1" in str(welcome.render())
        assert "models pull" not in str(welcome.render())  # a server answers: no hint
        await app.query_one(ChatView).add_question("What is it?")
        assert not app.query(Welcome)
        await app.query_one(ChatView).clear()  # a new chat shows it again
        assert app.query(Welcome)


@pytest.mark.asyncio
async def test_the_empty_chat_says_which_documents_questions_read(tmp_path: Path) -> None:
    # At 80x24 the library is hidden and the "added" toast fades: the first screen is
    # what says a dropped PDF is there.
    app = make_app()
    async with app.run_test(size=NARROW) as pilot:
        await paste(app, pilot, str(pdf_named(tmp_path, "field report.pdf", pages=3)))
        text = str(app.query_one(Welcome).render())
        assert "Reading field report.pdf (3 pages). Drop another PDF" in text
        assert "Drop a PDF on this window" not in text
        await paste(app, pilot, str(pdf_named(tmp_path, "memo [draft].pdf", pages=2, seed=3)))
        await pilot.press("ctrl+l", "space", "space", "escape")  # both in use
        await pilot.pause()
        text = str(app.query_one(Welcome).render())
        assert "Reading 2 documents: " in text and "memo [draft].pdf" in text
        await pilot.press("ctrl+l", "space", "down", "space", "escape")  # neither
        await pilot.pause()
        assert "Drop a PDF on this window" in str(app.query_one(Welcome).render())


def test_the_status_line_leaves_out_what_does_not_fit() -> None:
    info = StatusInfo(
        original_tokens=3213,
        compressed_tokens=270,
        cache_hits="embeddings 0, keep_probs 0",
        stages={"compress": 15.2, "answer": 6.3},
        device="cpu",
        model="SmolLM2-135M-Instruct.Q4_1.gguf",
        kv_type="q8_0",
        state="ready",
    )
    full = info.render_line()
    assert "cache" in full and "compress 15.2s" in full and "KV q8_0" in full
    narrow = info.render_line(78)
    assert len(narrow) <= 78
    assert narrow.startswith("ready | tokens 3,213 -> 270 (11.9x)")
    assert narrow.endswith("SmolLM2-135M-Instruct.Q4_1.gguf")
    assert info.render_line(200) == full


@pytest.mark.asyncio
async def test_the_status_line_fits_80_columns() -> None:
    app = make_app()
    async with app.run_test(size=NARROW) as pilot:
        app.status_info.original_tokens, app.status_info.compressed_tokens = 3213, 270
        app.status_info.stages = {"compress": 15.2, "select": 5.0, "answer": 6.3}
        app.show_status("ready")
        await pilot.pause()
        line = str(app.query_one(StatusLine).render())
        assert line.startswith("ready | tokens 3,213 -> 270") and len(line) <= 78


@pytest.mark.slow
@pytest.mark.asyncio
async def test_drop_ask_read_and_copy_at_80x24(tmp_path: Path) -> None:
    """The whole flow with the bundled model, never leaving 80x24."""
    from devkit.docgen import long_pdf

    path = tmp_path / "depot report.pdf"
    _, facts = long_pdf(path, n_pages=30, seed=11)
    app = make_app()
    async with app.run_test(size=NARROW) as pilot:
        await paste(app, pilot, f"'{path}'")
        assert app.focused is app.query_one(PromptInput)
        await pilot.press(*facts[0].question)
        await pilot.press("enter")
        await settle(app, pilot)
        [answer] = app.query(Answer)
        assert answer.source.strip(), app.notices
        assert on_screen(app, "Answer") and answer.region.width >= 76
        assert on_screen(app, "#prompt") and on_screen(app, "#status")
        await pilot.press("ctrl+y")
        await settle(app, pilot)
        assert any(n.startswith("Copied the prompt") for n in app.notices)
        assert app.clipboard.rstrip().endswith(facts[0].question)
