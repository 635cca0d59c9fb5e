"""A sentence that stops open brings what it leads into in the context sent, not only in the
evidence shown: R's "Writing R Extensions" sent "... we would use the following code:" and
then "[...]", leaving out the call a person asking how to register routines needs."""

from __future__ import annotations

from dataclasses import replace

from ctxchat.engines.answer.evidence import candidates, pick
from ctxchat.engines.ingest.library import add_path
from ctxchat.engines.select.lead import example_after, leads_into
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
    code = "void init_mylib(Info *info) {\n  attach_table(info, cTable, callTable); }"
    assert f"{intro}\n{code}" in select(store, [doc_id], question, 90).text
    before = replace(SelectorOptions(), lead_ins=False)
    old = select(store, [doc_id], question, 90, options=before).text
    assert intro in old and code not in old  # "... the following code:" then "[...]"


OPENMP = (
    "The plotter can draw in parallel with OpenMP. Support depends on the compiler, and "
    "some compilers have none at all. A package with C code written for OpenMP should have "
    "in its Makevars file the lines</p><pre>PKG_CFLAGS = $(OPENMP_CFLAGS)\n"
    "PKG_LIBS = $(OPENMP_CFLAGS)</pre><p>Note that the flags apply to C code only. Check "
    "the build log to see that OpenMP was used. Threads are set with an environment "
    "variable before the plotter starts."
)


def test_the_lines_a_sentence_announces_in_capitals_are_sent_with_it(tmp_path) -> None:
    """R's "Writing R Extensions" sent "... should have in src/Makevars the lines" and then
    "[...]": the Makevars lines open in capitals, like a new paragraph's sentence."""
    sections = [("1 Settings", FILLER), ("2 OpenMP support", OPENMP)]
    store = Store(tmp_path / "library.db")
    doc = add_path(store, sectioned_pdf(tmp_path / "manual.pdf", sections)).document
    question = "how do I use OpenMP in a package?"
    intro = "Makevars file the lines"
    before = replace(SelectorOptions(), lead_ins=False)
    for budget in (55, 60, 65, 70):
        text = select(store, [doc.id], question, budget).text
        assert text.split(intro, 1)[1].lstrip().startswith("PKG_CFLAGS ="), budget
        old = select(store, [doc.id], question, budget, options=before).text
        assert intro in old and "PKG_CFLAGS" not in old, budget


def test_the_last_sentences_added_are_no_open_sentence_alone(tmp_path) -> None:
    """The fill's last step spends what its estimates left on the next-best sentences; it
    added "... we would use the following code:" there without the code."""
    sections = [
        ("1 Settings", FILLER),
        ("2 OpenMP support", OPENMP),
        ("3 Registering routines", REGISTERING),
    ]
    store = Store(tmp_path / "library.db")
    doc = add_path(store, sectioned_pdf(tmp_path / "manual.pdf", sections)).document
    for budget in (135, 140, 145):
        text = select(store, [doc.id], "how do I use OpenMP in a package?", budget).text
        assert "PKG_CFLAGS" in text, budget
        assert not text.endswith("the following code:"), budget


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


def test_a_sentence_leads_into_code_in_capitals_but_not_into_a_new_sentence() -> None:
    """R's "Writing R Extensions": "... should have in src/Makevars the lines" goes on in
    "PKG_CFLAGS = $(SHLIB_OPENMP_CFLAGS)", which was taken for a new paragraph's sentence
    (the rule that keeps a caption from leading into the paragraph below it)."""
    intro = SegmentRow(0, 1, 0, 3, 0, "C code should have in src/Makevars the lines", 8, "0", None)
    code = SegmentRow(1, 1, 1, 3, 1, "PKG_CFLAGS = $(SHLIB_OPENMP_CFLAGS)", 6, "1", None)
    sentence = SegmentRow(1, 1, 1, 3, 1, "A new paragraph opens here.", 5, "1", None)
    assert leads_into([intro, code], 0) == [1]
    assert leads_into([intro, sentence], 0) == []
    accented = SegmentRow(1, 1, 1, 3, 1, "Élan is the word it uses.", 5, "1", None)
    assert leads_into([intro, accented], 0) == []


