"""Span priors for global mode: names, titles, numbers and dates are kept or dropped whole.

Questions about real prose ask for spans, not words: "Fujioka, Gunma", "April 1, 1949",
"1969 until 1974", "276,170 inhabitants", "World's Best Goalkeeper", a quoted title. A word
classifier scores each word alone, so at a low rate it keeps "Fujioka" and "Gunma" and drops
the comma between them, and the answer is no longer written. These rules adjust the model's
word probabilities before the one global threshold, over the original text only (capitals,
digits, quotes, spacing; no model, no word lists beyond a few function words):

- capitalised words get a small prior (names are what questions ask about most);
- a short double-quoted span shares its best probability (a title of a work);
- multi-word names, with their initials and possessives ("John D. Rockefeller", "World's
  Best Goalkeeper"), share their best probability (phrases.py), and a capitalised "The"
  before a name takes the name's ("The Bomb Factory");
- glue: punctuation inside a word ("World's", "T-shirts"), a comma between two names or
  numbers, and "to" / "until" / "and" / a dash between two numbers get the lower of their
  neighbours' values, so they are kept whenever both neighbours are;
- the word after a number ("70 countries") gets the number's value, and so does a
  quantifier before one ("more than 70", "nearly 900");
- the first mention of a word that recurs ranks a little higher, its later mentions and
  words in parentheses a little lower (mentions.py): a low rate keeps each name once.

Protected words (numbers, dates: protect.py) are kept whatever their probability, so as
neighbours they count PROTECTED_BONUS higher. Chosen on the real-prose dev split
(benchmarks/prose_survival_bench.py) and checked on the dev articles of benchmarks/realqa.py.
"""

from __future__ import annotations

import numpy as np

from ctxchat.engines.compress import mentions, phrases

# Dev: 0.05 kept as many answers at rate 0.5 as no prior and more at 0.33; 0.1-0.2 more
# still at 0.33 on the short documents but fewer at 0.5 on the long ones.
CAPITAL_PRIOR = 0.05
PROTECTED_BONUS = 0.5
MAX_TITLE_WORDS = 6
IN_WORD_GLUE = frozenset("'’-–/")
RANGE_WORDS = frozenset({"to", "until", "till", "through", "and", "-", "–", "—"})
# What a word can glue, as bits (one dict lookup per word): 1 in-word mark, 2 comma, 4 range.
_GLUE_KIND = {
    **{w: 1 for w in IN_WORD_GLUE},
    ",": 2,
    **{w: 4 for w in RANGE_WORDS},
    **{w.title(): 4 for w in RANGE_WORDS},
    "-": 5,
    "–": 5,
}
OPEN_QUOTES = ('"', "“")
CLOSE_QUOTES = ('"', "”")
# Words that qualify the number after them ("more than 70 countries", "over 40").
QUANTIFIERS = frozenset("over about around nearly almost approximately roughly some under".split())
QUANTIFIER_PAIRS = frozenset(
    {("more", "than"), ("less", "than"), ("fewer", "than"), ("at", "least"), ("up", "to")}
)
# Lowercase words that never carry a number's meaning ("in 1983 the ...").
FUNCTION_WORDS = frozenset(
    "a an the and or but of in on at to for from by with as is was were are be been it its "
    "this that which who when where while after before during since than then".split()
)


def span_scores(
    text: str,
    starts: np.ndarray,
    ends: np.ndarray,
    probs: np.ndarray,
    protected: np.ndarray,
    whole_names: bool = True,
) -> np.ndarray:
    """The words' keep scores after the span priors (same order and length as probs).
    whole_names=False leaves multi-word names to the model (each word scored alone)."""
    if len(probs) == 0:
        return probs
    words = [text[a:b] for a, b in zip(starts.tolist(), ends.tolist(), strict=True)]
    # Prefix counts over characters: digits in a word, line breaks between two words.
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    caps = np.array(
        [w[:1].isupper() and w.lower() not in phrases.NOT_NAMES for w in words], dtype=bool
    )
    digit_chars = np.concatenate(([0], np.cumsum((codes >= 48) & (codes <= 57))))
    digits = digit_chars[ends] > digit_chars[starts]
    protected = protected.astype(bool)
    newlines = np.concatenate(([0], np.cumsum(codes == 10)))
    score = probs.astype(np.float64) + CAPITAL_PRIOR * caps
    score += mentions.mention_priors(text, words, starts)
    score = _quoted_titles(text, words, starts, ends, score)
    if whole_names:
        score = phrases.smooth_over_groups(score, phrases.phrase_groups(text, starts, ends))
        gap_lines = newlines[starts[1:]] > newlines[ends[:-1]]
        score = _title_articles(words, gap_lines, score, caps)
    raised = score + PROTECTED_BONUS * protected
    strong = caps | digits | protected
    score = _glue(words, starts, ends, newlines, score, raised, strong, digits)
    score = _after_numbers(words, score, raised, digits)
    score = _before_numbers(words, score, raised, digits)
    return score.astype(np.float32)


