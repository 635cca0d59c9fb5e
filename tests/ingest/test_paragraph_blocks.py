"""A paragraph that MuPDF reads as several blocks is one paragraph again: a thesis set at
double spacing (every line a block of its own), a word hyphenated across a column or a
page break. Paragraphs, list items and contents entries set one under another stay apart."""

from __future__ import annotations

import pymupdf

from ctxchat.engines.ingest.layout import join_hyphenated
from ctxchat.engines.ingest.readers import read_document
from ctxchat.engines.ingest.segment import segment_pages

WIDTH = 62  # characters per line, in Courier: every full line is as wide as the others
FIRST = (
    "The survey covered four hundred households in the northern valley over two winters. "
    "Each household kept a diary of the fuel it burned, and the diaries were collected "
    "every month by the same two field workers, who also weighed the stored wood."
)
SECOND = (
    "Households that heated with peat burned less in the second winter than in the first, "
    "while those with wood stoves burned more, because the second winter was colder."
)


def _justified(text: str, width: int = WIDTH) -> list[str]:
    """Lines of exactly `width` characters (spaces added between words), the last as is."""
    lines, line = [], []
    for word in text.split():
        if line and len(" ".join([*line, word])) > width:
            lines.append(line)
            line = []
        line.append(word)
    out = []
    for words in lines:
        gaps, spare = len(words) - 1, width - len("".join(words))
        parts = [w + " " * (spare // gaps + (k < spare % gaps)) for k, w in enumerate(words[:-1])]
        out.append("".join(parts) + words[-1])
    return [*out, " ".join(line)]


def _write_lines(
    page: pymupdf.Page, lines: list[tuple[float, str]], y: float, pitch: float
) -> float:
    for x, line in lines:
        page.insert_text((x, y), line, fontname="cour", fontsize=10)
        y += pitch
    return y


def _sentences(path) -> list[tuple[int, str]]:
    return [(s.paragraph, s.text) for s in segment_pages(read_document(path).pages())]


def test_a_double_spaced_paragraph_reads_as_one(tmp_path):
    path = tmp_path / "thesis.pdf"
    doc = pymupdf.open()
    page = doc.new_page()
    y = _write_lines(page, [(72, ln) for ln in _justified(FIRST)], 100, 24)
    second = _justified(SECOND)
    # The next paragraph is marked by its indent alone, as a double-spaced thesis does.
    _write_lines(page, [(90, second[0]), *((72, ln) for ln in second[1:])], y, 24)
    doc.save(path)
    info = pymupdf.open(path)[0].get_text("dict")
    assert len([b for b in info["blocks"] if b.get("lines")]) > 4  # MuPDF: a block a line

    sentences = _sentences(path)
    texts = [t for _, t in sentences]
    assert "Each household kept a diary of the fuel it burned, and the diaries" in " ".join(texts)
    assert any(
        t.startswith("Each household kept a diary") and t.endswith("stored wood.") for t in texts
    )
    assert any(t.startswith("Households that heated") and t.endswith("was colder.") for t in texts)
    paragraphs = {p for p, t in sentences}
    assert len(paragraphs) == 2  # the indent still starts a paragraph


def test_paragraphs_a_gap_apart_list_items_and_contents_stay_apart(tmp_path):
    path = tmp_path / "spaced.pdf"
    doc = pymupdf.open()
    page = doc.new_page()
    first = _justified(FIRST)[:2]  # two full lines: the first paragraph ends on a full line
    y = _write_lines(page, [(72, ln) for ln in first], 100, 12)
    y = _write_lines(page, [(72, ln) for ln in _justified(SECOND)], y + 8, 12)  # a parskip
    items = [
        "* Households that heated with peat burned less in the second one.",
        "* Households that heated with wood burned more in the second one.",
    ]
    y = _write_lines(page, [(72, ln) for ln in items], y + 30, 24)
    contents = ["1 Introduction . . . . . . . . . . . . . . . . . . . . . . . . 3"] * 2
    _write_lines(page, [(72, ln) for ln in contents], y + 30, 24)
    doc.save(path)

    text = next(iter(read_document(path).pages())).text
    parts = [" ".join(p.split()) for p in text.split("\n\n")]
    assert any(p.startswith("Households that heated with peat burned less in the") for p in parts)
    assert sum(p.startswith("* Households") for p in parts) == 2
    assert sum(p.startswith("1 Introduction") for p in parts) == 2


def _two_columns(path) -> None:
    doc = pymupdf.open()
    page = doc.new_page()
    left = ["We selected the reference model as the", "first model to compare, the base-"]
    right = ["line model of every table below.", "It was trained on the full data."]
    _write_lines(page, [(50, ln) for ln in left], 500, 12)
    _write_lines(page, [(320, ln) for ln in right], 100, 12)
    doc.save(path)


def test_a_word_hyphenated_across_a_column_break_is_whole(tmp_path):
    path = tmp_path / "columns.pdf"
    _two_columns(path)
    texts = [t for _, t in _sentences(path)]
    assert "first model to compare, the baseline model of every table below." in " ".join(texts)
    assert not any(t.endswith("base-") for t in texts)


def test_a_word_hyphenated_across_a_page_break_is_whole(tmp_path):
    path = tmp_path / "pages.pdf"
    doc = pymupdf.open()
    doc.new_page().insert_text((72, 700), "POPE tests three sampling strategies across diffi-")
    doc.new_page().insert_text((72, 80), "culty levels, from random to adversarial.")
    doc.save(path)
    texts = [t for _, t in _sentences(path)]
    assert (
        "POPE tests three sampling strategies across difficulty levels, from random to "
        "adversarial." in texts
    )


def test_compounds_keep_their_hyphen():
    assert join_hyphenated("the infor-", "mation age") == "the information age"
    assert join_hyphenated("the 15th-", "largest city") == "the 15th-largest city"
    assert join_hyphenated("two bat SARS-", "like viruses") == "two bat SARS-like viruses"
    assert join_hyphenated("the Anglo-", "Saxon kings") == "the Anglo-Saxon kings"
    assert join_hyphenated("an ending.", "next line") is None


def _ragged(text: str, width: float, size: float = 12) -> list[str]:
    """Lines of Helvetica no wider than `width` points, broken as a word processor does."""
    lines, line = [], ""
    for word in text.split():
        candidate = f"{line} {word}".strip()
        if line and pymupdf.get_text_length(candidate, fontsize=size) > width:
            lines.append(line)
            candidate = word
        line = candidate
    return [*lines, line]


def test_a_ragged_right_report_with_tab_indents_reads_as_paragraphs(tmp_path):
    """A Word report: left-aligned lines end anywhere, each paragraph opens with a tab
    (36 points), lines 1.7 times the type size apart."""
    path = tmp_path / "report.pdf"
    doc = pymupdf.open()
    page = doc.new_page()
    y = 100.0
    for text in (FIRST, SECOND):
        lines = _ragged(text, 430)
        for k, line in enumerate(lines):
            page.insert_text((108 if k == 0 else 72, y), line, fontsize=12)
            y += 20.7
    doc.save(path)
    sentences = _sentences(path)
    texts = [t for _, t in sentences]
    assert any(t.startswith("Each household kept") and t.endswith("stored wood.") for t in texts)
    assert any(t.startswith("Households that heated") and t.endswith("was colder.") for t in texts)
    assert len({p for p, _ in sentences}) == 2


def test_a_list_item_wrapped_under_its_text_is_one_item(tmp_path):
    path = tmp_path / "items.pdf"
    doc = pymupdf.open()
    page = doc.new_page()
    rows = [
        (90, "\u2022 Implement a responsive design for all of the devices we support (desktops,"),
        (101, "tablets and phones)."),
        (90, "\u2022 Restrict access to the data to the people who need it."),
    ]
    for k, (x, line) in enumerate(rows):
        page.insert_text((x, 100 + 20 * k), line, fontsize=11)
    doc.save(path)
    parts = [
        " ".join(p.split()) for p in next(iter(read_document(path).pages())).text.split("\n\n")
    ]
    assert "(desktops, tablets and phones)." in parts[0]
    assert parts[1][2:].startswith("Restrict access")  # the font sets the bullet as "·"


def test_a_described_term_and_its_hanging_lines_are_one_paragraph(tmp_path):
    """A book's description list: the term and the first line of its text, then the text's
    other lines hanging under it ("O(1) The running time ... does not depend on the" /
    "input size."); the next term starts its own paragraph."""
    path = tmp_path / "terms.pdf"
    doc = pymupdf.open()
    page = doc.new_page()
    rows = [
        (93, "O(1) The running time of a constant-time algorithm does not depend on the"),
        (123, "input size. A typical constant-time algorithm is a direct formula that"),
        (123, "calculates the answer."),
        (93, "O(log n) A logarithmic algorithm often halves the input size at each step."),
    ]
    for k, (x, line) in enumerate(rows):
        page.insert_text((x, 100 + 14.5 * k), line, fontsize=11)
    doc.save(path)
    info = pymupdf.open(path)[0].get_text("dict")
    assert len([b for b in info["blocks"] if b.get("lines")]) >= 2
    texts = [t for _, t in _sentences(path)]
    assert (
        "O(1) The running time of a constant-time algorithm does not depend on the input size."
        in texts
    )
    assert any(t.startswith("O(log n) A logarithmic") for t in texts)


def test_a_word_second_level_bullet_is_a_bullet_and_a_portuguese_o_a_word(tmp_path):
    """Word sets a second-level bullet as "o" in Courier New before text in another font."""
    path = tmp_path / "word.pdf"
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((90, 100), "o", fontname="cour", fontsize=11)
    page.insert_text((108, 100), "Implement strong encryption for the data we keep.", fontsize=11)
    page.insert_text(
        (72, 140), "o livro foi escrito em Lisboa e publicado em Coimbra.", fontsize=11
    )
    doc.save(path)
    parts = [
        " ".join(p.split()) for p in next(iter(read_document(path).pages())).text.split("\n\n")
    ]
    assert "\u25e6 Implement strong encryption for the data we keep." in parts
    assert "o livro foi escrito em Lisboa e publicado em Coimbra." in parts
