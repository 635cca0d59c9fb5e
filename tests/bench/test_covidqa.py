"""The second-genre QA set (benchmarks/covidqa.py): the shape of its derived file, offline."""

from __future__ import annotations

import pytest

from benchmarks import covidqa, realqa


@pytest.fixture(scope="module")
def data() -> covidqa.CovidQA:
    return covidqa.load()


def test_split_by_paper_with_enough_questions(data: covidqa.CovidQA) -> None:
    dev, test = data.articles("dev"), data.articles("test")
    assert 15 <= len(dev) <= 20 and 30 <= len(test) <= 40
    assert sum(len(d.questions) for d in dev) >= 80
    assert sum(len(d.questions) for d in test) >= 150
    # A split is a whole paper: no paper is tuned on and tested.
    assert all(len({q.split for q in d.questions}) == 1 for d in dev + test)
    ids = [q.id for q in data.questions]
    assert len(ids) == len(set(ids))
    assert all(3000 <= p["tokens"] <= 12000 for p in data.papers)
    assert all(p["licence"].startswith("cc-by") for p in data.papers)


def test_every_answer_is_in_its_evidence_and_at_most_two_paragraphs(
    data: covidqa.CovidQA,
) -> None:
    for paper in data.papers:
        paragraphs = [paper["title"], paper["abstract"]]
        paragraphs += [p for _, ps in paper["sections"] for p in ps]
        for q in paper["questions"]:
            answer = q["answer"]
            assert answer.lower() not in ("yes", "no") and len(answer.split()) <= 8
            assert all(e in paragraphs for e in q["evidence_paragraphs"])
            assert all(answer in e for e in q["evidence_paragraphs"] + q["evidence"])
            assert 1 <= sum(answer in p for p in paragraphs) <= 2


def test_papers_lay_out_as_articles_the_realqa_checks_accept(data: covidqa.CovidQA) -> None:
    doc = data.articles("dev")[0]
    assert doc.blocks[0].kind == "title" and doc.name.endswith(".pdf")
    assert any(b.kind == "section" and b.text == "Abstract" for b in doc.blocks)
    text = doc.text()
    for q in doc.questions:
        assert realqa.answer_survives(q, text) and realqa.evidence_intact(q, text)
    assert set(data.gold) == {q.id for q in data.questions}
