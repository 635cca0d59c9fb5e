"""Paragraphs, sentences, headings and the compressor-window limit."""

from __future__ import annotations

import hashlib

import pytest

from ctxchat.engines.ingest.readers import Page
from ctxchat.engines.ingest.segment import (
    SPECIAL_TOKENS_MARGIN,
    compressor_tokens,
    fit_to_window,
    segment_pages,
    split_sentences,
)
from ctxchat.engines.tokens import count_tokens


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Dr. Smith arrived at 9 a.m. on Monday. He brought e.g. maps and tools. It rained.",
            [
                "Dr. Smith arrived at 9 a.m. on Monday.",
                "He brought e.g. maps and tools.",
                "It rained.",
            ],
        ),
        (
            "The value is 3.14 exactly. J. R. R. Tolkien wrote it! Did he? Yes.",
            ["The value is 3.14 exactly.", "J. R. R. Tolkien wrote it!", "Did he?", "Yes."],
        ),
        (
            'See Fig. 3 and Eq. 2 in Smith et al. (2020). "Quoted end." Next one.',
            ["See Fig. 3 and Eq. 2 in Smith et al. (2020).", '"Quoted end."', "Next one."],
        ),
        (
            "It costs approx. five dollars. So did I. Then we left.",
            ["It costs approx. five dollars.", "So did I.", "Then we left."],
        ),
        (
            "Wait... What happened? (Nobody knew.) The end",
            ["Wait...", "What happened?", "(Nobody knew.)", "The end"],
        ),
        ("今天天气很好。我们去公园！好吗？", ["今天天气很好。", "我们去公园！", "好吗？"]),
        (  # a list MuPDF merged into one block: each bullet opens a sentence
            "Default: process.cwd(). ○ env <Object> Key-value pairs. ◦ Next item here.",
            ["Default: process.cwd().", "○ env <Object> Key-value pairs.", "◦ Next item here."],
        ),
        ("no punctuation at all", ["no punctuation at all"]),
        ("", []),
    ],
)
def test_split_sentences(text, expected):
    got = split_sentences(text)
    assert got == expected
    # Exact substrings, in order.
    pos = 0
    for sentence in got:
        pos = text.index(sentence, pos) + len(sentence)


def _long_sentence(words: int) -> str:
    parts = [f"clause number {i} talks about reconstruction of storehouses" for i in range(words)]
    return "However, " + ", ".join(parts) + "."


def test_long_sentences_are_split_at_clauses_within_the_window():
    sentence = _long_sentence(120)  # ~1,100 WordPiece tokens
    assert compressor_tokens(sentence) > 1000
    limit = 512 - SPECIAL_TOKENS_MARGIN
    pieces = fit_to_window(sentence, limit)
    assert len(pieces) >= 3
    assert all(compressor_tokens(p) <= limit for p in pieces)
    # Cut after commas, nothing lost or reordered.
    assert all(p.endswith((",", ".")) for p in pieces)
    assert " ".join(pieces) == sentence


def test_sentence_without_punctuation_is_split_between_words():
    sentence = " ".join(f"word{i % 37}x" for i in range(900))
    pieces = fit_to_window(sentence, 100)
    assert all(compressor_tokens(p) <= 100 for p in pieces)
    assert " ".join(pieces) == sentence


def test_segment_pages_records_page_paragraph_tokens_hash():
    pages = [
        Page(1, "First paragraph here. It has two sentences.\n\nSecond paragraph."),
        Page(2, ""),
        Page(3, "Third paragraph on page three."),
    ]
    segs = list(segment_pages(pages))
    assert [(s.page, s.paragraph, s.text) for s in segs] == [
        (1, 0, "First paragraph here."),
        (1, 0, "It has two sentences."),
        (1, 1, "Second paragraph."),
        (3, 2, "Third paragraph on page three."),
    ]
    for s in segs:
        assert s.tokens == count_tokens(s.text)
        assert s.hash == hashlib.sha1(s.text.encode()).hexdigest()


