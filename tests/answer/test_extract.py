"""Extractive answers (engines/answer/extract.py): candidates of the asked-for kind from the
evidence, scored by the real bundled reader, the best one answered with its page."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from ctxchat.app.cli import main
from ctxchat.engines.answer.conversation import AskSettings, Conversation, ReaderChoice
from ctxchat.engines.answer.extract import Span, answer_text, candidate_spans, choose
from ctxchat.engines.answer.grounding import UNSURE
from ctxchat.engines.answer.llm import LocalLLM
from ctxchat.engines.answer.prompt import build_messages
from ctxchat.engines.ingest.library import ensure_document
from ctxchat.engines.store.db import Store
from devkit.docgen import filler_sentence, write_pdf

EVIDENCE = [
    'The film "Silver Harbour" was directed by Miriam Okafor and released on 4 May 1987.',
    "It was shot in Valparaiso, Chile, with a crew of 45 people.",
]


def test_candidates_are_things_of_the_asked_kind_the_question_does_not_name() -> None:
    who = candidate_spans('Who directed the film "Silver Harbour"?', EVIDENCE)
    assert [s.text for s in who][:2] == ["Miriam Okafor", "Valparaiso"]  # not the title
    assert all(s.text != "Silver Harbour" for s in who)
    when = candidate_spans("When was Silver Harbour released?", EVIDENCE)
    assert when[0] == Span("4 May 1987", 0)
    many = candidate_spans("How many people were in the crew of Silver Harbour?", EVIDENCE)
    assert [(s.text, s.sentence) for s in many] == [("45", 1)]  # no date is a count
    assert [s.text for s in candidate_spans("Is Silver Harbour a film?", EVIDENCE)] == [
        "yes",
        "no",
    ]
    choice = candidate_spans("Who was born first, Miriam Okafor or Ana Ruiz?", EVIDENCE)
    assert [s.text for s in choice] == ["Miriam Okafor", "Ana Ruiz"]
    assert candidate_spans("Who directed it?", ["No names here at all."]) == []


def test_a_word_capitalised_only_as_a_sentence_opener_is_no_place() -> None:
    """Found on a real spec: "where are the definitions installed?" was answered "Each"."""
    evidence = [
        "Each application will install a single XML file into one of the packages folders.",
        "Tarsdorf is a municipality in the district of Braunau am Inn.",
    ]
    context = "The database is rebuilt after each change. " + " ".join(evidence)
    spans = [
        s.text for s in candidate_spans("Where are the files installed?", evidence, text=context)
    ]
    assert "Each" not in spans
    assert "Tarsdorf" in spans and "XML" in spans  # names that open a sentence stay
    # Without the text around it, "Each" is never seen in lowercase: kept, as before.
    assert "Each" in [s.text for s in candidate_spans("Where are the files installed?", evidence)]


def test_the_best_scored_span_wins_and_its_share_is_the_confidence() -> None:
    spans = [Span("Miriam Okafor", 0), Span("Chile", 1)]
    found = choose(spans, [[-0.5, -0.1], [-3.0]])
    assert found is not None and found.span.text == "Miriam Okafor"
    assert 0.9 < found.confidence < 1.0
    assert found.candidates[0][0] == "Miriam Okafor"
    assert answer_text(found.span, [12, 13]) == "Miriam Okafor [p. 12]"
    assert answer_text(Span("yes", 0), [None]) == "Yes"
    assert choose([], []) is None


@pytest.mark.slow
def test_the_bundled_reader_scores_spans_once_and_leaves_its_cache_as_it_was() -> None:
    llm = LocalLLM(n_ctx=1024)
    try:
        messages = build_messages("[p. 3] " + " ".join(EVIDENCE), "Who directed Silver Harbour?")
        spans = ["Miriam Okafor", "Valparaiso", "Chile"]
        first = llm.continuation_logprobs(messages, spans, "Answer:")
        assert llm.last_stats.finish == "extracted" and llm.last_stats.evaluated_tokens > 50
        again = llm.continuation_logprobs(messages, list(reversed(spans)), "Answer:")
        assert llm.last_stats.evaluated_tokens == 0  # the prompt was read once
        assert [len(lp) for lp in first] == [len(lp) for lp in reversed(again)]
        for a, b in zip(first, reversed(again), strict=True):
            assert a == pytest.approx(b, abs=1e-3)  # no candidate leaks into another's score
        assert all(lp < 0 for row in first for lp in row)
        assert sum(first[0]) > sum(first[1])  # the director, not the city
        # Generation afterwards reads the same cache as a cold model would.
        warm = llm.complete(messages, max_tokens=12)
        llm.reset()
        assert llm.complete(messages, max_tokens=12) == warm
    finally:
        llm.close()


def _film_pdf(path: Path) -> None:
    rng = random.Random(4)
    pages = [[" ".join(filler_sentence(rng) for _ in range(4)) for _ in range(4)] for _ in range(5)]
    pages[2].append(
        "The harbour film Silver Harbour was released on 4 May 1987, ten years after its "
        "director Miriam Okafor opened her studio in 1977."
    )
    write_pdf(path, pages)


@pytest.mark.slow
def test_ask_answers_with_a_span_of_the_evidence_and_its_page(tmp_path: Path, capsys) -> None:
    path = tmp_path / "films.pdf"
    _film_pdf(path)
    question = "When was the harbour film Silver Harbour released?"
    settings = AskSettings(reader=ReaderChoice(n_ctx=1024), budget=300)
    with Store() as store:
        conversation = Conversation(store, [ensure_document(store, path).id], settings)
        try:
            result = conversation.ask(question).run()
            written = Conversation(store, conversation.doc_ids, AskSettings(
                reader=ReaderChoice(n_ctx=1024), budget=300, max_tokens=24, extractive=False
            ), reader=conversation.reader()).ask(question).run()  # fmt: skip
        finally:
            conversation.close()
    stats = result.stats.as_dict()
    assert stats["answer_mode"] == "extractive" and written.stats.candidates is None
    assert result.answer == "4 May 1987 [p. 3]" and result.pages == [3]
    assert any("4 May 1987" in e.text for e in result.evidence)
    assert 0 < result.stats.confidence <= 1
    assert result.mark in (None, UNSURE)
    assert result.stats.answer.generation.finish == "extracted"
    assert main(["ask", str(path), question, "--json", "--n-ctx", "1024"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"answer", "pages", "evidence", "grounded", "stats", "mark"} <= set(out)
    assert out["answer"] == result.answer and out["stats"]["candidates"][0][0] == "4 May 1987"


def test_a_choice_is_cited_by_the_sentence_that_names_the_option() -> None:
    evidence = [
        "Copper Valley is a 1991 film shot in Lisbon.",
        'The film "Silver Harbour" was directed by Miriam Okafor and released on 4 May 1987.',
    ]
    spans = candidate_spans("Which film came out first, Silver Harbour or Copper Valley?", evidence)
    assert spans == [Span("Silver Harbour", 1), Span("Copper Valley", 0)]
    # Options as the question writes them, articles and all.
    saimaa = candidate_spans(
        "Which documentary was produced first, The Saimaa Gesture or Eclipse of Reason?",
        ["The Saimaa Gesture is a 1981 Finnish documentary."],
    )
    assert [s.text for s in saimaa] == ["The Saimaa Gesture", "Eclipse of Reason"]
    assert saimaa[0].sentence == 0


def _choice_pdf(path: Path) -> None:
    rng = random.Random(7)
    pages = [[" ".join(filler_sentence(rng) for _ in range(4)) for _ in range(4)] for _ in range(5)]
    pages[1].append("Copper Valley is a harbour film released in 1991 and shot in Lisbon.")
    pages[3].append(
        "Silver Harbour is a harbour film released on 4 May 1987, directed by Miriam Okafor."
    )
    write_pdf(path, pages)


@pytest.mark.slow
def test_a_choice_question_gets_one_option_as_the_answer(tmp_path: Path) -> None:
    path = tmp_path / "harbour-films.pdf"
    _choice_pdf(path)
    question = "Which harbour film was released first, Silver Harbour or Copper Valley?"
    settings = AskSettings(reader=ReaderChoice(n_ctx=1024), budget=300)
    with Store() as store:
        conversation = Conversation(store, [ensure_document(store, path).id], settings)
        try:
            result = conversation.ask(question).run()
        finally:
            conversation.close()
    assert result.stats.as_dict()["answer_mode"] == "extractive"
    options = {"Silver Harbour": 4, "Copper Valley": 2}
    named = [o for o in options if o in result.answer]
    assert len(named) == 1  # one option, never both
    assert result.pages == [options[named[0]]]  # the page of the sentence naming it
    assert {c[0] for c in result.stats.candidates or ()} == set(options)
    assert 0.5 <= result.stats.confidence <= 1  # two options: the best holds half or more
    assert result.mark in (None, UNSURE)
