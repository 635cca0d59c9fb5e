"""Words a compressor must never drop: numbers, dates, identifiers, URLs, code, Markdown marks.

A token classifier happily drops "2019" or "user_id" at a high rate, and those are exactly
what questions ask about. The spans are found with regular expressions over the original text
and turned into a per-word mask with prefix sums (no loop per word).
"""

from __future__ import annotations

import re

import numpy as np

_MONTHS = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)

PROTECTED_PATTERNS = [
    # URLs and e-mail addresses
    re.compile(r"\b(?:https?|ftp)://[^\s<>\"')\]]+|\bwww\.[^\s<>\"')\]]+"),
    re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b"),
    # code: fenced blocks and inline spans
    re.compile(r"```.*?```", re.S),
    re.compile(r"`[^`\n]+`"),
    # numbers with their separators, units glued on, versions, dates like 2024-05-01, 3.14, 1,000
    re.compile(r"[$€£¥+-]?\d+(?:[.,:/-]\d+)*%?"),
    # dates written with month names: "5 March", "March 5"
    re.compile(rf"\b{_MONTHS}\b\.?(?=\s+\d)|(?<=\d\s){_MONTHS}\b"),
    # identifiers: snake_case, dotted.names, camelCase / PascalCase with inner capitals, ACRONYMS
    re.compile(r"\b[A-Za-z_][A-Za-z0-9]*(?:[_.][A-Za-z0-9_]+)+\b"),
    re.compile(r"\b[a-z]+[A-Z][A-Za-z0-9]*\b|\b[A-Z][a-z0-9]+[A-Z][A-Za-z0-9]*\b"),
    re.compile(r"\b[A-Z]{2,}[0-9]*s?\b"),
    # Markdown: heading lines, list markers, block quotes
    re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+[^\n]*", re.M),
    re.compile(r"^[ \t]*(?:[-*+]|\d{1,3}[.)])(?=[ \t])", re.M),
    re.compile(r"^[ \t]*>", re.M),
]


def protected_chars(text: str) -> np.ndarray:
    """Prefix sums of protected characters: words overlap a span when the sum grows."""
    diff = np.zeros(len(text) + 1, dtype=np.int32)
    opens: list[int] = []
    closes: list[int] = []
    for pattern in PROTECTED_PATTERNS:
        for m in pattern.finditer(text):
            a, b = m.span()
            if b > a:
                opens.append(a)
                closes.append(b)
    if opens:
        np.add.at(diff, np.asarray(opens), 1)
        np.add.at(diff, np.asarray(closes), -1)
    covered = (np.cumsum(diff[:-1]) > 0).astype(np.int32)
    return np.concatenate(([0], np.cumsum(covered)))


def protected_words(text: str, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """True for each word [start, end) that overlaps a protected span."""
    if len(starts) == 0:
        return np.zeros(0, dtype=bool)
    prefix = protected_chars(text)
    return prefix[ends] > prefix[starts]
