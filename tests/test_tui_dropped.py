"""The context panel's dropped-words view with the real trained compressor: spans carry
their pre-pruning source, and the panel strikes out exactly the words that were dropped."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctxchat.app.tui.dropped import align_to_source
from ctxchat.app.tui.widgets.context import ContextPanel
from ctxchat.app.tui.widgets.prompt import PromptInput
from tests.docgen import long_pdf
from tests.tui_helpers import SIZE, TEST_CONFIG, make_app, paste, settle


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

        # The rendered body: dropped words dim and struck through, kept words plain.
        body = panel.query_one("#context-body").render()
        struck = [body.plain[s.start : s.end] for s in body.spans if "strike" in str(s.style)]
        assert struck == dropped
        await pilot.press("ctrl+t")  # hide them
        await pilot.pause()
        hidden = panel.query_one("#context-body").render()
        assert not [s for s in hidden.spans if "strike" in str(s.style)]
        for span in spans:
            assert span.text.split()[0] in hidden.plain
