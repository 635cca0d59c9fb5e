"""Real-world structure survives ingest: tables as self-contained rows, headings as sections
in citations, scanned pages read by Tesseract OCR (mixed PDFs keep both), and every odd PDF
(image-only, poster-sized, scanned without Tesseract) ingests or is refused in one line."""

from __future__ import annotations

import re

import pytest

from ctxchat.engines.answer.prompt import parse_citations
from ctxchat.engines.errors import IngestError
from ctxchat.engines.ingest import ocr
from ctxchat.engines.ingest.library import add_path
from ctxchat.engines.ingest.readers import read_document
from ctxchat.engines.ingest.segment import segment_pages
from ctxchat.engines.ingest.tables import table_rows
from ctxchat.engines.select.selector import select
from ctxchat.engines.store.db import Store
from devkit import docgen, reportgen

needs_tesseract = pytest.mark.skipif(
    ocr.tessdata_dir() is None, reason="Tesseract OCR is not installed (.ci/run installs it)"
)


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def _recall(truth: str, found: str) -> float:
    have: dict[str, int] = {}
    for w in _words(found):
        have[w] = have.get(w, 0) + 1
    hit = 0
    for w in _words(truth):
        if have.get(w, 0) > 0:
            have[w] -= 1
            hit += 1
    return hit / max(1, len(_words(truth)))


@pytest.fixture()
def store():
    with Store() as s:
        yield s


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    path = tmp_path_factory.mktemp("docs") / "tables.pdf"
    # 12 pages: at 2% of a shorter report no row (with its page marker) fits the budget.
    return reportgen.table_report(path, 12, styles=("grid", "rules", "plain"))


# -- tables ------------------------------------------------------------------------------


def test_each_table_style_becomes_a_markdown_table_on_its_page(report):
    pages = list(read_document(report.path).pages())
    for n, blocks in enumerate(report.pages, start=1):
        table = next(b for b in blocks if isinstance(b, reportgen.Table))
        text = pages[n - 1].text
        assert "| " + " | ".join(table.header) + " |" in text, (table.style, text)
        for row in table.rows:
            assert "| " + " | ".join(row) + " |" in text, (table.style, row)
        assert "Regional Statistics Review" not in text and "Page " not in text


def test_table_rows_are_segments_that_read_alone(report):
    segments = list(segment_pages(read_document(report.path).pages()))
    for cell in report.cells:
        rows = [s for s in segments if s.text.count("|") > 2 and cell.answer in s.text]
        assert len(rows) == 1, cell
        row = rows[0]
        assert (row.page, row.heading) == (cell.page, cell.section)
        assert f"{cell.column}: {cell.answer}" in row.text and cell.row in row.text
        assert row.text.startswith(f"Table {cell.page}: ")


def test_selector_picks_the_row_with_its_header_at_a_two_percent_budget(report, store):
    doc = add_path(store, report.path).document
    budget = max(1, int(0.02 * doc.tokens))
    for cell in report.cells:
        text = select(store, [doc.id], cell.question, budget).text
        line = next(ln for ln in text.split("\n") if cell.answer in ln)
        assert cell.row in line and cell.column in line
        # Below 400 tokens a marker names the section without its numbering ("3 Rain" -> "Rain").
        title = re.sub(r"^\d+(?:\.\d+)*\.?\s+", "", cell.section)
        assert f"[p. {cell.page}, {title}]" in text


def test_markdown_tables_in_notes_get_the_same_rows():
    rows = table_rows("| Item | Price |\n|---|--:|\n| Tea | 3 |\n| Cake |  |", "Table 1: Menu")
    assert rows == ["Table 1: Menu: | Item: Tea | Price: 3 |", "Table 1: Menu: | Item: Cake |"]
    assert table_rows("| just a line with a pipe |") is None


def test_a_table_whose_first_row_is_data_names_no_columns_by_it():
    """gnuplot's key bindings: the column names sit above the table as text, so its first
    row is data; named by it, rows read "^E: ^H | move to the end of the line.: delete ..."."""
    keys = (
        "| ^E | move to the end of the line. |\n|---|---|\n| ^H | delete the previous character. |"
    )
    assert table_rows(keys) == [
        "| ^E | move to the end of the line. |",
        "| ^H | delete the previous character. |",
    ]
    # Short names, "No." among them, still name the columns.
    assert table_rows("| No. | Station |\n|---|---|\n| 4 | Glenrock |") == [
        "| No.: 4 | Station: Glenrock |"
    ]


