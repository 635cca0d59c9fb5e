"""The note under an answer that cites no page: where its words were found."""

from __future__ import annotations

from ctxchat.app.tui.citations import matched_pages_note
from ctxchat.engines.answer.evidence import Evidence

EVIDENCE = [
    Evidence(
        "book.pdf", 13, "Western Star is a subsidiary of Daimler AG.", 0.7, "2.18 Western Star"
    ),
    Evidence(
        "book.pdf", 14, "Daimler AG is a German automotive corporation.", 0.6, "2.19 Daimler AG"
    ),
]


def test_a_matched_page_is_shown_with_its_section() -> None:
    note = matched_pages_note([14], "matched", EVIDENCE)
    assert note == "The answer matches p. 14 · 2.19 Daimler AG."


def test_several_matched_pages_are_listed_without_a_section() -> None:
    assert matched_pages_note([13, 14], "matched", EVIDENCE) == "The answer matches p. 13, 14."


def test_a_page_outside_the_evidence_has_no_section() -> None:
    assert matched_pages_note([40], "matched", EVIDENCE) == "The answer matches p. 40."


def test_no_note_when_the_answer_cites_its_pages_or_matches_none() -> None:
    assert matched_pages_note([13], "citations", EVIDENCE) is None
    assert matched_pages_note([], None, EVIDENCE) is None
