"""Reading real generated documents: layout, headers/footers, hyphenation, every bad input."""

from __future__ import annotations

import hashlib
import inspect
import re

import pytest

from ctxchat.engines.errors import IngestError, NeedsPasswordError
from ctxchat.engines.ingest.layout import join_lines, reading_order
from ctxchat.engines.ingest.readers import TEXT_PAGE_CHARS, read_document, supported_files
from ctxchat.engines.ingest.segment import segment_pages
from devkit import docgen


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


@pytest.fixture(scope="module")
def long_doc(tmp_path_factory):
    path = tmp_path_factory.mktemp("docs") / "report.pdf"
    report, facts = docgen.long_pdf(path, 15)
    pages, _ = docgen.long_document(15)
    return path, report, facts, pages


def test_pdf_pages_stream_with_numbers_and_hash(long_doc):
    path, _, _, _ = long_doc
    doc = read_document(path)
    assert (doc.kind, doc.page_count, doc.name) == ("pdf", 15, "report.pdf")
    assert doc.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    stream = doc.pages()
    assert inspect.isgenerator(stream)  # one page at a time, never the whole document
    assert [p.number for p in stream] == list(range(1, 16))


def test_running_header_and_footer_are_removed(long_doc):
    path, _, _, _ = long_doc
    for page in read_document(path).pages():
        assert "Annual Report" not in page.text
        assert not re.search(r"Page \d+", page.text)
        assert page.text.startswith("The ")


def test_hyphenated_words_are_joined(long_doc):
    path, report, _, pages = long_doc
    assert len(report.hyphenated) > 20  # the generator really split words at line ends
    text = _flat(" ".join(p.text for p in read_document(path).pages()))
    source = " ".join(" ".join(paragraphs) for paragraphs in pages)
    for word in set(report.hyphenated):
        assert text.count(word) == source.count(word), word
    assert not re.search(r"[a-z]- [a-z]", text)


def test_facts_are_on_their_pages(long_doc):
    path, _, facts, _ = long_doc
    pages = {p.number: _flat(p.text) for p in read_document(path).pages()}
    assert facts
    for fact in facts:
        assert fact.sentence in pages[fact.page]
        assert all(fact.sentence not in t for n, t in pages.items() if n != fact.page)


def test_two_columns_read_left_then_right(tmp_path):
    path = docgen.two_column_pdf(
        tmp_path / "paper.pdf",
        left=[
            "Left column opens the paper with a long paragraph that wraps over lines.",
            "Left column ends here.",
        ],
        right=["Right column starts the second half.", "Right column closes."],
        title="A Study Of Reading Order In Two Column Layouts",
    )
    text = next(read_document(path).pages()).text
    order = [
        text.index(s)
        for s in (
            "A Study Of",
            "Left column opens",
            "Left column ends",
            "Right column starts",
            "Right column closes",
        )
    ]
    assert order == sorted(order)


def test_join_lines_rules():
    assert join_lines(["the infor-", "mation age"]) == "the information age"
    assert join_lines(["the Anglo-", "Saxon king"]) == "the Anglo-Saxon king"
    assert join_lines(["state-of-the-", "art tools"]) == "state-of-the-art tools"
    assert join_lines(["a list -", "item"]) == "a list -\nitem"
    assert join_lines(["soft\u00ad", "ware"]) == "software"


def test_line_end_compounds_keep_their_hyphen():
    # Both halves are common words and the joined one is not: a compound, not a break.
    assert join_lines(["sailed single-", "handed."]) == "sailed single-handed."
    assert join_lines(["a well-", "known fact"]) == "a well-known fact"
    assert join_lines(["the twenty-", "first century"]) == "the twenty-first century"
    # A word broken in two joins, also where the halves are words ("under" + "standing").
    assert join_lines(["under-", "standing"]) == "understanding"
    assert join_lines(["hyphen-", "ation"]) == "hyphenation"
    # A bracket or a quote before the word does not hide it ("(high-" is "high").
    assert join_lines(["French (high-", "resource)"]) == "French (high-resource)"
    assert join_lines(["the (infor-", "mation) age"]) == "the (information) age"
    # A suffix or a closed-up prefix that is a word too: "lexi-cal", "sub-directory".
    assert join_lines(["“Lexi-", "cal scope”"]) == "“Lexical scope”"
    assert join_lines(["in the sub-", "directory"]) == "in the subdirectory"


def test_a_name_broken_after_its_underscore_is_one_word():
    """Texinfo manuals break long names after an underscore (R-exts: "R_" / "CHECK_ENVIRON")."""
    assert join_lines(["variables R_", "CHECK_ENVIRON and"]) == "variables R_CHECK_ENVIRON and"
    assert join_lines(["calls omp_set_num_", "threads, then"]) == "calls omp_set_num_threads, then"
    # A name that ends in underscores, and a capitals prefix a comment ends on, stay apart.
    assert join_lines(["the class __init__", "method"]) == "the class __init__\nmethod"
    assert join_lines(["# not beginning with GPVAL_", "show variables all"]) == (
        "# not beginning with GPVAL_\nshow variables all"
    )