def _quoted_titles(
    text: str, words: list[str], starts: np.ndarray, ends: np.ndarray, score: np.ndarray
) -> np.ndarray:
    """The words of a short quoted span on one line share its best score."""
    out = score.copy()
    n, i = len(words), 0
    while i < n:
        if words[i] in OPEN_QUOTES:
            j = i + 1
            while j < n and j <= i + MAX_TITLE_WORDS + 1 and words[j] not in CLOSE_QUOTES:
                j += 1
            closed = j < n and words[j] in CLOSE_QUOTES and j > i + 1
            if closed and "\n" not in text[starts[i] : ends[j]]:
                out[i + 1 : j] = out[i + 1 : j].max()
                i = j
        i += 1
    return out


def _title_articles(
    words: list[str], gap_lines: np.ndarray, score: np.ndarray, caps: np.ndarray
) -> np.ndarray:
    """A capitalised "The" right before a capitalised word takes that word's score."""
    out = score.copy()
    the = np.array([w == "The" for w in words[:-1]], dtype=bool)
    hit = np.flatnonzero(the & caps[1:] & ~gap_lines)
    out[hit] = np.maximum(out[hit], out[hit + 1])
    return out


def _glue(
    words: list[str],
    starts: np.ndarray,
    ends: np.ndarray,
    newlines: np.ndarray,
    score: np.ndarray,
    raised: np.ndarray,
    strong: np.ndarray,
    digits: np.ndarray,
) -> np.ndarray:
    """Joining words and marks take the lower of their neighbours' (raised) scores."""
    out = score.copy()
    if len(words) < 3:
        return out
    mid = words[1:-1]
    before, after = slice(0, -2), slice(2, None)
    kind = np.array([_GLUE_KIND.get(w, 0) for w in mid], dtype=np.int8)
    if not kind.any():
        return out
    tight = (ends[:-2] == starts[1:-1]) & (ends[1:-1] == starts[2:])
    in_word = tight & ((kind & 1) > 0)
    for c in np.flatnonzero(in_word).tolist():  # few: marks written inside a word
        in_word[c] = words[c][-1:].isalnum()
    first_alnum = np.zeros(len(mid), dtype=bool)
    for c in np.flatnonzero(in_word).tolist():
        first_alnum[c] = words[c + 2][:1].isalnum()
    comma = ((kind & 2) > 0) & ~in_word
    ranged = ((kind & 4) > 0) & ~in_word & ~comma
    one_line = newlines[starts[2:]] == newlines[ends[:-2]]
    joins = (
        (in_word & first_alnum)
        | (comma & strong[before] & strong[after] & one_line)
        | (ranged & digits[before] & digits[after])
    )
    possessive = (
        joins
        & in_word
        & np.array(
            [w in ("'", "’") and nxt == "s" for w, nxt in zip(mid, words[2:], strict=True)],
            dtype=bool,
        )
    )
    i = np.flatnonzero(joins & ~possessive) + 1
    out[i] = np.maximum(out[i], np.minimum(raised[i - 1], raised[i + 1]))
    i = np.flatnonzero(possessive) + 1  # World's: the mark and the "s" follow the word
    best = np.maximum(np.maximum(score[i], score[i + 1]), raised[i - 1])
    out[i] = best
    out[i + 1] = best
    return out


def _after_numbers(
    words: list[str], score: np.ndarray, raised: np.ndarray, digits: np.ndarray
) -> np.ndarray:
    """A lowercase content word right after a number is its unit or noun: it follows it."""
    out = score.copy()
    after = np.flatnonzero(digits[:-1]) + 1
    unit = [words[i][:1].islower() and words[i] not in FUNCTION_WORDS for i in after.tolist()]
    i = after[np.array(unit, dtype=bool)] if len(after) else after
    out[i] = np.maximum(out[i], raised[i - 1])
    return out


def _before_numbers(
    words: list[str], score: np.ndarray, raised: np.ndarray, digits: np.ndarray
) -> np.ndarray:
    """A quantifier right before a number ("more than 70") follows the number."""
    out = score.copy()
    for i in (np.flatnonzero(digits[1:]) + 1).tolist():
        prev = words[i - 1].lower()
        if prev in QUANTIFIERS:
            out[i - 1] = max(out[i - 1], raised[i])
        elif i >= 2 and (words[i - 2].lower(), prev) in QUANTIFIER_PAIRS:
            out[i - 2 : i] = np.maximum(out[i - 2 : i], raised[i])
    return out
