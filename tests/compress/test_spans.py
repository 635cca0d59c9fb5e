"""Span priors: names, titles, numbers and dates come out whole (engines/compress/spans.py)."""

from __future__ import annotations

import re

import numpy as np

from ctxchat.engines.compress.protect import protected_words
from ctxchat.engines.compress.spans import CAPITAL_PRIOR, span_scores
from ctxchat.engines.compress.thresholds import keep_global
from ctxchat.engines.compress.wordmap import rebuild


def _words(text: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    spans = [m.span() for m in re.finditer(r"\w+|[^\w\s]", text)]
    starts = np.array([a for a, _ in spans], dtype=np.int32)
    ends = np.array([b for _, b in spans], dtype=np.int32)
    return starts, ends, [text[a:b] for a, b in spans]


def _scores(text: str, probs: dict[str, float], default: float = 0.3) -> tuple:
    starts, ends, words = _words(text)
    p = np.array([probs.get(w, default) for w in words], dtype=np.float32)
    protected = protected_words(text, starts, ends)
    return starts, ends, words, p, protected, span_scores(text, starts, ends, p, protected)


def _keep_top(text: str, starts, ends, scores, protected, share: float) -> str:  # type: ignore[no-untyped-def]
    tokens = np.ones(len(scores), dtype=np.int32)
    none = np.zeros(len(scores), dtype=bool)
    keep, _ = keep_global(scores, tokens, share * len(scores), protected, none)
    return rebuild(text, starts, ends, keep)


def test_comma_between_names_follows_the_names() -> None:
    text = "The band formed in Fujioka, Gunma and toured widely in the north."
    starts, ends, words, p, protected, s = _scores(
        text, {"Fujioka": 0.9, "Gunma": 0.85, ",": 0.1, "band": 0.6}
    )
    comma = words.index(",")
    assert s[comma] == min(s[comma - 1], s[comma + 1])
    out = _keep_top(text, starts, ends, s, protected, 0.3)
    assert "Fujioka, Gunma" in out


def test_dates_ranges_and_units_stay_whole() -> None:
    text = "He was born April 1, 1949 and served from 1969 until 1974 in 70 countries."
    starts, ends, words, p, protected, s = _scores(
        text, {"until": 0.05, "countries": 0.05, ",": 0.05}
    )
    out = _keep_top(text, starts, ends, s, protected, 0.6)
    for span in ("April 1, 1949", "1969 until 1974", "70 countries"):
        assert span in out, out
    # Without the priors the same probabilities cut every one of them apart.
    plain = _keep_top(text, starts, ends, p, protected, 0.6)
    assert not any(span in plain for span in ("April 1, 1949", "1969 until 1974", "70 countries"))


def test_quoted_titles_and_possessives_are_kept_whole() -> None:
    text = 'She co-founded "The Conversation" and was voted World\'s Best Goalkeeper twice.'
    starts, ends, words, p, protected, s = _scores(
        text, {"Conversation": 0.95, "World": 0.9, "Best": 0.9, "Goalkeeper": 0.9}, 0.1
    )
    the = words.index("The")
    assert s[the] == s[words.index("Conversation")]
    out = _keep_top(text, starts, ends, s, protected, 0.5)
    assert "The Conversation" in out and "World's Best Goalkeeper" in out, out


def test_capitalised_words_get_the_prior_and_others_keep_their_probability() -> None:
    text = "Many people visited Rome in the summer months."
    starts, ends, words, p, protected, s = _scores(text, {"Rome": 0.5, "summer": 0.7})
    assert np.isclose(s[words.index("Rome")], 0.5 + CAPITAL_PRIOR)
    assert s[words.index("summer")] == np.float32(0.7)
    assert s.dtype == np.float32 and len(s) == len(words)
    empty = np.zeros(0, dtype=np.int32)
    assert len(span_scores("", empty, empty, np.zeros(0, np.float32), empty.astype(bool))) == 0


def test_a_capitalised_the_joins_the_name_after_it() -> None:
    text = "The Bomb Factory is a music venue. Visitors like the place."
    starts, ends, words, p, protected, s = _scores(text, {"Bomb": 0.9, "Factory": 0.8}, 0.2)
    assert s[0] == s[1] == s[2]
    # Lowercase: an ordinary word, not raised to the name's (a repeat of "The", so lower).
    assert s[words.index("the")] <= np.float32(0.2)
    plain = span_scores(text, starts, ends, p, protected, whole_names=False)
    assert plain[0] < plain[1]


def test_initials_and_possessives_join_the_names_around_them() -> None:
    text = "Last year the prize for World's Best Goalkeeper went to Charles A. Agemian of Ghent."
    names = ("World's Best Goalkeeper", "Charles A. Agemian")
    low = {w: 0.1 for w in ("World", "'", "s", "Best", "Charles", "A", ".")}
    starts, ends, words, p, protected, s = _scores(
        text, {**low, "Goalkeeper": 0.95, "Agemian": 0.95, "Ghent": 0.9}, 0.3
    )
    for name in names:
        a, b = text.index(name), text.index(name) + len(name)
        assert np.all(s[(starts >= a) & (ends <= b)] >= 0.95), name
    out = _keep_top(text, starts, ends, s, protected, 0.5)
    plain = _keep_top(text, starts, ends, p, protected, 0.5)
    for name in names:
        assert name in out, out
        assert name not in plain, plain


def test_a_quantifier_before_a_number_follows_the_number() -> None:
    text = "It has operations in more than 70 countries and nearly 900 offices around here."
    starts, ends, words, p, protected, s = _scores(text, {"more": 0.05, "than": 0.05}, 0.1)
    out = _keep_top(text, starts, ends, s, protected, 0.5)
    assert "more than 70 countries" in out and "nearly 900 offices" in out, out
    plain = _keep_top(text, starts, ends, p, protected, 0.5)
    assert "more than 70" not in plain and "nearly 900" not in plain, plain
    assert s[words.index("around")] < s[words.index("nearly")]  # no number after it