def test_encrypted_pdf_needs_the_password(tmp_path):
    path = docgen.encrypted_pdf(tmp_path / "secret.pdf", password="s3cret")
    with pytest.raises(NeedsPasswordError, match="is encrypted: pass --password"):
        read_document(path)
    with pytest.raises(NeedsPasswordError, match="wrong password"):
        read_document(path, password="nope")
    doc = read_document(path, password="s3cret")
    assert "buried under the old oak tree" in next(doc.pages()).text


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: docgen.truncated_pdf(p), r"is damaged \(truncated or corrupt PDF\)"),
        (lambda p: docgen.garbage_pdf(p), r"is damaged"),
        (lambda p: p.write_text("just some notes\n"), r"is not a PDF \(it looks like plain text\)"),
        (lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100)), r"it looks like a PNG image"),
        (lambda p: p.write_bytes(b""), r"is empty"),
    ],
    ids=["truncated", "garbage", "text-renamed", "png-renamed", "empty"],
)
def test_bad_pdfs_raise_one_clear_line(tmp_path, make, message):
    path = tmp_path / "bad file.pdf"
    make(path)
    with pytest.raises(IngestError, match=message) as info:
        read_document(path)
    assert "\n" not in str(info.value)
    assert "bad file.pdf" in str(info.value)


def test_missing_folder_and_unsupported(tmp_path):
    with pytest.raises(IngestError, match="file not found: .*missing.pdf"):
        read_document(tmp_path / "missing.pdf")
    with pytest.raises(IngestError, match="is a folder"):
        read_document(tmp_path)
    odd = tmp_path / "table.xyz"
    odd.write_text("a,b\n")
    with pytest.raises(IngestError, match=r"unsupported file type \.xyz .*supported: \.pdf"):
        read_document(odd)
    blank = tmp_path / "blank.txt"
    blank.write_text("  \n\n \t\n")
    with pytest.raises(IngestError, match="is empty"):
        read_document(blank)


def test_pdf_without_extension_is_recognised(tmp_path):
    path = tmp_path / "download"
    docgen.write_pdf(path, [["Content of a file saved without its extension."]])
    doc = read_document(path)
    assert doc.kind == "pdf" and "without its extension" in next(doc.pages()).text


def test_unicode_and_spaces_in_paths(tmp_path):
    folder = tmp_path / "Éléments de café ☕"
    folder.mkdir()
    path = docgen.write_pdf(folder / "notes été 2026.pdf", [["Une phrase simple."]]).path
    doc = read_document(path)
    assert doc.name == "notes été 2026.pdf"
    assert "Une phrase simple." in next(doc.pages()).text


def test_text_pages_form_feeds_and_encodings(tmp_path):
    utf8 = tmp_path / "notes.txt"
    para = "A plain sentence about rivers and bridges. " * 10
    utf8.write_text("\n\n".join([para] * 20) + "\fAfter the form feed, naïve café.", "utf-8")
    doc = read_document(utf8)
    pages = list(doc.pages())
    assert doc.page_count == len(pages) > 2
    assert all(len(p.text) <= 2 * TEXT_PAGE_CHARS for p in pages)
    assert pages[-1].text == "After the form feed, naïve café."
    latin = tmp_path / "old.txt"
    latin.write_bytes("Caf\xe9 cr\xe8me, na\xefve \u2014 old bytes.".encode("cp1252"))
    assert next(read_document(latin).pages()).text == "Café crème, naïve — old bytes."
    utf16 = tmp_path / "wide.txt"
    utf16.write_text("Wide text file.", encoding="utf-16")
    assert next(read_document(utf16).pages()).text == "Wide text file."
    binary = tmp_path / "bin.txt"
    binary.write_bytes(b"abc\x00\x01\x02" * 10)
    with pytest.raises(IngestError, match="is not a text file"):
        read_document(binary)


def test_markdown_html_and_epub(tmp_path):
    md = docgen.markdown_notes(tmp_path / "n.md", [("Setup", ["Install it first."])])
    doc = read_document(md)
    assert doc.kind == "markdown" and "## Setup" in next(doc.pages()).text
    page = tmp_path / "page.html"
    docgen.html(page, "Harbour notes", ["The ferry leaves at noon.", "Tickets cost four euros."])
    text = " ".join(p.text for p in read_document(page).pages())
    assert "Harbour notes" in text and "The ferry leaves at noon." in text
    book = docgen.epub(
        tmp_path / "book.epub",
        [
            ("Chapter One", ["The lighthouse keeper kept a diary."]),
            ("Chapter Two", ["The diary was found in the spring."]),
        ],
    )
    doc = read_document(book)
    text = _flat(" ".join(p.text for p in doc.pages()))
    assert doc.kind == "epub" and doc.page_count >= 1
    assert text.index("lighthouse keeper") < text.index("found in the spring")
    fake = tmp_path / "fake.epub"
    fake.write_text("not a zip")
    with pytest.raises(IngestError, match="is not an EPUB"):
        read_document(fake)


