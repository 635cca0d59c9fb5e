"""Question coverage read in context: a sentence under its passage's title, the passage as a
whole, bridges named with a sentence's own title, and a second lexical round. Real PDFs
(PyMuPDF), a real library and MiniLM."""

from __future__ import annotations

import numpy as np
import pytest

from ctxchat.engines.select.selector import (
    SelectorOptions,
    content_stems,
    coverage_scores,
    feedback_terms,
    load_documents,
    section_mentions,
    select,
)
from ctxchat.engines.store.db import Store
from tests.select.library import sectioned_library

# A broadcaster's passage opens with who he is; the station he ran as programme director
# comes four sentences later and never repeats his full name. Two look-alike passages
# about other radio people say "programme director" and "radio station" in one sentence.
SECTIONS = [
    (
        "1 Keith Walsh",
        "Keith Walsh is an Irish radio presenter and former programme director of a Dublin "
        "radio station. He is married and has two children.",
    ),
    (
        "2 Nic Nolan",
        "Nic Nolan (born 1 May 1958 in Chiswick, London, England) is an Australian broadcast "
        "journalist and communications consultant working with both private enterprise and "
        "State and Local Government in Australia. Between 1988 and 2004, Nolan was the "
        "breakfast news anchor of a Perth radio station. Nolan was a finalist in the "
        "Australian Commercial Radio Awards in 2005. Nolan was "
        "General Manager of an Adelaide youth radio station from 2009. Before that, he was "
        "Programme Director of the Newstalk radio station 5AA from 2004 to 2008.",
    ),
    (
        "3 Mary Brennan",
        "Mary Brennan was the programme director of the radio station Classic Hits in Cork "
        "for ten years. She later taught journalism.",
    ),
    (
        "4 Port Adelaide",
        "Port Adelaide is a suburb of Adelaide. It has a lighthouse museum and a radio "
        "station transmitter.",
    ),
]
QUESTION = "Which radio station did Nic Nolan serve as Programme Director for?"
BEFORE = SelectorOptions(coverage_weight=0.0, passage_coverage_weight=0.0)


@pytest.fixture(scope="module")
def radio(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, int]:
    return sectioned_library(tmp_path_factory.mktemp("coverage"), "radio.pdf", SECTIONS)


@pytest.mark.parametrize("budget", [40, 60])
def test_the_sentence_adding_the_questions_other_words_is_selected(radio, budget: int) -> None:
    store, doc_id = radio
    sel = select(store, [doc_id], QUESTION, budget)
    assert "Programme Director of the Newstalk radio station 5AA" in sel.text
    assert sel.tokens <= budget
    # Before: the opening sentence, which names him in full, and sentences saying
    # "Nolan" and "radio" fill the budget; the station sentence says "he".
    old = select(store, [doc_id], QUESTION, budget, options=BEFORE)
    assert "5AA" not in old.text


def test_a_sentence_is_read_under_its_passages_title(radio) -> None:
    store, doc_id = radio
    indexes = load_documents(store, [doc_id])
    sentence, passage = coverage_scores(indexes, QUESTION)
    segs = indexes[0].segments
    by_text = {s.text: (sentence[k], passage[k]) for k, s in enumerate(segs)}
    station = by_text[
        "Before that, he was Programme Director of the Newstalk radio station 5AA from 2004 to 2008."
    ]
    opening = next(v for t, v in by_text.items() if t.startswith("Nic Nolan (born"))
    brennan = next(v for t, v in by_text.items() if t.startswith("Mary Brennan was"))
    # "he" holds no name, yet under the title "Nic Nolan" it holds all but "serve"
    assert station[0] > opening[0] > 0 and station[0] > brennan[0]
    assert 0.6 < station[0] < 1.0
    # A passage holds the union of its sentences and title: the same for all of them.
    nolan = [passage[k] for k, s in enumerate(segs) if s.heading and "Nolan" in s.heading]
    assert len(set(nolan)) == 1 and nolan[0] == pytest.approx(station[0])
    assert (passage >= sentence - 1e-12).all()
    assert coverage_scores(indexes, "the of and")[0].sum() == 0.0  # nothing to cover


