"""Manuals name commands by joining words ("xrange", "linewidth"): a question in plain
words ("the range of the x axis") must still find them. Real PDF (PyMuPDF), real library,
MiniLM."""

from __future__ import annotations

import dataclasses

import pytest

from ctxchat.engines.select.selector import (
    SelectorOptions,
    compound_words,
    load_documents,
    select,
)
from ctxchat.engines.store.db import Store
from tests.select.library import sectioned_library

# Like a plotting program's manual: the command that answers is one word, while look-alike
# sections say "x", "axis" and "range" in full, again and again.
SECTIONS = [
    (
        "Autoscale",
        "Autoscaling the x axis adjusts the x axis range to the data. Autoscaling may be chosen "
        "for the x axis, the y axis or all axes. The x axis range then follows the data range.",
    ),
    (
        "Link",
        "The link command ties the x2 axis to the x axis. Then both axes share one scale.",
    ),
    (
        "Xrange",
        "The set xrange command sets the horizontal range that will be displayed. Give the "
        "minimum and the maximum in square brackets.",
    ),
    (
        "Linewidth",
        "Every line style takes a linewidth option, a multiple of the terminal's default.",
    ),
    ("Southern", "The southernmost tic is drawn last."),
]
QUESTION = "how do I set the range of the x axis?"


@pytest.fixture(scope="module")
def manual(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, int]:
    return sectioned_library(tmp_path_factory.mktemp("compounds"), "manual.pdf", SECTIONS)


def test_a_compound_of_the_questions_words_is_found(manual) -> None:
    store, doc_id = manual
    indexes = load_documents(store, [doc_id])
    assert compound_words(indexes, QUESTION) == {"xrange": frozenset({"x", "range"})}
    # a plural joins in its singular form
    assert set(compound_words(indexes, "how wide are the lines?")) == set()
    assert "linewidth" in compound_words(indexes, "the width of the lines")
    # a longer form of one word is no compound; nor is a word joined with itself
    assert compound_words(indexes, "the southern most tic") == {}
    assert compound_words(indexes, "range range") == {}


def test_the_command_a_question_describes_is_selected(manual) -> None:
    store, doc_id = manual
    sel = select(store, [doc_id], QUESTION, 40)
    assert "The set xrange command sets the horizontal range" in sel.text
    assert sel.tokens <= 40
    # Reading words as written, the sections that spell out "x axis range" win.
    plain = dataclasses.replace(SelectorOptions(), compounds=False)
    old = select(store, [doc_id], QUESTION, 40, options=plain)
    assert "set xrange command" not in old.text


# Like a crypto library's manual: it writes hash names whole ("SHA256"); people write
# "SHA-256" or "sha 256", and a look-alike section spells "SHA-256" in passing.
HASHES = [
    (
        "SM3",
        "Its security and efficiency are said to be equivalent to SHA-256. It hashes a message "
        "into a digest of 256 bits.",
    ),
    (
        "SHA256",
        "SHA256 is a member of the SHA2 family. Call sha256_digest to compute the hash of the "
        "data given to sha256_update.",
    ),
    ("Versions", "Version 3 5 of the library added the functions of section 35."),
]


@pytest.fixture(scope="module")
def crypto(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, int]:
    return sectioned_library(tmp_path_factory.mktemp("hashes"), "crypto.pdf", HASHES)


def test_a_name_and_its_number_meet_the_name_written_whole(crypto) -> None:
    store, doc_id = crypto
    indexes = load_documents(store, [doc_id])
    assert compound_words(indexes, "how do I compute a SHA-256 hash?") == {
        "sha256": frozenset({"sha-25"})
    }
    assert "sha256" in compound_words(indexes, "how do I compute a sha 256 hash?")
    assert compound_words(indexes, "what came in version 3 5?") == {}  # two numbers: no name
    question = "how do I compute a SHA-256 hash of a message?"
    assert "Call sha256_digest to compute the hash" in select(store, [doc_id], question, 30).text
    plain = dataclasses.replace(SelectorOptions(), compounds=False)
    assert "sha256_digest" not in select(store, [doc_id], question, 30, options=plain).text


# Like a package manual: "how do I cite a package?" is answered under "Citation files",
# while another section says "package" more often.
CITING = [
    (
        "Citation files",
        "A file named CITATION is used by the citation function. It holds a bibentry call.",
    ),
    (
        "Encoding",
        "The function showNonASCII in package tools finds bytes in a package that are not "
        "ASCII, so a package can be checked before it is built.",
    ),
]


def test_a_verb_meets_the_noun_a_manual_names_it_by(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    store, doc_id = sectioned_library(tmp_path_factory.mktemp("citing"), "pkg.pdf", CITING)
    indexes = load_documents(store, [doc_id])
    question = "how do I cite a package?"
    assert compound_words(indexes, question) == {"citation": frozenset({"cite"})}
    assert compound_words(indexes, "how do I encode a package?") == {}  # no "encodation"
    assert "used by the citation function" in select(store, [doc_id], question, 25).text
