"""A document an older ctxchat read is read again when its file is added again: the fixes
of a newer reader reach libraries made before them, in place (same id, chats intact), and
the vectors of sentences read alike are kept."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import pymupdf

from ctxchat.engines.ingest import READER_VERSION
from ctxchat.engines.ingest.library import add_path
from ctxchat.engines.ingest.readers import read_document
from ctxchat.engines.ingest.segment import segment_pages
from ctxchat.engines.pipeline import add_text
from ctxchat.engines.store.db import NewSegment, Store

BODY = (
    "<p>Registering native routines is optional<sup>1</sup> for small packages.</p>"
    "<p>The weather in the valley was mild all week, with rain on the last day.</p>"
    "<p>Two rivers meet below the old mill, where the road crosses on a stone bridge.</p>"
)


def _pdf(path: Path) -> Path:
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_htmlbox(pymupdf.Rect(72, 72, 520, 700), BODY)  # <sup>: a raised mark
    doc.save(path)
    return path


def _as_an_old_reader_read(path: Path) -> list[NewSegment]:
    """The segments with the raised mark glued to its word, as the reader before 1 did."""
    old = []
    for s in segment_pages(read_document(path).pages()):
        text = s.text.replace("optional^1", "optional1")
        old.append(dataclasses.replace(s, text=text, hash=hashlib.sha1(text.encode()).hexdigest()))
    return old


def test_adding_the_file_again_reads_it_again_in_place(tmp_path: Path) -> None:
    pdf = _pdf(tmp_path / "notes.pdf")
    with Store(tmp_path / "library.db") as store:
        first = add_path(store, pdf)
        assert first.created and first.document.reader == READER_VERSION
        doc = first.document
        chat = store.new_chat("notes", [doc.id])
        # The library as an older ctxchat left it, every sentence embedded.
        store.replace_segments(
            doc.id, path=doc.path, segments=_as_an_old_reader_read(pdf), reader=0
        )
        old_segments = store.segments(doc.id)
        store.put_embeddings("m", {s.hash: [0.5] * 4 for s in old_segments})
        assert store.bm25([doc.id], "optional") == {}  # "optional1" hides the word

        again = add_path(store, pdf)

        assert again.reread and not again.created
        assert again.document.id == doc.id and again.document.reader == READER_VERSION
        texts = [s.text for s in store.segments(doc.id)]
        assert any("optional^1 for small packages" in t for t in texts)
        assert len(store.bm25([doc.id], "optional")) == 1
        # Only the sentence read differently needs a new vector.
        missing = store.missing_embeddings(doc.id, "m")
        assert [s.text for s in missing] == [t for t in texts if "optional" in t]
        assert len(old_segments) > len(missing) == 1
        assert store.chat(chat).doc_ids == [doc.id]

        third = add_path(store, pdf)  # now current: nothing is read again
        assert not third.reread and not third.created


def test_pasted_text_cut_by_an_older_segmenter_is_cut_again(tmp_path: Path) -> None:
    text = "First sentence about rivers. Second sentence about bridges."
    with Store(tmp_path / "library.db") as store:
        doc = add_text(store, text)
        stale = [NewSegment(page=None, paragraph=0, text=text, tokens=12, hash="whole")]
        store.replace_segments(doc.id, path="", segments=stale, reader=0)
        assert len(store.segments(doc.id)) == 1

        again = add_text(store, text)

        assert again.id == doc.id and again.reader == READER_VERSION
        assert [s.text for s in store.segments(doc.id)] == [
            "First sentence about rivers.",
            "Second sentence about bridges.",
        ]
