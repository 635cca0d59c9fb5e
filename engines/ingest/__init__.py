"""Files into the library: read pages (PyMuPDF or plain text), fix layout, cut segments, store them.

Owns readers (file types), layout (reading order, running headers), segmentation and the atomic
add. Imports store/ only. Public entry: `add_paths` / `add_path` (ingest.library).
A new file type plugs in at ingest.readers.read_document.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ctxchat.engines.store.db import DocumentRow

# The version of what reading and segmenting make of a file. Bump it whenever a change
# alters a file's segments (text, pages, headings), so that adding a file again re-reads
# documents an older version read. 1: raised marks read as "^N", "#" code lines not
# headings, sentences across page breaks joined (2026-12-03). 2: a chapter's running header
# ("Chapter 5: ...", on that chapter's pages only) dropped like a book-wide one (2026-12-03).
# 3: an all-capitals line of code ("PKG_LIBS = $(SHLIB_OPENMP_CFLAGS)") is no heading; a
# title set over two blocks ("... other programs" / "under a Unix-alike") is one heading.
# 4: lines of a block that share a row are read left to right (a definition list's term
# before its description, a code line before its comment); a page that stops on an open
# word ("of", "the", a comma) goes on to the next page's capital; a table whose first row
# is data ("| ^E | move to the end of the line. |") names no columns by it; a contents
# entry ("5 Arrays and matrices . . . . 20") is no heading; a name broken after its
# underscore ("R_" / "CHECK_ENVIRON") is one word (2026-12-03). 5: blocks that go on one
# paragraph are joined (a double-spaced thesis read a paragraph a line; a word hyphenated
# across a column or page break); a hyphen after a number or an acronym stays ("15th-
# largest", "SARS-like"); a page's top line that repeats an earlier title in another form
# ("CHAPTER 6. CONCLUSION") and a page number alone in a page's first or last row are
# running furniture (2026-12-03). 6: a sentence that a captioned figure or table
# interrupts is joined to its rest after the caption (a float at the top of a page, a
# figure inside a Word paragraph); a paragraph's sentences after a page break are cited by
# their own page, not the one the paragraph starts on; a section title over three lines
# ("2.2" / "Polling-based Object Probing" / "Evaluation") is a title; a footnote's raised
# number is kept apart from its first word ("^2 The ...", was "2The"); a line-end hyphen
# after a bracket is judged on the word ("(high-" / "resource)"); a numbered line that
# says what happens ("2. User will enter the issue") is no title; a web page's headings
# are set larger and its table header cells plain (Node's "Version Changes"); a bullet
# ("○", "◦", "▪") after a sentence's end opens the next sentence (2026-12-03).
# 7: code set in a monospace font is one segment of its own, cut from the prose MuPDF set
# in its block and joined over the blocks its indentation made; a fenced Markdown example
# likewise; a sentence a page break cuts is whole past the page's footnotes (2026-12-03).
# 8: a numbered section title set large may end in a full stop ("5.3 ‘split’: Split a file
# into pieces."), as GNU manuals title some sections (2026-12-04). 9: a page's top line in
# capitals that repeats a title further down the same page ("14.3. PURE VIRTUAL FUNCTIONS"
# above the end of 14.2, as LaTeX heads a page) is a running header, not the heading of
# the text under it; a code example keeps its lines and their indentation (read from the
# page's x positions, or as a Markdown file has it), a comment set beside its code on the
# row it shares, and is one segment across a page break; Nimbus Mono L (Ghostscript's
# Courier) is a monospace font; a table whose every line is code (a program with its
# comments at the right) is that code; a list's item in lower case ("1. read from the
# stream") is no title (2026-12-04).
READER_VERSION = 9


def read_by_older_reader(doc: DocumentRow) -> bool:
    """Whether an older ctxchat made this document's segments (adding its file re-reads it)."""
    return doc.reader < READER_VERSION


def older_readings(docs: Iterable[DocumentRow]) -> tuple[list[DocumentRow], list[DocumentRow]]:
    """The documents an older ctxchat read, as (their file is still there, it is gone). Text
    added through the API has no file (its path is ""): nothing to read again, left out."""
    older = [d for d in docs if read_by_older_reader(d) and d.path]
    here = [d for d in older if Path(d.path).is_file()]
    return here, [d for d in older if d not in here]