def test_supported_files_recursive_skips_hidden(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "deep").mkdir()
    (tmp_path / ".git").mkdir()
    for name in [
        "a/one.md",
        "a/deep/two.PDF",
        "three.txt",
        ".hidden.md",
        ".git/x.md",
        "a/skip.xyz",
        "a/book.epub",
    ]:
        (tmp_path / name).write_text("x")
    found = [p.relative_to(tmp_path).as_posix() for p in supported_files(tmp_path)]
    assert found == ["three.txt", "a/book.epub", "a/one.md", "a/deep/two.PDF"]


def _block(x0, y0, x1, y1, text, n):
    return [(x0, y0, x1, y1, text, n)]


def test_reading_order_with_a_centred_page_number_between_columns():
    blocks = [
        _block(72, 60, 520, 80, "title across the page", 0),
        _block(300, 100, 520, 300, "right column", 1),
        _block(280, 780, 315, 795, "7", 2),  # centred, touches both columns
        _block(72, 100, 290, 400, "left column top", 3),
        _block(72, 410, 290, 700, "left column bottom", 4),
        _block(300, 310, 520, 700, "right column bottom", 5),
    ]
    texts = [b[0][4] for b in reading_order(blocks)]
    assert texts == [
        "title across the page",
        "left column top",
        "left column bottom",
        "right column",
        "right column bottom",
        "7",
    ]


def test_a_chapter_running_header_is_removed_and_a_repeated_sentence_kept(tmp_path):
    """Manuals head each page with its chapter's title ("Chapter 2: Objects"): a header on a
    third of the pages, below the share a book-wide header reaches. A body line that starts
    three pages far apart is no header."""
    import pymupdf

    path = tmp_path / "manual.pdf"
    pdf = pymupdf.open()
    for n in range(18):
        chapter = n // 6 + 1
        page = pdf.new_page()
        page.insert_text((72, 40), f"Chapter {chapter}: Part {'ABC'[chapter - 1]} of the manual")
        page.insert_text((500, 40), str(n + 1))
        # Lines of each page's own words (digits alone would make one running line).
        own = [f"Topic {'QRSTUVWXYZMNOPKLIJ'[n]}{k}." for k in "abcdef"]
        first = "See the table below." if n in (1, 8, 15) else own[0]
        body = [first, *own[1:3], f"Body of page {n + 1}.", *own[3:]]
        page.insert_textbox(pymupdf.Rect(72, 80, 540, 400), "\n".join(body))
    pdf.save(path)
    texts = [p.text for p in read_document(path).pages()]
    assert not any("Chapter" in t for t in texts)
    assert [t.startswith("See the table below.") for t in texts].count(True) == 3
    assert all(f"Body of page {n + 1}." in t for n, t in enumerate(texts))


def test_a_title_set_over_two_blocks_is_one_heading(tmp_path):
    """R Admin's "Appendix A Essential and useful other programs / under a Unix-alike": the
    second line was a heading of its own and replaced the title."""
    import pymupdf

    from ctxchat.engines.ingest.readers import join_split_headings
    from ctxchat.engines.ingest.segment import segment_pages

    path = tmp_path / "admin.pdf"
    pdf = pymupdf.open()
    page = pdf.new_page()
    page.insert_text((72, 80), "Appendix A Essential programs", fontsize=20)
    page.insert_text((72, 140), "under a Unix-alike", fontsize=20)  # a block of its own
    body = "This appendix gives details of programs you will need to build R. " * 3
    page.insert_textbox(pymupdf.Rect(72, 170, 540, 400), body, fontsize=11)
    pdf.save(path)
    segments = list(segment_pages(read_document(path).pages()))
    assert segments[-1].heading == "Appendix A Essential programs under a Unix-alike"
    # Manuals title sections with function names: those stay headings of their own.
    parts = ["## 4.1 ASN.1 schema functions", "## asn1_parser2tree", "text"]
    assert join_split_headings(parts) == parts


def test_a_web_page_s_code_titles_are_titles_and_its_table_headers_are_not(tmp_path):
    """Node's API pages title each function with code in an <h3> and put a "Version |
    Changes" table under it; MuPDF set the title at the body's size and the header cells in
    bold, so every section read as "Version Changes"."""
    page = tmp_path / "fs.html"
    page.write_text(
        "<!doctype html><html><body><h1>File system</h1><p>The module reads files.</p>"
        '<h3><code>fs.readFile(path[, options], callback)</code><a href="#x">#</a></h3>'
        "<table><tr><th>Version</th><th>Changes</th></tr>"
        "<tr><td>v10.0.0</td><td>The callback is no longer optional.</td></tr></table>"
        "<p>Asynchronously reads the entire contents of a file.</p></body></html>",
        encoding="utf-8",
    )
    segs = list(segment_pages(read_document(page).pages()))
    last = segs[-1]
    assert last.text == "Asynchronously reads the entire contents of a file."
    assert last.heading == "fs.readFile(path[, options], callback)"
    assert all(s.heading != "Version Changes" for s in segs)
