"""The TUI indexes each dropped document in the background and shows how far it is."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctxchat.app.tui.app import IndexProgressed
from ctxchat.app.tui.widgets.library import LibraryTable
from ctxchat.engines.select.indexing import IndexProgress, index_progress
from devkit.tui_helpers import SIZE, make_app, paste, pdf_named, settle


@pytest.mark.asyncio
async def test_a_dropped_pdf_is_indexed_in_the_background(tmp_path: Path) -> None:
    pdf = pdf_named(tmp_path, "field report.pdf", pages=3, seed=1)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await paste(app, pilot, str(pdf))
        (doc,) = app.store.documents()
        assert index_progress(app.store, doc.id).complete  # every sentence has its vector
        percents = [p for d, p, _ in app.index_log if d == doc.id]
        assert percents[0] == 0 and percents[-1] == 100
        table = app.query_one(LibraryTable)
        assert str(table.get_cell(str(doc.id), "status")) == "ready"
        assert "indexing" not in str(app.query_one("#status").render())


@pytest.mark.asyncio
async def test_progress_shows_in_the_row_and_the_status_line(tmp_path: Path) -> None:
    pdf = pdf_named(tmp_path, "book.pdf", pages=2, seed=2)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await paste(app, pilot, str(pdf))
        (doc,) = app.store.documents()
        halfway = IndexProgress(doc.id, 340, 1000, seconds=20.0, computed=340)
        app.post_message(IndexProgressed(doc.id, doc.name, halfway, None))
        await settle(app, pilot)
        table = app.query_one(LibraryTable)
        assert str(table.get_cell(str(doc.id), "status")) == "34% 1m"
        line = str(app.query_one("#status").render())
        assert "indexing book.pdf 34% · ~39 s left" in line
        app.refresh_library()  # a redraw keeps the progress
        assert str(table.get_cell(str(doc.id), "status")) == "34% 1m"
        done = IndexProgress(doc.id, 1000, 1000, seconds=60.0, computed=1000)
        app.post_message(IndexProgressed(doc.id, doc.name, done, None))
        await settle(app, pilot)
        assert str(table.get_cell(str(doc.id), "status")) == "ready"
        assert "indexing" not in str(app.query_one("#status").render())


@pytest.mark.asyncio
async def test_the_app_reads_the_documents_in_use_before_the_first_question(
    tmp_path: Path,
) -> None:
    from ctxchat.engines.select import selector

    pdf = pdf_named(tmp_path, "manual.pdf", pages=3, seed=3)
    first = make_app()
    async with first.run_test(size=SIZE) as pilot:
        await paste(first, pilot, str(pdf))  # added and indexed
    (doc,) = first.store.documents()
    selector.DOC_CACHE.clear()
    app = make_app(preload=True)  # as `ctxchat` starts: models, then the documents in use
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(1.0)  # the model load starts 0.5 s after the first paint
        await settle(app, pilot)
        assert app.session.used == {doc.id}
        index = selector.DOC_CACHE.get(selector.doc_cache_key(app.store, doc))
        assert index is not None and index.matrix is not None  # vectors in memory
        assert "vocabulary" in vars(index)  # word postings built (cached_property)
        # A document put back in use (Space in the library) is read again at once.
        selector.DOC_CACHE.clear()
        for _ in range(2):  # out of use, then in use again
            app.post_message(LibraryTable.ToggleUse(doc.id))
            await settle(app, pilot)
        assert app.session.used == {doc.id}
        index = selector.DOC_CACHE.get(selector.doc_cache_key(app.store, doc))
        assert index is not None and index.matrix is not None