def test_lines_inside_a_paragraph_are_joined_with_spaces():
    segs = list(segment_pages([Page(1, "A sentence that\nwraps over   two lines. Next.")]))
    assert [s.text for s in segs] == ["A sentence that wraps over two lines.", "Next."]


def test_markdown_headings_and_lists():
    text = (
        "# Setup guide\n\nIntro text.\n\n## Install\nRun the installer. Then reboot.\n"
        "- first item without a stop\n- second item\n\n## Use\nOpen the app."
    )
    segs = list(segment_pages([Page(1, text)]))
    assert [(s.text, s.heading) for s in segs] == [
        ("# Setup guide", "Setup guide"),
        ("Intro text.", "Setup guide"),
        ("## Install", "Install"),
        ("Run the installer.", "Install"),
        ("Then reboot.", "Install"),
        ("- first item without a stop", "Install"),
        ("- second item", "Install"),
        ("## Use", "Use"),
        ("Open the app.", "Use"),
    ]
    # Every heading, list item and paragraph is its own paragraph.
    assert len({s.paragraph for s in segs}) == 8


def test_pdf_style_headings_are_recognised():
    text = "2.1 Results\n\nThe yield rose. It fell later.\n\nABSTRACT\n\nWe study things."
    segs = list(segment_pages([Page(4, text)]))
    assert [s.heading for s in segs] == ["2.1 Results"] * 3 + ["ABSTRACT"] * 2
    # A normal short sentence is not a heading.
    segs = list(segment_pages([Page(1, "It works.\n\nFine")]))
    assert [s.heading for s in segs] == [None, None]
    # A title may end in initials or a question mark; a numbered sentence may not.
    text = "1.21 Laxey A.F.C.\n\nThey won.\n\n2. Then we left.\n\n3.4 Is It Over?\n\nNo."
    segs = list(segment_pages([Page(1, text)]))
    assert [s.heading for s in segs][:2] == ["1.21 Laxey A.F.C."] * 2
    assert [s.heading for s in segs][-1] == "3.4 Is It Over?"
    assert not any(s.heading == "2. Then we left." for s in segs)
    # A numbered step of a use case says what happens; a numbered title asks at most.
    text = "2. User will enter the issue\n\nIt is saved.\n\n2.1 What is R?\n\nA language."
    segs = list(segment_pages([Page(14, text)]))
    assert [s.heading for s in segs] == [None, None, "2.1 What is R?", "2.1 What is R?"]
    # A list's item in lower case is no title (the C++ Annotations: "1. read from the
    # stream" labelled a page's sentences); a section named for a function still is.
    text = "1. read from the stream\n\nThen test it.\n\n4.1 asn1_parser2tree\n\nIt parses."
    segs = list(segment_pages([Page(3, text)]))
    title = "4.1 asn1_parser2tree"
    assert [s.heading for s in segs] == [None, None, title, title]


def test_max_tokens_applies_to_segments():
    segs = list(segment_pages([Page(1, _long_sentence(30))], max_tokens=64))
    assert len(segs) > 3
    assert all(compressor_tokens(s.text) <= 64 - SPECIAL_TOKENS_MARGIN for s in segs)
    assert len({s.paragraph for s in segs}) == 1


def test_dot_leaders_and_stray_dots_do_not_make_empty_sentences():
    toc = "Introduction . . . . . . . . . . 1\n\n2.1 Syntax . . . . . . . . 4\n\nThe end . . . so it goes."
    segs = [s.text for s in segment_pages([Page(1, toc)])]
    assert segs == ["Introduction \u2026 1", "2.1 Syntax \u2026 4", "The end . . . so it goes."]


