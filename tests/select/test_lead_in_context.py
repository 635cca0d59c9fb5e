"""A sentence that stops open brings what it leads into in the context sent, not only in the
evidence shown: R's "Writing R Extensions" sent "... we would use the following code:" and
then "[...]", leaving out the call a person asking how to register routines needs."""

from __future__ import annotations

from dataclasses import replace

from ctxchat.engines.ingest.library import add_path
from ctxchat.engines.select.lead import leads_into
from ctxchat.engines.select.selector import SelectorOptions, select
from ctxchat.engines.store.db import SegmentRow, Store
from devkit.docgen import sectioned_pdf

REGISTERING = (
    "A routine the plotter calls must be registered before the library is used. "
    "Having described each routine, the last step is to register them with the plotter. "
    "For example, for the routines described above we would use the following code:</p>"
    "<pre>void init_mylib(Info *info) {\n  attach_table(info, cTable, callTable); }</pre>"
    "<p>This function runs when the plotter loads the library named mylib."
)
FILLER = (
    "The plotter keeps its settings in a file in the home folder. Colours are named or "
    "given as hexadecimal triples. Each figure may hold several panels, laid out in rows. "
    "Fonts are looked up by family name and fall back to a sans-serif face."
)


def _manual(tmp_path) -> tuple[Store, int]:
    sections = [
        ("1 Settings", FILLER),
        ("2 Registering routines", REGISTERING),
        ("3 Figures", FILLER.replace("plotter", "viewer")),
    ]
    store = Store(tmp_path / "library.db")
    doc = add_path(store, sectioned_pdf(tmp_path / "manual.pdf", sections)).document
    return store, doc.id


def test_the_code_an_open_sentence_announces_is_sent_with_it(tmp_path) -> None:
    store, doc_id = _manual(tmp_path)
    question = "how do I register the routines with the plotter?"
    intro = "we would use the following code:"
    code = "void init_mylib(Info *info) { attach_table(info, cTable, callTable); }"
    assert f"{intro}\n{code}" in select(store, [doc_id], question, 90).text
    before = replace(SelectorOptions(), lead_ins=False)
    old = select(store, [doc_id], question, 90, options=before).text
    assert intro in old and code not in old  # "... the following code:" then "[...]"


def _row(ord_: int, text: str, heading: str | None = "2 Usage") -> SegmentRow:
    return SegmentRow(ord_, 1, ord_, 3, ord_, text, len(text.split()), str(ord_), heading)


def test_a_lead_in_ends_at_the_sentence_that_closes_the_display() -> None:
    rows = [
        _row(0, "Run it as"),
        _row(1, "plot data.txt --width 3"),
        _row(2, "and the figure appears."),
        _row(3, "Nothing else is needed."),
    ]
    assert leads_into(rows, 0) == [1, 2]
    assert leads_into(rows, 2) == []  # closed
    rows[2] = _row(2, "in the other section", "3 Output")
    assert leads_into(rows, 0) == [1]  # never past its section
