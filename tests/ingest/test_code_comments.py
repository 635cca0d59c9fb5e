"""A line of a PDF that starts with "#" is code (an example's comment), not a heading: the
sentences after it keep their section, and the comment keeps its "#"."""

from __future__ import annotations

from pathlib import Path

import pymupdf

from ctxchat.engines.ingest.readers import read_document
from ctxchat.engines.ingest.segment import paragraph_units, segment_pages

PAGE = """<h1>Arithmetic Mean</h1><p>Generic function for the trimmed arithmetic mean.</p>
<h3>Examples</h3><pre># compute the mean of two numbers
x &lt;- c(1, 2)
## Not run:
mean(x)</pre><p>The mean of the vector is printed on the console.</p>"""


def test_comment_lines_in_a_pdf_are_not_headings(tmp_path: Path) -> None:
    path = tmp_path / "manual.pdf"
    doc = pymupdf.open()
    doc.new_page().insert_htmlbox(pymupdf.Rect(72, 72, 520, 760), PAGE)
    doc.save(path)
    segments = list(segment_pages(read_document(path).pages()))
    headings = {s.heading for s in segments}
    assert headings == {"Arithmetic Mean", "Examples"}
    printed = next(s for s in segments if s.text.startswith("The mean of the vector"))
    assert printed.heading == "Examples"
    code = next(s for s in segments if "compute the mean" in s.text)
    assert code.text.startswith("# compute the mean of two numbers") and "## Not run:" in code.text


def test_markdown_headings_still_count_and_an_escaped_hash_is_text() -> None:
    units = list(paragraph_units("# Title\n\nBody text here.\n\n\\# not a heading, a comment"))
    assert units[0] == ("# Title", "Title", True)
    assert units[-1][0] == "# not a heading, a comment" and units[-1][1] is None
