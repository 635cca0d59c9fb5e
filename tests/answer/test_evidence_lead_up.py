"""A sentence's rest is shown with where the sentence opens: R's "Writing R Extensions" showed
"are available for use in src/Makevars, src/Makevars.win or Makevars.ucrt." alone, its
subject ("The make macros" and the macros' names, set as code) left out."""

from __future__ import annotations

from ctxchat.engines.answer.evidence import find_evidence
from ctxchat.engines.ingest.library import add_path
from ctxchat.engines.select.lead import leads_up
from ctxchat.engines.store.db import SegmentRow, Store
from devkit.docgen import sectioned_pdf

MACROS = (
    "The plotter can draw in parallel. The make macros</p>"
    "<pre>PLOT_THREAD_CFLAGS\nPLOT_THREAD_LIBS</pre>"
    "<p>are available for use in the Makevars file of a package that draws in parallel."
)


def _row(ord_: int, text: str, heading: str | None = "2 Usage") -> SegmentRow:
    return SegmentRow(ord_, 1, ord_, 3, ord_, text, len(text.split()), str(ord_), heading)


def test_the_rest_of_a_sentence_is_shown_with_its_opening(tmp_path) -> None:
    sections = [
        ("1 Overview", "The plotter draws data from files and from the command line."),
        ("2 Parallel drawing", MACROS),
    ]
    store = Store(tmp_path / "library.db")
    doc = add_path(store, sectioned_pdf(tmp_path / "manual.pdf", sections)).document
    question = "where can the thread macros be used?"
    texts = [e.text for e in find_evidence(store, [doc.id], question).shown]
    rest = "are available for use in the Makevars file"
    assert any(rest in t for t in texts)
    assert all(t.startswith("The make macros PLOT_THREAD_CFLAGS") for t in texts if rest in t)


def test_an_opening_is_looked_for_only_behind_an_open_end() -> None:
    rows = [_row(0, "The make macros"), _row(1, "PLOT_CFLAGS PLOT_LIBS"), _row(2, "are set.")]
    assert leads_up(rows, 2) == [0, 1]
    assert leads_up(rows, 1) == []  # opens as no sentence does, but not in lower case
    closed = [_row(0, "It is done."), _row(1, "asn1_create returns a code.")]
    assert leads_up(closed, 1) == []  # a name in lower case opens this sentence
    other = [_row(0, "The make macros", "1 Intro"), _row(1, "are set.")]
    assert leads_up(other, 1) == []  # never past its section


SORTING = (
    "Pairs are sorted by their first elements. If the first elements of two pairs are "
    "equal, they are sorted by their second elements, as in the following code:</p>"
    "<pre>vector&lt;pair&lt;int,int&gt;&gt; v;\nv.push_back({1,5});\nsort(v.begin(), v.end());</pre>"
    "<p>After this, the pairs are in order. Tuples are sorted the same way."
)


def test_a_code_example_is_shown_once(tmp_path) -> None:
    """The Competitive Programmer's Handbook showed the sentence that leads into a code
    example with the code, and then the code with that sentence as its opening."""
    sections = [
        ("1 Overview", "The library sorts numbers, strings and records of many kinds."),
        ("2 Sorting pairs", SORTING),
    ]
    store = Store(tmp_path / "library.db")
    doc = add_path(store, sectioned_pdf(tmp_path / "book.pdf", sections)).document
    texts = [
        e.text for e in find_evidence(store, [doc.id], "how do I sort a vector of pairs?").shown
    ]
    assert sum("v.push_back({1,5});" in t for t in texts) == 1, texts
