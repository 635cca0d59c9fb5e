"""Document-level priors for global mode: repeated words and parenthetical asides.

A word classifier scores each mention of a name alone, so a name a document is about
("Kansas City", twenty times) fills a low rate with copies of itself while names said once
fall under the threshold. What a reader needs is each name once: the first mention of a
word that recurs gets a small bonus (the document is about it), later mentions a small
penalty (the reader has seen it). Words inside parentheses are asides (translations,
native spellings, alternative names) and rank a little lower. Rules over the original text
only; chosen on the real-prose dev splits (benchmarks/prose_survival_bench.py).
"""

from __future__ import annotations

import numpy as np

FIRST_BONUS = 0.15
LATER_PENALTY = 0.05
PAREN_PENALTY = 0.1


def mention_priors(text: str, words: list[str], starts: np.ndarray) -> np.ndarray:
    """An additive prior per word: repeats and parentheticals (zeros elsewhere)."""
    if not len(words):
        return np.zeros(0, dtype=np.float64)
    return repeat_priors(words) - PAREN_PENALTY * in_parentheses(text, starts)


def repeat_priors(words: list[str]) -> np.ndarray:
    """+FIRST_BONUS for the first mention of a word that recurs (any case), -LATER_PENALTY for
    its later mentions; marks and words with marks inside (numbers, "T-shirts") get 0."""
    ids: dict[str, int] = {}
    inv = np.fromiter(
        (ids.setdefault(w.lower() if w.isalnum() else "", len(ids)) for w in words),
        dtype=np.int64,
        count=len(words),
    )
    counts = np.bincount(inv)
    position = np.arange(len(words))
    first = np.full(len(ids), len(words))
    np.minimum.at(first, inv, position)
    out = np.where(position == first[inv], FIRST_BONUS * (counts[inv] > 1), -LATER_PENALTY)
    if "" in ids:
        out[inv == ids[""]] = 0.0
    return out


def in_parentheses(text: str, starts: np.ndarray) -> np.ndarray:
    """True for words that start inside an open round bracket (the brackets themselves too)."""
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    step = (codes == ord("(")).astype(np.int32) - (codes == ord(")"))
    depth = np.concatenate(([0], np.cumsum(step)))
    return (depth[starts] > 0) | (codes[starts] == ord("("))
