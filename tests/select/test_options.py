"""Command-line options a question names: a real manual PDF (PyMuPDF, options set in a
typewriter font above their descriptions), a real library and MiniLM."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctxchat.engines.answer.evidence import candidates, pick
from ctxchat.engines.ingest.library import add_path
from ctxchat.engines.select.options import (
    item_options,
    mentions,
    option_literals,
    option_scores,
)
from ctxchat.engines.select.selector import STOPWORDS, SelectorOptions, load_documents, select
from ctxchat.engines.store.db import Store
from devkit.docgen import story_pdf

FILLER = (
    "<p>Many programs share the options described in this chapter, and each program "
    "documents the ones it adds in its own section.</p>"
)
MANUAL = f"""
<h2>7.1 ‘sort’: Sort text files</h2>
<p>‘sort’ sorts, merges, or compares all the lines from the given files.</p>
<p><code>‘-h’ ‘--human-numeric-sort’</code></p>
<p>Sort numerically, first by numeric sign and then by the size suffix of each value.</p>
<p><code>‘-r’ ‘--reverse’</code></p>
<p>Reverse the result of comparison, so that lines with greater key values appear earlier.</p>
{FILLER * 3}
<h2>3.2 ‘tac’: Concatenate and write files in reverse</h2>
<p>‘tac’ copies each file to standard output, reversing the records in each.</p>
<p><code>‘-i’ ‘--ignore-case’</code></p>
<p>Compare the separators without regard to the case of their letters.</p>
{FILLER * 3}
<h2>10.1 ‘ls’: List directory contents</h2>
<p>The ‘ls’ program lists information about files of any type, including directories.</p>
<h3>10.1.2 What information is listed</h3>
<p>These options affect the information that ‘ls’ displays about each file.</p>
<p><code>‘-h’ ‘--human-readable’</code></p>
<p>Append a size letter to each size, such as M for mebibytes. Powers of 1024 are used, not
1000, so M stands for 1,048,576 bytes. Sizes are rounded up to the next unit.</p>
<p><code>‘-l’ ‘--format=long’</code></p>
<p>Produce long format.</p>
<p><code>‘-i’ ‘--inode’</code></p>
<p>Print the inode number of each file to the left of the file name.</p>
{FILLER * 3}
<h2>2 Common options</h2>
<p>Ambiguous options, such as ‘ls --h’, are identified as such by every program.</p>
<p>Some programs accept abbreviations of long options when they are not ambiguous.</p>
"""


def manual_pdf(path: Path) -> Path:
    css = "body{font-family:serif;font-size:10pt} code{font-family:monospace}"
    return story_pdf(path, MANUAL, css)


@pytest.fixture
def manual(tmp_path: Path) -> tuple[Store, int]:
    store = Store(tmp_path / "library.db")
    doc = add_path(store, manual_pdf(tmp_path / "manual.pdf")).document
    return store, doc.id


def test_the_options_a_question_names() -> None:
    assert option_literals("what does ls -h do?") == ["-h"]
    assert option_literals("is --human-readable like -h or --si") == [
        "--human-readable",
        "-h",
        "--si",
    ]
    assert option_literals("what is COVID-19 and up-to-date?") == []
    assert option_literals('What "Virtual Choir"-noted conductor?') == []  # a benchmark's
    assert option_literals("what does '-r' do") == ["-r"]


def test_an_item_line_lists_options_and_nothing_else() -> None:
    assert item_options("‘-h’ ‘--human-readable’") == {"-h", "--human-readable"}
    assert item_options("‘-T COLS’ ‘--tabsize=COLS’") == {"-T", "--tabsize"}
    assert item_options("‘-f’ ‘--follow[=HOW]’") == {"-f", "--follow"}
    assert item_options("‘-k POS1[,POS2]’") == {"-k"}
    assert item_options("-h or --help prints help") is None
    assert item_options("Append a size letter to each size.") is None


def test_an_option_is_mentioned_only_as_itself() -> None:
    assert mentions("For example, ‘--human-readable’ (‘-h’) prints", "-h")
    assert not mentions("Ambiguous options, such as ‘ls --h’, are", "-h")
    assert not mentions("use ‘-hs’ together", "-h")


def test_the_description_of_the_asked_commands_option_is_selected_with_its_line(
    manual: tuple[Store, int],
) -> None:
    store, doc_id = manual
    text = select(store, [doc_id], "what does ls -h do", 60).text
    # ls's "-h", not sort's, and the description with the line that names the option
    assert "‘-h’ ‘--human-readable’ Append a size letter" in " ".join(text.split())
    assert "Sort numerically" not in text
    off = select(
        store, [doc_id], "what does ls -h do", 60, options=SelectorOptions(option_weight=0)
    )
    assert "Append a size letter" not in off.text  # what the option's score adds


def test_the_evidence_shows_the_option_and_its_description_first(
    manual: tuple[Store, int],
) -> None:
    store, doc_id = manual
    question = "what does ls -h do"
    shown = pick(candidates(store, [doc_id], question), question)
    first = shown[0].evidence().text
    assert first.startswith("‘-h’ ‘--human-readable’ Append a size letter"), first


def test_a_heading_names_the_command_only_by_a_word_that_is_not_a_stopword(
    manual: tuple[Store, int],
) -> None:
    """ "the difference between ls -h and ls -i": tac's title says "Concatenate and write",
    and "and" names no command."""
    store, doc_id = manual
    segs = load_documents(store, [doc_id])[0].segments
    question = "what is the difference between ls -h and ls -i"
    scores = option_scores(question, segs, STOPWORDS)
    row = {s.text: k for k, s in enumerate(segs)}
    tac = row["Compare the separators without regard to the case of their letters."]
    ls = row["Print the inode number of each file to the left of the file name."]
    assert scores[ls] == 2 * scores[tac] > 0
    assert option_scores(question, segs)[tac] == scores[ls]  # "and" would count


def test_two_options_asked_each_get_their_description(manual: tuple[Store, int]) -> None:
    store, doc_id = manual
    question = "what is the difference between ls -h and ls -i"
    shown = [c.evidence().text for c in pick(candidates(store, [doc_id], question), question)]
    assert any("Append a size letter" in t for t in shown), shown
    assert any("Print the inode number" in t for t in shown), shown


def test_a_short_description_of_the_asked_option_is_the_first_evidence(
    manual: tuple[Store, int],
) -> None:
    """ "Produce long format." is three words, too few for a sentence on its own, but it is
    the whole answer to "what does ls -l do?" with its option line."""
    store, doc_id = manual
    question = "what does ls -l do"
    first = pick(candidates(store, [doc_id], question), question)[0].evidence().text
    assert first == "‘-l’ ‘--format=long’ Produce long format.", first