def test_running_text_in_two_columns_is_no_table(tmp_path):
    pages, facts = docgen.long_document(3, facts_every=1, paragraphs_per_page=8)
    docgen.write_pdf(tmp_path / "two.pdf", pages, columns=2, hyphenate=True)
    text = " ".join(p.text for p in read_document(tmp_path / "two.pdf").pages())
    assert "|" not in text
    assert all(f.sentence in re.sub(r"\s+", " ", text) for f in facts)


# -- headings ----------------------------------------------------------------------------


def test_headings_by_type_size_are_sections_and_citations(tmp_path):
    path = reportgen.write_report(
        tmp_path / "paper.pdf",
        [
            [
                reportgen.Heading("A Survey of Harbours", 1),
                reportgen.Heading("3.2 Results", 2),
                reportgen.Paragraph("The ferry to Mava leaves at nine every morning."),
                reportgen.Heading("Discussion", 3),
                reportgen.Paragraph("Nobody expected the ferry to be this punctual."),
                reportgen.Footnote("1 Timetable of the spring season."),
            ]
        ],
        header=None,
        footer=None,
    )
    text = next(read_document(path).pages()).text
    assert text.startswith("# A Survey of Harbours\n\n## 3.2 Results\n\n")
    assert "### Discussion" in text
    segs = list(segment_pages(read_document(path).pages()))
    ferry = next(s for s in segs if "leaves at nine" in s.text)
    assert ferry.heading == "3.2 Results"
    assert next(s for s in segs if "punctual" in s.text).heading == "Discussion"
    assert text.rstrip().endswith("1 Timetable of the spring season.")  # the footnote stays


def test_titles_ending_in_initials_or_a_question_are_headings_bold_sentences_are_not(tmp_path):
    titles = ["1.28 Sheffield Wednesday L.F.C.", "42.23 Donald Trump Jr.", "26.27 Just Like Us!"]
    blocks: list[reportgen.Heading | reportgen.Paragraph] = []
    for title in titles:
        blocks += [
            reportgen.Heading(title, 3),
            reportgen.Paragraph(f"The club of {title.split(' ', 1)[1]} won."),
        ]
    blocks.append(reportgen.Heading("This bold line is a sentence.", 3))
    blocks.append(reportgen.Paragraph("It says so plainly."))
    path = reportgen.write_report(tmp_path / "clubs.pdf", [blocks], header=None, footer=None)
    segs = list(segment_pages(read_document(path).pages()))
    assert [s.text for s in segs if s.text.startswith("###")] == [f"### {t}" for t in titles]
    assert next(s for s in segs if "Jr. won" in s.text).heading == "42.23 Donald Trump Jr."
    assert next(s for s in segs if "plainly" in s.text).heading == "26.27 Just Like Us!"


def test_a_numbered_title_set_large_may_end_in_a_full_stop(tmp_path):
    """GNU Coreutils titles a section "5.3 ‘split’: Split a file into pieces.": set large
    and numbered it is a title, and what follows is its section, not the one before."""
    blocks = [
        reportgen.Heading("5.2 Output the last part of files", 2),
        reportgen.Paragraph("The tail program prints the last ten lines of each file."),
        reportgen.Heading("5.3 Split a file into pieces.", 2),
        reportgen.Paragraph("The split program writes fixed-size pieces of its input."),
        reportgen.Heading("A bold sentence at body size ends here.", 3),
        reportgen.Paragraph("It stays a sentence of the split section."),
    ]
    path = reportgen.write_report(tmp_path / "manual.pdf", [blocks], header=None, footer=None)
    segs = list(segment_pages(read_document(path).pages()))
    assert next(s for s in segs if "fixed-size" in s.text).heading == (
        "5.3 Split a file into pieces."
    )
    assert next(s for s in segs if "stays a sentence" in s.text).heading == (
        "5.3 Split a file into pieces."
    )


def test_contents_entries_in_chapter_type_are_no_headings(tmp_path):
    """Texinfo sets a chapter's contents entry in the chapter's type: "5 Arrays and matrices
    . . . . 20" was a heading that named the contents pages after chapters."""
    blocks: list[reportgen.Heading | reportgen.Paragraph] = [reportgen.Heading("Contents", 1)]
    for entry in ["1 Introduction . . . . . . . . 1", "2 Arrays and matrices . . . . . 20"]:
        blocks.append(reportgen.Heading(entry, 2))
    blocks += [reportgen.Heading("1 Introduction", 1), reportgen.Paragraph("R is a language.")]
    path = reportgen.write_report(tmp_path / "manual.pdf", [blocks], header=None, footer=None)
    segs = list(segment_pages(read_document(path).pages()))
    headings = [s.text.lstrip("# ") for s in segs if s.text.startswith("#")]
    assert headings == ["Contents", "1 Introduction"]
    entry = next(s for s in segs if "Arrays" in s.text)
    assert entry.heading == "Contents" and entry.text.endswith("20")
    assert next(s for s in segs if "language" in s.text).heading == "1 Introduction"