def test_a_lead_in_ends_with_the_code_example_it_announces() -> None:
    """A code example is one segment (reader 7); the paragraph after it opens with a
    sentence of its own, which the lead-in used to take too when it fit."""
    rows = [
        _row(0, "For example, we would use the following code:"),
        _row(1, "void init_mylib(Info *info) { attach_table(info, cTable, callTable); }"),
        _row(2, "This function runs when the plotter loads the library named mylib."),
    ]
    assert leads_into(rows, 0) == [1]
    table = [rows[0], _row(1, "| Option: -w | Meaning: width |"), _row(2, "| Option: -h |")]
    assert leads_into(table, 0) == [1, 2]  # a table's rows go on


MACROS = (
    "The plotter can draw in parallel. The make macros</p>"
    "<pre>PLOT_THREAD_CFLAGS\nPLOT_THREAD_LIBS</pre>"
    "<p>are available for use in the Makevars file of a package that draws in parallel."
)


def test_the_rest_of_a_sentence_is_sent_with_where_it_opens(tmp_path) -> None:
    """R's "Writing R Extensions" sent "[...] are available for use in src/Makevars ..."
    without its subject: "The make macros" and the names set as code between (a code
    example too short to be taken on its own is taken as part of a sentence)."""
    sections = [("1 Settings", FILLER), ("2 Parallel drawing", MACROS), ("3 Figures", FILLER)]
    store = Store(tmp_path / "library.db")
    doc = add_path(store, sectioned_pdf(tmp_path / "manual.pdf", sections)).document
    question = "in which file of a package that draws in parallel are they available?"
    opened = "The make macros\nPLOT_THREAD_CFLAGS\nPLOT_THREAD_LIBS\nare available for use"
    before = replace(SelectorOptions(), lead_ins=False)
    for budget in (55, 65, 75):
        assert opened in select(store, [doc.id], question, budget).text, budget
        old = select(store, [doc.id], question, budget, options=before).text
        assert "are available for use" in old and "PLOT_THREAD" not in old, budget


LONG_EXAMPLE = (
    "A plot is saved by choosing a terminal and an output file. For a PNG file of a given "
    "size, the plotter is driven by the following commands:</p><pre>"
    + "\n".join(
        f"set style line {k} linecolor rgb 'grey{k}' linewidth {k} pointtype {k}" for k in range(12)
    )
    + "\nset terminal png size 600,400\nset output 'figure.png'\nplot 'data' with lines</pre>"
    "<p>These commands write the file figure.png, 600 pixels wide. The plotter saves PNG "
    "files with a transparent background when asked. Saving a plot as a PNG file needs the "
    "output file named before the plot command."
)


def test_a_sentence_whose_display_does_not_fit_is_not_sent_dangling(tmp_path) -> None:
    """R's "Writing R Extensions" sent "So for example the stats package has" and then
    "[...]": the example it leads into did not fit. The room goes to a whole sentence."""
    sections = [("1 Settings", FILLER), ("2 Saving plots", LONG_EXAMPLE)]
    store = Store(tmp_path / "library.db")
    doc = add_path(store, sectioned_pdf(tmp_path / "manual.pdf", sections)).document
    intro = "driven by the following commands:"
    for budget in (40, 60, 80):
        text = select(store, [doc.id], "how do I save a plot as a PNG file?", budget).text
        assert intro not in text or f"{intro}\nset style line 0" in text, budget
        assert "Saving a plot as a PNG file" in text, budget