def test_content_stems_meet_inflections_and_drop_question_words() -> None:
    assert content_stems("Which stations did he direct?") == content_stems("station directed")
    assert content_stems("collaborated") == content_stems("collaboration")
    assert content_stems("Which rivers did the bridge span") == {"river", "bridge", "span"}


ROUTES = [
    (
        "1 Maine State Route 102",
        "State Route 102 is a highway on Mount Desert Island. Its southern terminus is "
        "in Tremont on the southern part of the island.",
    ),
    ("2 Tremont, Maine", "Tremont is a town on the southwestern side of the island."),
    ("3 Route 102", "Route 102 is also a highway in Virginia."),
]


def _passages(tmp_path, sections_of_pdf) -> tuple[list, np.ndarray, list[str]]:
    """(sentences, their section numbers, section titles) of a real sectioned PDF."""
    from ctxchat.engines.select.selector import _all_sections

    store, doc_id = sectioned_library(tmp_path, "passages.pdf", sections_of_pdf)
    indexes = load_documents(store, [doc_id])
    sections, titles = _all_sections(indexes)
    return indexes[0].segments, sections, titles


def test_a_sentence_names_a_passage_together_with_its_own_title(tmp_path) -> None:
    segs, sections, titles = _passages(tmp_path, ROUTES)
    row = next(k for k, s in enumerate(segs) if s.text.startswith("Its southern terminus"))
    tremont = titles.index("tremont, maine")
    plain = section_mentions(segs, sections, titles, [row], by_words=True)
    context = section_mentions(segs, sections, titles, [row], by_words=True, in_context=True)
    assert not plain[tremont] and context[tremont]
    # A title that the sentence's own title already holds is no bridge: the sentence must
    # add a word of it.
    assert not context[titles.index("route 102")]


def test_feedback_terms_are_the_names_the_question_lacks() -> None:
    text = (
        "The truck is designed to be compatible with the Hercules C-130 transport and "
        "fits into a standard German railway carriage."
    )
    question = "How many variants of the transport aircraft fit the Mercedes-Benz truck?"
    assert feedback_terms([text], question) == ["Hercules", "C-130", "German"]
    assert feedback_terms(["The Truck was built."], question) == []
    assert isinstance(np.zeros(1), np.ndarray)


# A manual's one-word headings: an option set as a heading, a common word as a title, and
# a name. "block size" in the first passage names none of the first two.
MANUAL = [
    (
        "1 Copying with dd",
        "The dd command copies input to output with a changeable block size. It reports "
        "its progress when asked. Brutus wrote the first version of it.",
    ),
    ("2 --size", "Print the allocation of each file to the left of its name."),
    ("3 Size", "Sizes are printed in units of 1024 bytes unless told otherwise."),
    ("4 Brutus", "Brutus is a programmer who maintains several tools."),
    ("5 -s", "Print only a total for each argument given."),
]


def test_a_one_word_title_is_named_only_as_its_heading_writes_it(tmp_path) -> None:
    segs, sections, titles = _passages(tmp_path, MANUAL)
    rows = [k for k, s in enumerate(segs) if s.heading and "dd" in s.heading and s.text[:1] != "#"]
    named = section_mentions(segs, sections, titles, rows, by_words=True, in_context=True)
    by_heading = {segs[k].heading: bool(named[sections[k]]) for k in range(len(segs))}
    assert by_heading["4 Brutus"]  # written as its heading writes it
    assert not by_heading["2 --size"] and not by_heading["3 Size"]  # "block size" is no name
    # An option's heading is its letters, not its marks: "-s" is too short to be a title.
    assert titles[sections[next(k for k, s in enumerate(segs) if s.heading == "5 -s")]] == ""