def test_section_numbers_stay_with_their_sentence():
    assert split_sentences("1.2. What is this spec? It is short.") == [
        "1.2. What is this spec?",
        "It is short.",
    ]
    segs = list(segment_pages([Page(1, "2.1\nSyntax rules\n\nThe rules follow.")]))
    assert [(s.text, s.heading) for s in segs] == [
        ("2.1 Syntax rules", "2.1 Syntax rules"),
        ("The rules follow.", "2.1 Syntax rules"),
    ]
    # A narrow column puts the number on a line and wraps the title over two more.
    text = "2.2\nPolling-based Object Probing\nEvaluation\n\nPOPE asks yes-no questions."
    segs = list(segment_pages([Page(1, text)]))
    assert [s.heading for s in segs] == ["2.2 Polling-based Object Probing Evaluation"] * 2
    # A numbered paragraph of three lines is no title.
    text = "12\nThe valley was settled by\nfarmers from the coast."
    assert [s.heading for s in segment_pages([Page(1, text)])] == [None]


def test_a_sentence_cut_by_a_page_break_is_one_segment_cited_by_its_first_page():
    pages = [
        Page(4, "Juxtapoz Art & Culture Magazine (pronounced Jucks-tah-pose)"),
        Page(5, "is a magazine created in 1994.\n\nIt sells well"),
        Page(6, "### 2 Sales\n\nsales rose. The end."),
    ]
    segs = list(segment_pages(pages))
    assert [(s.page, s.text) for s in segs] == [
        (
            4,
            "Juxtapoz Art & Culture Magazine (pronounced Jucks-tah-pose) is a magazine created in 1994.",
        ),
        (5, "It sells well"),  # a heading follows: nothing to join
        (6, "### 2 Sales"),
        (6, "sales rose."),
        (6, "The end."),
    ]
    # A page that ends its sentence is not joined to a lowercase start.
    segs = list(segment_pages([Page(1, "It ended."), Page(2, "iPhones sold.")]))
    assert [(s.page, s.text) for s in segs] == [(1, "It ended."), (2, "iPhones sold.")]


def test_a_page_that_stops_on_an_open_word_goes_on_to_a_capital():
    """'... east of the city of' / 'Missoula (3210 ft, 978 m).': a sentence cut before a
    name was two segments, and the half holding the answer read alone."""
    pages = [
        Page(86, "It enters the Clark Fork River east of the city of"),
        Page(87, "Missoula (3210 ft, 978 m).\n\nThe river is short."),
        Page(88, "It was named by settlers,"),
        Page(89, "Lewis and Clark among them."),
        Page(90, "It was named for Garden"),
        Page(91, "State National Bank."),
    ]
    segs = [(s.page, s.text) for s in segment_pages(pages)]
    assert (
        86,
        "It enters the Clark Fork River east of the city of Missoula (3210 ft, 978 m).",
    ) in segs
    assert (88, "It was named by settlers, Lewis and Clark among them.") in segs
    # A capitalised word ends a title or a name as often as it opens the next page's
    # paragraph: those stay apart.
    assert (90, "It was named for Garden") in segs and (91, "State National Bank.") in segs
    # A figure set at the top of the next page is not the rest of the sentence: the text
    # after its caption is.
    pages = [
        Page(4, "The rainfall is shown in the"),
        Page(5, "Figure 3: Rainfall.\n\nfigure below."),
    ]
    segs = [(s.page, s.text) for s in segment_pages(pages)]
    assert segs == [(4, "The rainfall is shown in the figure below."), (5, "Figure 3: Rainfall.")]


def test_an_all_capitals_line_of_code_is_no_heading():
    """Manuals set Makefile lines and constants in capitals: "PKG_LIBS = $(SHLIB_...)" read
    as a title relabelled every sentence after it (Writing R Extensions, p. 38)."""
    text = (
        "1.2 OpenMP support\n\nPut these lines in src/Makevars.\n\n"
        "PKG_CFLAGS = $(SHLIB_OPENMP_CFLAGS)\n\nThe C compiler links the code.\n\n"
        "IF( V1( 1 ).NE.ZERO ) THEN\n\nMATERIALS AND METHODS\n\nWe used R."
    )
    segs = list(segment_pages([Page(38, text)]))
    by_text = {s.text: s.heading for s in segs}
    assert by_text["The C compiler links the code."] == "1.2 OpenMP support"
    assert by_text["We used R."] == "MATERIALS AND METHODS"
