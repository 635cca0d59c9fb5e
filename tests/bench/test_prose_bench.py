"""The real-prose benchmark data and its scoring rules (no model needed)."""

from __future__ import annotations

import numpy as np

from benchmarks.prose_qa_data import load_prose_qa
from benchmarks.prose_survival_bench import compress_by_scores, present
from ctxchat.engines.tokens import count_tokens


def test_prose_qa_has_a_stable_dev_test_split_with_answers_in_the_text() -> None:
    docs = load_prose_qa()
    dev, test = load_prose_qa("dev"), load_prose_qa("test")
    assert len(docs) == len(dev) + len(test) >= 80
    assert {d.id for d in dev}.isdisjoint(d.id for d in test)
    assert min(len(dev), len(test)) >= 0.4 * len(docs)
    for d in docs:
        assert d.answer.lower() not in ("yes", "no")
        assert present(d.answer, d.text)
        assert d.text.count("\n\n") >= 5  # the ten paragraphs, not only the gold ones


def test_answers_must_survive_whole() -> None:
    assert present("Chief of Protocol", "as Chief  of Protocol.")
    assert not present("Chief of Protocol", "as Chief Protocol.")
    assert not present("1966", "in 19661")


def test_baselines_meet_the_kept_share() -> None:
    text = load_prose_qa("dev")[0].text
    scores = np.random.default_rng(0).random(len(text.split()))
    for rate in (0.5, 0.33):
        out = compress_by_scores(text, scores, rate)
        assert abs(count_tokens(out) / count_tokens(text) - rate) <= 0.02


def test_realqa_dev_questions_are_a_second_dev_set() -> None:
    from benchmarks.prose_survival_bench import realqa_dev_questions

    docs = realqa_dev_questions()
    assert len(docs) >= 99 and len({d.text for d in docs}) == 20
    assert {d.id for d in docs}.isdisjoint(d.id for d in load_prose_qa())
    assert all(present(d.answer, d.text) for d in docs)