def test_code_that_opens_with_a_hash_is_led_into_and_a_heading_is_not() -> None:
    """The Handbook's "the following lines must be added to the code:" leads into
    "#include <set>", which was taken for a heading."""
    rows = [
        _row(0, "To use sets, the following lines must be added to the code:"),
        _row(1, "#include <set> #include <map>"),
        _row(2, "Then the structures can be used."),
    ]
    assert leads_into(rows, 0) == [1]
    rows[1] = _row(1, "### 2 Usage", "2 Usage")
    rows[2] = _row(2, "#include <set>", "2 Usage")
    assert leads_into(rows, 0) == []


def test_the_spare_sentences_hold_no_open_sentence(tmp_path) -> None:
    """What pruning frees is refilled with the selector's spare sentences, one by one: the
    Handbook's context ended "Now we can create a set as follows:" that way."""
    sections = [("1 Settings", FILLER), ("2 Saving plots", LONG_EXAMPLE)]
    store = Store(tmp_path / "library.db")
    doc = add_path(store, sectioned_pdf(tmp_path / "manual.pdf", sections)).document
    chosen = select(store, [doc.id], "how do I save a plot as a PNG file?", 40, spare=30)
    spare = [p.text for p in chosen.spare]
    assert spare and not any(t.endswith("the following commands:") for t in spare)


EXAMPLES = (
    "Here are some examples of the options together.</p><ul><li>Sort in descending numeric "
    "order.</li></ul><pre>plotsort -n -r data.txt</pre><ul><li>Sort on the second field, "
    "ignoring leading blanks.</li></ul><pre>plotsort -k 2b data.txt</pre>"
    "<p>The sorted file can be plotted as it is."
)


def test_a_sentence_comes_with_the_command_below_it_that_shows_it(tmp_path) -> None:
    """The Coreutils manual shows "• Sort in descending (reverse) numeric order." above
    "sort -n -r": the sentence is whole, but a person asking how needs the command."""
    sections = [("1 Settings", FILLER), ("2 Sorting data", EXAMPLES), ("3 Figures", FILLER)]
    store = Store(tmp_path / "library.db")
    doc = add_path(store, sectioned_pdf(tmp_path / "manual.pdf", sections)).document
    question = "how do I sort numbers in descending order?"
    text = " ".join(select(store, [doc.id], question, 30).text.split())
    assert "Sort in descending numeric order. plotsort -n -r data.txt" in text
    shown = [c.evidence().text for c in pick(candidates(store, [doc.id], question), question)]
    assert shown[0].endswith("Sort in descending numeric order. plotsort -n -r data.txt")


def test_only_a_command_is_the_example_of_a_closed_sentence() -> None:
    sentence = _row(0, "Sort in descending numeric order.")
    command = _row(1, "sort -n -r")
    assert example_after([sentence, command], 0) == [1]
    same_paragraph = replace(command, paragraph=0)
    assert example_after([sentence, same_paragraph], 0) == []
    assert example_after([sentence, replace(command, heading="3 Other")], 0) == []
    for text in ("see ‘ls’,", "flags: additional flags (see below)", "A new sentence.", "‘-h’"):
        assert example_after([sentence, _row(1, text)], 0) == [], text
    open_sentence = _row(0, "Run it as")
    assert example_after([open_sentence, command], 0) == []  # a lead-in's business


def test_a_sentence_that_leans_back_does_not_bring_its_heading(tmp_path) -> None:
    """ "These options determine which files are listed." opens its section: the sentence
    before it is the heading, which the page marker names already (it was sent as
    "### 10.1.1 Which files are listed" under "[p. 86, 10.1.1 Which files are listed]")."""
    listing = (
        "These options determine which files the lister shows for each folder. By default "
        "the lister shows every file whose name does not start with a dot."
    )
    sections = [("1 Settings", FILLER), ("2 Which files are listed", listing)]
    store = Store(tmp_path / "library.db")
    doc = add_path(store, sectioned_pdf(tmp_path / "manual.pdf", sections)).document
    text = select(store, [doc.id], "which files does the lister show?", 200).text
    assert "These options determine which files" in text
    assert "### " not in text, text
