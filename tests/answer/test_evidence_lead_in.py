"""A sentence that stops open ("To cite it, use") is shown with what it leads into: alone it
said nothing (R FAQ 2.8 "Citing R" showed "To cite R in publications, use")."""

from __future__ import annotations

from ctxchat.engines.answer.evidence import FOLLOW_CHARS, find_evidence, lead_in
from ctxchat.engines.ingest.library import add_path
from ctxchat.engines.store.db import SegmentRow, Store
from devkit.docgen import sectioned_pdf

CITING = (
    "To cite the plotter in publications, use</p>"
    "<pre>@Manual{plotter,\n  title = {Plotter: drawing data},\n  year = YEAR }</pre>"
    "<p>where YEAR is the release year of the version used."
)


def test_the_display_after_an_open_sentence_is_part_of_the_evidence(tmp_path) -> None:
    sections = [
        ("1 Overview", "The plotter draws data from files and from the command line."),
        ("2 Citing the plotter", CITING),
        ("3 Mailing lists", "Questions about the plotter go to the users' list."),
    ]
    store = Store(tmp_path / "library.db")
    doc = add_path(store, sectioned_pdf(tmp_path / "manual.pdf", sections)).document
    shown = find_evidence(store, [doc.id], "how do I cite the plotter in a paper?").shown
    first = shown[0].text
    # The display keeps its lines (reader version 9), on a line of its own.
    assert first.startswith("To cite the plotter in publications, use\n@Manual{plotter,\n")
    assert "\n  title = {Plotter: drawing data},\n" in first
    # The lead-in reaches no further than the sentence that closes the display.
    assert first.endswith("the version used.") and "Mailing" not in first


def _row(ord_: int, text: str, heading: str | None = "2 Usage") -> SegmentRow:
    return SegmentRow(ord_, 1, ord_, 3, ord_, text, len(text.split()), str(ord_), heading)


def test_a_closed_sentence_leads_into_nothing() -> None:
    rows = [_row(0, "The tool reads files."), _row(1, "It writes plots.")]
    assert lead_in(rows, 0) == ""


def test_a_lead_in_stops_at_its_section_and_at_a_heading() -> None:
    rows = [
        _row(0, "Run it as follows:"),
        _row(1, "## 3 Output", "3 Output"),
        _row(2, "plot data.txt", "3 Output"),
    ]
    assert lead_in(rows, 0) == ""
    rows = [_row(0, "Run it as follows:"), _row(1, "#"), _row(2, "plot data.txt")]
    assert lead_in(rows, 0) == ""


def test_a_long_display_is_cut_at_a_word() -> None:
    code = " ".join(f"option_{k}=value" for k in range(60))
    rows = [_row(0, "The full call is"), _row(1, code)]
    follows = lead_in(rows, 0)
    assert follows.endswith(" …") and len(follows) <= FOLLOW_CHARS + 2
    assert code.startswith(follows[:-2])


def test_a_long_code_display_keeps_whole_lines() -> None:
    """Run into one line, "DataBase db; // 1 db2 = DataBase{ person }; // 2" read as a
    comment from its first "//" on."""
    lines = [f"db{k} = DataBase{{ person{k} }};    // {k}" for k in range(12)]
    rows = [_row(0, "the assignments then read:"), _row(1, "\n".join(lines))]
    follows = lead_in(rows, 0)
    shown = follows.split("\n")
    assert shown[-1] == "…" and shown[:-1] == lines[: len(shown) - 1]
    assert len(follows) <= FOLLOW_CHARS + 2


def test_one_long_code_line_is_cut_at_a_word() -> None:
    line = " ".join(f"arg_{k}" for k in range(80))
    rows = [_row(0, "call it as follows:"), _row(1, f"run({line})\nexit()")]
    follows = lead_in(rows, 0)
    assert follows.endswith("\n…") and len(follows) <= FOLLOW_CHARS + 2
    assert f"run({line}".startswith(follows[:-2])


def test_a_caption_leads_into_no_new_paragraph() -> None:
    """A figure's caption has no stop ("Ratio of missing data in some features"); the
    paragraph below it is no display it introduces (a Word report's evidence read "... in
    some features As there is a considerable number of null values ...")."""
    caption = SegmentRow(0, 1, 0, 3, 0, "Ratio of missing data in some features", 7, "0", None)
    below = SegmentRow(1, 1, 1, 3, 1, "As there are many null values, we impute.", 8, "1", None)
    assert lead_in([caption, below], 0) == ""
    code = SegmentRow(1, 1, 1, 3, 1, "@Manual{plotter, title = {Plotter}}", 4, "1", None)
    assert lead_in([caption, code], 0).startswith("@Manual{plotter")


def test_a_sentence_cut_before_a_table_leads_into_no_row() -> None:
    """A sentence that stops before a table set in its way ("we generate binary questions"
    / Table 1) went on in the evidence with the table's rows ("questions | Decoding:
    Regular | Accuracy: 83.29 | ..."); the rows are no part of it."""
    cut = SegmentRow(0, 1, 0, 3, 0, "For each image we generate binary questions", 7, "0", None)
    row = SegmentRow(1, 1, 1, 3, 1, "| Decoding: Regular | Accuracy: 83.29 |", 9, "1", None)
    assert lead_in([cut, row], 0) == ""
    # A sentence that announces the table with a colon still shows it.
    announces = SegmentRow(0, 1, 0, 3, 0, "The results per decoding are:", 5, "0", None)
    assert lead_in([announces, row], 0).startswith("| Decoding: Regular")
