"""The reference-manual check: its questions file, and what counts as the answer shown."""

from __future__ import annotations

import json

from benchmarks.manual_check import QUESTIONS, shows
from ctxchat.engines.answer.evidence import Evidence


def test_every_question_has_a_short_answer_and_a_page() -> None:
    rows = [json.loads(line) for line in QUESTIONS.read_text().splitlines() if line]
    assert len(rows) == 24
    assert len({r["question"] for r in rows}) == 24
    for r in rows:
        assert r["question"].strip() and 0 < len(r["answer"].split()) <= 10
        assert 1 <= r["page"] <= 36


def test_the_answer_counts_in_a_sentence_or_the_section_title_above_it() -> None:
    sentence = Evidence(
        "m.pdf", 12, "Deletes the structure * structure .", 0.7, "asn1 delete structure2"
    )
    assert shows([sentence], "asn1_delete_structure2")  # the heading drew "_" as spaces
    assert shows([sentence], "Deletes the structure")
    assert not shows([sentence], "asn1_delete_element")
