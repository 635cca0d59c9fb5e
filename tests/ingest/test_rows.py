"""Lines that share a row are read left to right: a definition list's term before its
description (set a point lower, as Texinfo manuals do), a code line before its comment."""

from __future__ import annotations

import pymupdf

from ctxchat.engines.ingest.layout import rows_in_order
from ctxchat.engines.ingest.readers import read_document
from ctxchat.engines.ingest.segment import segment_pages

LISTS = [
    (
        "announce",
        [
            "A moderated list for major announcements about the development of the",
            "program and the availability of new code.",
        ],
    ),
    (
        "help",
        [
            "The main mailing list, for discussion about problems and solutions encoun-",
            "tered using the program, including its packages and its documentation.",
        ],
    ),
    (
        "devel",
        [
            "This list is for questions and discussion about code development in the",
            "program itself.",
        ],
    ),
]


def _definition_list(path) -> None:
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 100), "There are several mailing lists, including the following:")
    y = 130.0
    for term, description in LISTS:
        page.insert_text((72, y + 1), term, fontname="cour")  # a point below the text
        for k, line in enumerate(description):
            page.insert_text((130, y + 13 * k), line)
        y += 36
    doc.save(path)


def test_a_term_is_read_before_its_description_and_a_split_word_is_whole(tmp_path):
    path = tmp_path / "lists.pdf"
    _definition_list(path)
    text = next(iter(read_document(path).pages())).text
    flat = " ".join(text.split())
    assert "help The main mailing list" in flat
    assert "solutions encountered using the program" in flat
    assert "announce A moderated list" in flat and "devel This list" in flat
    sentences = [s.text for s in segment_pages(read_document(path).pages())]
    assert not any("encoun" in s and "encountered" not in s for s in sentences)


def test_lines_overlapping_most_of_their_height_are_one_row():
    comment = (200.0, 100.5, 320.0, 110.5, "# minor safety move", 1)
    code = (72.0, 100.0, 180.0, 110.0, "blocks <- as.factor(blocks)", 1)
    below = (72.0, 113.0, 180.0, 123.0, "b <- length(levels(blocks))", 1)
    assert [ln[4] for ln in rows_in_order([below, comment, code])] == [
        "blocks <- as.factor(blocks)",
        "# minor safety move",
        "b <- length(levels(blocks))",
    ]


def test_a_tall_mark_half_over_the_next_line_is_no_row_with_it():
    # A stacked vowel sign set as a line of its own, twice the text's height.
    mark = (300.0, 95.0, 306.0, 115.0, "\u1031", 1)
    text = (72.0, 105.0, 500.0, 115.0, "the next line of the paragraph", 1)
    assert [ln[4] for ln in rows_in_order([text, mark])] == [mark[4], text[4]]
