"""A thesis heads a chapter's pages with the chapter's title ("CHAPTER 1. INTRODUCTION") and
numbers its first page at the foot: too few pages for either to count as repeated, yet
both sat between the halves of a sentence cut by the page break."""

from __future__ import annotations

import pymupdf

from ctxchat.engines.ingest.layout import title_key
from ctxchat.engines.ingest.readers import read_document
from ctxchat.engines.ingest.segment import segment_pages


def _thesis(path) -> None:
    doc = pymupdf.open()
    first = doc.new_page()
    first.insert_text((72, 120), "Chapter 1", fontsize=20)
    first.insert_text((72, 160), "Introduction", fontsize=20)
    first.insert_text((72, 220), "Machine translation is often used to make sense of")
    first.insert_text((300, 780), "1")  # the chapter's first page: numbered at the foot
    second = doc.new_page()
    second.insert_text((72, 60), "CHAPTER 1. INTRODUCTION")
    second.insert_text((520, 60), "2")
    second.insert_text((72, 100), "obscure texts that nobody has translated before.")
    second.insert_text((72, 114), "The table below counts them.")
    second.insert_text((72, 760), "Total")  # a table's last row, not a page number
    second.insert_text((300, 760), "12")
    third = doc.new_page()
    third.insert_text((72, 60), "Examples", fontsize=20)  # a heading at the top, as written
    third.insert_text((72, 100), "The first example shows how a text is translated.")
    doc.save(path)


def test_a_chapter_header_and_a_lone_page_number_do_not_cut_a_sentence(tmp_path):
    path = tmp_path / "thesis.pdf"
    _thesis(path)
    pages = list(read_document(path).pages())
    assert "CHAPTER 1. INTRODUCTION" not in pages[1].text
    assert not pages[0].text.rstrip().endswith("1")
    sentences = [s.text for s in segment_pages(pages)]
    assert (
        "Machine translation is often used to make sense of obscure texts that nobody has "
        "translated before." in sentences
    )
    assert "12" in pages[1].text  # a number that shares its row stays


def test_a_title_at_the_top_of_a_page_as_written_stays(tmp_path):
    path = tmp_path / "thesis.pdf"
    _thesis(path)
    doc = pymupdf.open(path)
    doc[0].insert_text((72, 400), "Examples", fontsize=20)  # the same title, read first
    doc.saveIncr()
    pages = list(read_document(path).pages())
    assert pages[2].text.startswith("# Examples")


def test_title_keys():
    assert title_key("CHAPTER 6. CONCLUSION 20") == title_key("Conclusion") == "conclusion"
    assert title_key("3.2. DOMAIN ADAPTATION") == "domain adaptation"
    assert title_key("Appendix A Essential programs") == "essential programs"
    assert title_key("Chapter 2") == ""
    assert title_key("Part of speech tagging") == "part of speech tagging"


def _book_pages(path) -> None:
    """Two pages of a LaTeX book: the second is headed by the section that starts on it
    ("2.3. PURE VIRTUAL FUNCTIONS"), above the end of section 2.2."""
    doc = pymupdf.open()
    first = doc.new_page()
    first.insert_text((72, 60), "CHAPTER 2. POLYMORPHISM")
    first.insert_text((520, 60), "44")
    first.insert_text((72, 100), "2.2", fontsize=16)
    first.insert_text((120, 100), "Virtual destructors", fontsize=16)
    first.insert_text((72, 140), "A destructor can be declared virtual.")
    second = doc.new_page()
    second.insert_text((72, 60), "2.3. PURE VIRTUAL FUNCTIONS")
    second.insert_text((520, 60), "45")
    second.insert_text((72, 100), "Base class destructors should always be virtual.")
    second.insert_text((72, 160), "2.3", fontsize=16)
    second.insert_text((120, 160), "Pure virtual functions", fontsize=16)
    second.insert_text((72, 200), "A pure virtual function has no implementation.")
    doc.save(path)


def test_a_header_naming_the_section_that_starts_lower_on_its_page_is_no_heading(tmp_path):
    path = tmp_path / "book.pdf"
    _book_pages(path)
    pages = list(read_document(path).pages())
    assert "PURE VIRTUAL FUNCTIONS" not in pages[1].text
    headings = {s.text: s.heading for s in segment_pages(pages)}
    # The end of 2.2 stays under 2.2; the new section's text under its own title.
    assert "Virtual destructors" in headings["Base class destructors should always be virtual."]
    assert "Pure virtual functions" in headings["A pure virtual function has no implementation."]


def test_a_heading_in_capitals_at_the_top_of_a_page_stays(tmp_path):
    path = tmp_path / "report.pdf"
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 60), "1. INTRODUCTION", fontsize=16)
    page.insert_text((72, 100), "This report is an introduction to the topic.")
    doc.save(path)
    pages = list(read_document(path).pages())
    assert "INTRODUCTION" in pages[0].text
