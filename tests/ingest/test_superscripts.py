"""Raised digits (footnote markers, citations, exponents) are not glued to the word before:
"not1" would hide "not" from search and mislead a reader; they read "not^1", "10^5"."""

from __future__ import annotations

from pathlib import Path

import pymupdf

from ctxchat.engines.ingest.library import add_path
from ctxchat.engines.ingest.readers import read_document
from ctxchat.engines.select.selector import select
from ctxchat.engines.store.db import Store

BODY = (
    "<p>Registering native routines is optional<sup>1</sup> for small packages, and 10<sup>5</sup>"
    " cells grew in all<sup>12,13</sup> flasks. The L<sup>A</sup>TeX logo keeps its letter.</p>"
) + "<p>Filler about the weather in the valley, repeated for length.</p>" * 3


def _pdf(path: Path) -> Path:
    doc = pymupdf.open()
    page = doc.new_page()
    # HTML <sup> is set smaller and raised: PyMuPDF flags those spans as superscript.
    page.insert_htmlbox(pymupdf.Rect(72, 72, 520, 700), BODY)
    doc.save(path)
    return path


def test_raised_digits_read_as_marks_not_glued(tmp_path: Path) -> None:
    text = "\n".join(p.text for p in read_document(_pdf(tmp_path / "notes.pdf")).pages())
    flat = " ".join(text.split())
    assert "optional^1 for small packages" in flat
    assert "10^5 cells" in flat and "all^12,13" in flat
    assert "LATeX" in flat  # a raised letter is not a number: left as it is
    assert "optional1" not in flat and "105 cells" not in flat


def test_a_word_before_a_footnote_marker_is_found(tmp_path: Path) -> None:
    with Store(tmp_path / "library.db") as store:
        doc = add_path(store, _pdf(tmp_path / "notes.pdf")).document
        hits = store.bm25([doc.id], "optional")  # glued as "optional1", it was not found
        found = select(store, [doc.id], "which step is optional for small packages?", budget=40)
    assert len(hits) == 1
    assert "optional^1 for small packages" in " ".join(found.text.split())


def test_a_footnote_keeps_its_label_apart_from_its_text(tmp_path: Path) -> None:
    """LaTeX raises a footnote's number by hand (no superscript flag) and the text layer
    glued it to the note's first word: "2The binary indexed tree was presented ..."."""
    path = tmp_path / "book.pdf"
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 100), "The structure answers range sums quickly.", fontsize=10)
    page.insert_text((72, 753), "2", fontsize=7)
    page.insert_text((75.5, 757), "The structure was presented by P. M. Fenwick.", fontsize=9.3)
    doc.save(path)
    text = " ".join(p.text for p in read_document(path).pages())
    assert "^2 The structure was presented by P. M. Fenwick." in text
    assert "2The" not in text
