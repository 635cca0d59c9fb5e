"""The real-text QA set (benchmarks/realqa.py): its data, PDFs and checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import realqa, realqa_bench
from ctxchat.engines.select.selector import SelectorOptions, blind_scores, select
from ctxchat.engines.store.db import Store
from ctxchat.engines.tokens import count_tokens


@pytest.fixture(scope="module")
def data() -> realqa.RealQA:
    return realqa.load()


def test_the_set_has_both_scales_and_a_fixed_split(data: realqa.RealQA) -> None:
    articles = data.articles()
    assert len(articles) == 65
    assert all(len(a.questions) == 5 for a in articles)
    assert {q.split for a in articles for q in a.questions} == {"dev", "test"}
    # A split is a whole article: no article is tuned on and tested.
    assert all(len({q.split for q in a.questions}) == 1 for a in articles)
    dev = data.articles(split="dev")
    assert 15 <= len(dev) <= 25 and all(a.questions[0].split == "dev" for a in dev)
    book = data.book()
    assert len(book.questions) >= 200
    assert sum(b.kind == "chapter" for b in book.blocks) == 42


def test_every_answer_is_in_its_evidence_and_its_document(data: realqa.RealQA) -> None:
    for doc in data.articles():
        text = doc.text()
        for q in doc.questions:
            assert q.answer.lower() not in ("yes", "no")
            assert q.evidence and all(q.answer in e for e in q.evidence)
            assert realqa.answer_survives(q, text) and realqa.evidence_intact(q, text)


def test_checks_tell_a_pruned_sentence_from_a_whole_one(data: realqa.RealQA) -> None:
    q = data.questions[0]
    sentence = q.evidence[0]
    assert realqa.evidence_intact(q, "Intro.\n" + sentence.replace(" ", "\n  ") + " More.")
    words = sentence.split()
    cut = " ".join(w for i, w in enumerate(words) if i % 4 != 1 or q.answer in w)
    assert not realqa.evidence_intact(q, cut)
    assert not realqa.answer_survives(q, "nothing here")


def test_an_article_goes_through_a_real_pdf_into_the_library(
    data: realqa.RealQA, tmp_path: Path
) -> None:
    doc = data.articles()[0]
    with Store(tmp_path / "lib.sqlite") as store:
        row = realqa.ingest(store, doc, tmp_path)
        assert 3000 <= row.tokens <= 10000 and row.pages >= 5
        segments = store.segments(row.id)
        text = realqa.document_text(store, row.id)
        # The running header and the page numbers are gone; headings are kept as such.
        assert doc.header not in text and "Page 2" not in text
        assert any(s.heading and s.heading.startswith("2 ") for s in segments)
        readable = list(realqa.readable(doc.questions, text))
        assert len(readable) >= 4
        q = readable[0]
        for method in ("lead", "blind", "bm25"):
            options = SelectorOptions(method=method)
            chosen = select(store, [row.id], q.question, 120, options=options)
            assert 0 < chosen.tokens <= 120
        lead = select(store, [row.id], q.question, 60, options=SelectorOptions(method="lead"))
        assert lead.segments[0].id == segments[0].id
        # The oracle: the cheapest sentence holding the answer, with its marker, if it fits.
        oracle = realqa_bench.oracle_run(store, [realqa_bench.Case(row.id, readable, {})])
        for question in readable:
            best = oracle(row.id, question.question, 400)
            assert realqa.answer_survives(question, best) and count_tokens(best) <= 400
            assert best.startswith("[p. ") and best.count("[p. ") == 1
        assert oracle(row.id, q.question, 3) == ""


def test_conversational_questions_are_lowercase_without_trailing_punctuation() -> None:
    asked = realqa_bench.conversational('Who wrote "Baby Driver?"')
    assert asked == 'who wrote "baby driver'
    assert realqa_bench.conversational("When was it built ?") == "when was it built"


def test_the_blind_baseline_prefers_sentences_full_of_facts(tmp_path: Path) -> None:
    from ctxchat.engines.pipeline import add_text

    text = (
        "The town is quiet and the people are kind. "
        "Mayor Olsztyn Brekke opened the Varga Mill on 3 May 1911 for 4,200 crowns. "
        "The weather is often mild in the spring."
    )
    with Store(tmp_path / "lib.sqlite") as store:
        row = add_text(store, text)
        scores = blind_scores(store.segments(row.id))
    assert scores.argmax() == 1 and scores[0] == 0