def test_section_citations_parse_as_pages():
    assert parse_citations("See [p. 12, 3.2 Results] and [p. 3, 7].") == [12, 3, 7]
    assert parse_citations("[report.pdf, p. 5, Table 2: Rainfall]") == [5]


# -- scanned pages -----------------------------------------------------------------------


@needs_tesseract
def test_scanned_pages_are_read_by_ocr_and_mixed_pdfs_keep_both(tmp_path):
    _, facts = docgen.long_pdf(tmp_path / "text.pdf", 4, facts_every=1, hyphenate=False)
    truth = [p.text for p in read_document(tmp_path / "text.pdf").pages()]
    mixed = reportgen.scan_pdf(tmp_path / "text.pdf", tmp_path / "mixed.pdf", dpi=200, pages=[2])
    pages = list(read_document(mixed).pages())
    assert [p.ocr for p in pages] == [False, True, False, False]
    assert [pages[i].text for i in (0, 2, 3)] == [truth[i] for i in (0, 2, 3)]
    assert _recall(truth[1], pages[1].text) >= 0.95
    assert facts[1].answer in pages[1].text


@needs_tesseract
def test_a_question_about_a_scanned_page_survives_selection(tmp_path, store):
    _, facts = docgen.long_pdf(tmp_path / "text.pdf", 4, facts_every=1, hyphenate=False)
    scan = reportgen.scan_pdf(tmp_path / "text.pdf", tmp_path / "scan.pdf", dpi=200)
    seen = []
    result = add_path(store, scan, on_progress=lambda done, total: seen.append((done, total)))
    assert result.ocr_pages == 4 and seen == [(n, 4) for n in range(1, 5)]
    budget = max(1, int(0.02 * result.document.tokens))
    kept = [f.answer in select(store, [result.document.id], f.question, budget).text for f in facts]
    assert sum(kept) >= len(facts) - 1, kept


@needs_tesseract
def test_image_only_pdf_is_refused_in_one_line_and_leaves_nothing(tmp_path, store):
    path = docgen.scanned_pdf(tmp_path / "photo.pdf")  # an image with no words in it
    with pytest.raises(IngestError, match="contains no text") as info:
        add_path(store, path)
    assert "\n" not in str(info.value)
    assert store.documents() == []


def test_without_tesseract_scans_say_how_to_get_it(tmp_path, store, monkeypatch):
    monkeypatch.setattr(ocr, "tessdata_dir", lambda: None)
    docgen.long_pdf(tmp_path / "text.pdf", 3, hyphenate=False)
    scan = reportgen.scan_pdf(tmp_path / "text.pdf", tmp_path / "scan.pdf", dpi=72)
    with pytest.raises(IngestError, match="no text layer .*apt install tesseract-ocr") as info:
        read_document(scan)
    assert "\n" not in str(info.value)
    mixed = reportgen.scan_pdf(tmp_path / "text.pdf", tmp_path / "mixed.pdf", dpi=72, pages=[2])
    result = add_path(store, mixed)
    assert result.ocr_pages == 0 and result.document.pages == 3
    assert len(result.warnings) == 1 and "p. 2" in result.warnings[0]
    assert "brew install tesseract" in result.warnings[0]
    assert {s.page for s in store.segments(result.document.id)} == {1, 3}


def test_ocr_resolution_is_capped_for_huge_pages():
    import pymupdf

    assert ocr.ocr_dpi(pymupdf.Rect(0, 0, 595, 842)) == ocr.OCR_DPI
    poster = pymupdf.Rect(0, 0, 14400, 14400)
    assert ocr.ocr_dpi(poster) ** 2 * (200 * 200) <= ocr.MAX_OCR_PIXELS


@pytest.mark.parametrize("scanned", [False, True], ids=["text", "scan"])
def test_huge_pages_ingest_or_are_refused_in_one_line(tmp_path, store, scanned, capfd):
    path = reportgen.huge_page_pdf(tmp_path / "poster.pdf", scanned=scanned)
    try:
        result = add_path(store, path)
    except IngestError as exc:
        assert "\n" not in str(exc) and "poster.pdf" in str(exc)
        assert store.documents() == []
        assert capfd.readouterr().err == ""  # nothing from MuPDF or Tesseract beside it
    else:
        assert result.document.pages == 1
        if not scanned:
            assert "poster with one line" in store.segments(result.document.id)[0].text
