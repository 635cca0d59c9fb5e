"""A sentence that a figure or a table interrupts is one sentence again: LaTeX sets floats
at the top of a page, Word lets a figure split a paragraph, and the halves ("we generate
binary questions" / Table 1 / "based on the presence of the objects.") read alone."""

from __future__ import annotations

import pymupdf

from ctxchat.engines.ingest.readers import Page, read_document
from ctxchat.engines.ingest.segment import segment_pages

ROWS = "| Decoding | Accuracy |\n|---|---|\n| Regular | 83.29 |\n| Contrastive | 87.73 |"


def _texts(pages: list[Page]) -> list[tuple[int, str]]:
    return [(s.page, s.text) for s in segment_pages(pages)]


def test_a_table_at_the_top_of_the_next_page_comes_after_the_whole_sentence() -> None:
    pages = [
        Page(2, "For each image we generate binary questions"),
        Page(3, f"{ROWS}\n\nTable 1: Results on the benchmark.\n\nbased on the objects. Next."),
    ]
    texts = _texts(pages)
    assert texts[0] == (2, "For each image we generate binary questions based on the objects.")
    # The rest of the paragraph goes with its sentence, cited by its own page.
    assert texts[1] == (3, "Next.")
    assert (3, "Table 1: Results on the benchmark.") in texts
    assert (3, "| Decoding: Regular | Accuracy: 83.29 |") in texts


def test_sentences_after_a_page_break_are_cited_by_their_own_page() -> None:
    """A paragraph that goes on over a page break: its first sentence there was joined to
    the one the break cut and every later one was cited a page early."""
    pages = [
        Page(4, "The club was founded in the"),
        Page(5, "spring of 1994. It grew fast. It moved in 1999,"),
        Page(6, "when the hall burned. Its new home opened."),
    ]
    assert _texts(pages) == [
        (4, "The club was founded in the spring of 1994."),
        (5, "It grew fast."),
        (5, "It moved in 1999, when the hall burned."),
        (6, "Its new home opened."),
    ]
    # The paragraph after the joined one is on the page the joined one ends on: no page
    # break comes between them, and a comma ends no sentence there.
    pages = [
        Page(2, "The rate was found with the"),
        Page(3, "equation,\n\nWhere H is the enthalpy."),
    ]
    assert _texts(pages) == [
        (2, "The rate was found with the equation,"),
        (3, "Where H is the enthalpy."),
    ]


def test_a_sentence_is_not_looked_for_past_a_page_of_floats() -> None:
    pages = [
        Page(10, "The script was consistent with the given"),
        Page(11, f"{ROWS}\n\nTable 2: Statistics of benchmarks."),
        Page(12, "examples and ran on the datasets."),
    ]
    texts = _texts(pages)
    assert (10, "The script was consistent with the given") in texts
    assert (12, "examples and ran on the datasets.") in texts


def test_text_without_pages_reads_as_before() -> None:
    """Plain text, Markdown and stdin have no pages: a line without a stop before the next
    paragraph (a title, a contents entry) is looked at without one."""
    text = "Static array queries … 84\n\nA tree answers sums.\n\nFigure 1: A tree\n\nthe end."
    assert [t for _, t in _texts([Page(None, text)])] == [
        "Static array queries … 84",
        "A tree answers sums.",
        "Figure 1: A tree",
        "the end.",
    ]


def test_a_figure_within_a_page_splits_no_sentence() -> None:
    text = (
        "This flow chart describes the process\n\nFigure 10: Process flow diagram\n\n"
        "followed to reach the results."
    )
    assert _texts([Page(26, text)]) == [
        (26, "This flow chart describes the process followed to reach the results."),
        (26, "Figure 10: Process flow diagram"),
    ]


def test_what_a_figure_says_is_not_prose() -> None:
    # A label inside the figure, above its caption, is not the start of the next sentence.
    text = "Input image\n\nFigure 2: The model.\n\nthe encoder reads it first."
    assert _texts([Page(1, text)]) == [
        (1, "Input image"),
        (1, "Figure 2: The model."),
        (1, "the encoder reads it first."),
    ]
    # Within a page, text that runs straight on is the paragraph reader's business.
    assert len(_texts([Page(1, "It was built in the\n\nyear after the war.")])) == 2


def test_a_display_inside_a_sentence_stays_where_it_stands() -> None:
    """A matrix or an array set as a table inside a sentence has no caption: it is part of
    the sentence, read in its place ("the graph" / the list / "can be stored as follows:")."""
    text = f"For example, the graph\n\n{ROWS}\n\ncan be stored as follows:"
    texts = [t for _, t in _texts([Page(124, text)])]
    assert texts[0] == "For example, the graph" and texts[-1] == "can be stored as follows:"


def test_a_sentence_about_a_figure_is_no_caption() -> None:
    pages = [
        Page(11, "Figure 10 represents the flow chart of the methods"),
        Page(12, "Figure 5: Adverse effects\n\ninclude evacuating people."),
    ]
    assert _texts(pages)[0] == (
        11,
        "Figure 10 represents the flow chart of the methods include evacuating people.",
    )
    # A caption without a stop at the foot of a page leads into nothing.
    pages = [Page(9, "It ended.\n\nFigure 1: Landslide"), Page(10, "early detection matters.")]
    assert _texts(pages) == [
        (9, "It ended."),
        (9, "Figure 1: Landslide"),
        (10, "early detection matters."),
    ]


def test_a_pdf_whose_figure_interrupts_a_sentence_reads_it_whole(tmp_path) -> None:
    path = tmp_path / "paper.pdf"
    doc = pymupdf.open()
    first = doc.new_page()
    first.insert_text((72, 100), "The survey covered four hundred households.", fontsize=11)
    first.insert_text((72, 140), "To check the diaries, the field workers weighed", fontsize=11)
    second = doc.new_page()
    second.draw_rect(pymupdf.Rect(72, 72, 400, 200))  # the figure itself: no text
    second.insert_text((72, 220), "Figure 1: Stored wood by month.", fontsize=9)
    second.insert_text((72, 270), "the stored wood every month.", fontsize=11)
    second.insert_text((72, 290), "Peat burned less in the second winter.", fontsize=11)
    doc.save(path)
    texts = [(s.page, s.text) for s in segment_pages(read_document(path).pages())]
    assert (
        1,
        "To check the diaries, the field workers weighed the stored wood every month.",
    ) in texts
    assert (2, "Figure 1: Stored wood by month.") in texts


def test_a_footnote_at_the_foot_of_a_page_splits_no_sentence() -> None:
    """The Competitive Programmer's Handbook: "... sorted primarily by the" / "^2 Note that
    in some older compilers ..." / (next page) "x coordinate and secondarily by the y
    coordinate." read as three pieces; now the sentence is whole and the note follows its paragraph."""
    pages = [
        Page(40, "The points are sorted primarily by the\n\n^2 Note that older compilers differ."),
        Page(41, "x coordinate and secondarily by the y coordinate. Then they are printed."),
    ]
    assert _texts(pages) == [
        (
            40,
            "The points are sorted primarily by the x coordinate and secondarily by the y coordinate.",
        ),
        (41, "Then they are printed."),
        (40, "^2 Note that older compilers differ."),
    ]
