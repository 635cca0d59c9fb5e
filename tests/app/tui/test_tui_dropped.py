"""The context panel's dropped-words view with the real trained compressor: spans carry
their pre-pruning source, and the panel strikes out exactly the words that were dropped."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctxchat.app.tui.dropped import align_to_source, piece_from_source
from ctxchat.app.tui.widgets.context import ContextPanel, render_pieces
from ctxchat.app.tui.widgets.prompt import PromptInput
from devkit.docgen import long_pdf
from devkit.tui_helpers import SIZE, TEST_CONFIG, make_app, paste, settle


def test_alignment_keeps_every_source_word_in_order() -> None:
    source = "The committee compared the transportation plan for the third time.".split()
    kept = "committee compared third .".split()
    words, flags = align_to_source(kept, source)
    assert words == [*source[:-1], "time", "."]  # "time." dropped but for its full stop
    assert [w for w, k in zip(words, flags, strict=True) if k] == kept
    assert flags[0] is False and flags[-2:] == [False, True]


def test_alignment_of_unpruned_text_is_all_kept() -> None:
    source = "The permit serial of the Larkspur depot is 83298.".split()
    assert align_to_source(source, source) == (source, [True] * len(source))


def test_the_view_keeps_the_source_spacing_where_kept_and_dropped_words_meet() -> None:
    source = "The library board catalogued the reconstruction of storehouses in the third time."
    kept = "library board reconstruction storehouses third ."  # as the compressor sends it
    piece = piece_from_source(kept, source, page=2)
    assert [w for w, k in zip(piece.words, piece.keep, strict=True) if k] == kept.split()

    shown = render_pieces([piece], show_dropped=True)
    assert shown.plain == f"[p.2]\n{source}"  # "time." keeps its stop, no word runs on
    hidden = render_pieces([piece], show_dropped=False)  # what the model read
    assert hidden.plain == f"[p.2]\n{kept}"


def test_hidden_dropped_words_leave_one_space_between_kept_ones() -> None:
    piece = piece_from_source("a c", "a  b\tc")
    assert render_pieces([piece], show_dropped=True).plain == "a  b c"
    assert render_pieces([piece], show_dropped=False).plain == "a c"


def test_a_code_example_keeps_its_lines_in_the_panel() -> None:
    """Run into one line, "{     return         out <<" showed the indentation but not the
    lines it indents."""
    code = "ostream &operator<<(ostream &out, Person const &person)\n{\n    return out;\n}"
    source = f"It is defined as follows: {code}"
    piece = piece_from_source(source, source, page=337)
    assert render_pieces([piece], show_dropped=True).plain == f"[p.337]\n{source}"
    # A sentence after the example starts a line of its own, as in the prompt.
    after = piece_from_source("It returns the stream.", "It returns the stream.", page=337)
    shown = render_pieces([piece, after], show_dropped=True).plain
    assert shown == f"[p.337]\n{source}\nIt returns the stream."


def test_no_screenshot_text_run_starts_with_a_space() -> None:
    """A styled run that starts with a space loses it in some SVG viewers ("Thelibrary"
    in an old docs/tui.svg): spaces end the run before them instead."""
    source = "The library board catalogued the reconstruction of storehouses."
    piece = piece_from_source("board reconstruction storehouses.", source)
    text = render_pieces([piece], show_dropped=True)
    for span in text.spans:
        run = text.plain[span.start : span.end]
        assert run.strip() == "" or not run[0].isspace(), run


@pytest.mark.asyncio
async def test_panel_strikes_out_the_words_the_compressor_dropped(tmp_path: Path) -> None:
    path = tmp_path / "depot report.pdf"
    _, facts = long_pdf(path, n_pages=6, seed=11)
    question = facts[0].question
    app = make_app(TEST_CONFIG.with_changes(budget=150))
    async with app.run_test(size=SIZE) as pilot:
        await paste(app, pilot, str(path))
        app.query_one(PromptInput).value = question
        await pilot.press("ctrl+y")  # compresses and fills the panel, no chat model needed
        await settle(app, pilot)
        compressed = app.session.last_compressed
        assert compressed.stats["mode"] == "select+prune"
        spans = compressed.spans
        assert spans and all(s.source for s in spans)
        assert any(s.text != s.source for s in spans)

        panel = app.query_one(ContextPanel)
        assert len(panel.pieces) == len(spans)
        for piece, span in zip(panel.pieces, spans, strict=True):
            kept = [w for w, k in zip(piece.words, piece.keep, strict=True) if k]
            assert kept == span.text.split()  # exactly what was sent
            # Every source word is shown: kept ones plain, the rest dropped.
            assert "".join(piece.words).replace(" ", "") == "".join(span.source.split())
        dropped = [w for p in panel.pieces for w, k in zip(p.words, p.keep, strict=True) if not k]
        assert dropped

        # The rendered body: dropped words dim and struck through, kept words plain, and
        # every word separated from the next as in the source.
        body = panel.rendered()
        struck = [body.plain[s.start : s.end] for s in body.spans if "strike" in str(s.style)]
        assert struck == dropped
        for span in spans:
            assert " ".join(span.source.split()) in " ".join(body.plain.split())
        await pilot.press("ctrl+t")  # hide them
        await pilot.pause()
        hidden = panel.rendered()
        assert not [s for s in hidden.spans if "strike" in str(s.style)]
        for span in spans:
            assert span.text.split()[0] in hidden.plain


def test_two_passages_on_one_page_are_two_excerpts_each_under_its_heading(
    tmp_path: Path,
) -> None:
    """Found in the app: "The team play their home games at Changlimithang." (Bhutan's
    team) was shown inside CD Numancia's excerpt of the same page, as if it were Numancia's."""
    from ctxchat.app.tui.session import Session
    from ctxchat.app.tui.widgets.context import group_pieces
    from ctxchat.engines.store.db import Store

    notes = tmp_path / "football notes.md"
    notes.write_text(
        "# CD Numancia\n\nNumancia holds its home games at Nuevo Estadio Los Pajaritos.\n\n"
        "# Bhutan national football team\n\nThe team play their home games at the "
        "national stadium, Changlimithang.\n",
        encoding="utf-8",
    )
    with Store() as store:
        session = Session(store, TEST_CONFIG)
        session.ingest(notes)
        compressed = session.compress("where are the home games played?")
        assert compressed is not None
        groups = group_pieces(session.context_pieces(compressed))
    labels = [g.label for g in groups]
    assert labels == [
        "football notes.md p.1 · CD Numancia",
        "football notes.md p.1 · Bhutan national football team",
    ]
    rendered = render_pieces(session.context_pieces(compressed), show_dropped=False).plain
    assert rendered.index("[football notes.md p.1 · Bhutan") < rendered.index("Changlimithang")
