"""Document-level priors: repeated words and parentheticals (engines/compress/mentions.py)."""

from __future__ import annotations

import re

import numpy as np

from ctxchat.engines.compress import mentions
from ctxchat.engines.compress.protect import protected_words
from ctxchat.engines.compress.spans import span_scores
from ctxchat.engines.compress.thresholds import keep_global
from ctxchat.engines.compress.wordmap import rebuild

TEXT = (
    "Kansas City lies on the river. Kansas City grew fast. Kansas City has a jazz museum "
    "(Museu de Jazz, in Portuguese). Rome has one too."
)


def _words(text: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    spans = [m.span() for m in re.finditer(r"\w+|[^\w\s]", text)]
    starts = np.array([a for a, _ in spans], dtype=np.int32)
    ends = np.array([b for _, b in spans], dtype=np.int32)
    return starts, ends, [text[a:b] for a, b in spans]


def test_first_mention_of_a_repeated_word_ranks_first_and_later_ones_last() -> None:
    starts, ends, words = _words(TEXT)
    prior = mentions.repeat_priors(words)
    kansas = [i for i, w in enumerate(words) if w == "Kansas"]
    assert prior[kansas[0]] == mentions.FIRST_BONUS
    assert np.all(prior[kansas[1:]] == -mentions.LATER_PENALTY)
    assert prior[words.index("Rome")] == 0.0  # said once
    assert prior[words.index("lies")] == 0.0
    assert np.all(prior[[i for i, w in enumerate(words) if w == "."]] == 0.0)  # marks


def test_words_in_parentheses_rank_lower() -> None:
    starts, ends, words = _words(TEXT)
    aside = mentions.in_parentheses(TEXT, starts)
    inside = {w for w, a in zip(words, aside, strict=True) if a}
    assert inside == {"(", "Museu", "de", "Jazz", ",", "in", "Portuguese", ")"}
    prior = mentions.mention_priors(TEXT, words, starts)
    assert prior[words.index("Museu")] == -mentions.PAREN_PENALTY


def test_a_low_rate_keeps_each_name_once_before_its_repeats() -> None:
    starts, ends, words = _words(TEXT)
    # The model scores every name alike: repeats would fill the budget before "Rome".
    p = np.array([0.9 if w[:1].isupper() else 0.2 for w in words], dtype=np.float32)
    protected = protected_words(TEXT, starts, ends)
    scores = span_scores(TEXT, starts, ends, p, protected)
    none = np.zeros(len(words), dtype=bool)
    tokens = np.ones(len(words), dtype=np.int32)
    out = rebuild(TEXT, starts, ends, keep_global(scores, tokens, 4, protected, none)[0])
    assert out.count("Kansas City") == 1 and "Rome" in out, out
    plain = rebuild(TEXT, starts, ends, keep_global(p, tokens, 4, protected, none)[0])
    assert "Rome" not in plain  # ties go to the earlier words without the priors
