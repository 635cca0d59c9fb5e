"""Command-line options a question names ("what does ls -h do?").

A manual lists a command's options as item lines ("‘-h’ ‘--human-readable’") with the
description below them. Neither BM25 (its tokenizer keeps "h") nor the embedder reads an
option, and several commands share one ("-h" is sort's human-numeric sort and ls's
human-readable sizes). The description under an item line that lists the option gets a
score, more where the section or one of the sections it is numbered under ("10.1 ‘ls’"
over "10.1.2 What information is listed") names a word of the question.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from ctxchat.engines.store.db import SegmentRow

# "-h", "--human-readable", "--sort=WHEN" (the value left out): after a space, an opening
# quote or bracket, or a straight quote that opens ("'-h'", not ""Virtual Choir"-noted").
_LITERAL = re.compile(
    r"(?:(?<=[\s\u2018\u201c(])|(?<=\s['\"`])|(?<=^['\"`])|^)(--?[A-Za-z0-9][\w-]*)"
)
_QUOTES = "'\"`\u2018\u2019\u201c\u201d"
# One entry of an item line: an option with its value ("--tabsize=COLS", "--follow[=HOW]")
# or a metavariable standing alone ("COLS" of "-T COLS", "POS1[,POS2]" of "-k").
_ENTRY = re.compile(r"--?[A-Za-z0-9][\w-]*(?:\[?=\S*)?|\[?[A-Z][A-Z0-9_,.\[\]=+-]*")
_NUMBER = re.compile(r"^\s*(\d+(?:\.\d+)*)\.?\s")
_WORD = re.compile(r"[a-z0-9]+")
# The description under an item line: at most this many sentences.
DESCRIPTION = 2
# Score of a description under the option's item line; doubled where the section's
# lineage names a word of the question.
ITEM_SCORE = 0.5
# ... and of a sentence that mentions the option in its prose.
MENTION_SCORE = 0.25


def option_literals(question: str) -> list[str]:
    """The options a question names, in order: "-h", "--human-readable"."""
    return list(dict.fromkeys(_LITERAL.findall(question)))


def item_options(text: str) -> frozenset[str] | None:
    """The options an item line lists ("‘-h’ ‘--human-readable’" -> {"-h",
    "--human-readable"}), or None when the text is more than a list of options."""
    rest = text.strip()
    if not rest.lstrip(_QUOTES).startswith("-"):
        return None  # most text, at once
    for q in _QUOTES:
        rest = rest.replace(q, " ")
    entries = [e for e in re.split(r"[\s,]+", rest) if e]
    if not entries or not entries[0].startswith("-"):
        return None
    joined = " ".join(entries)
    if _ENTRY.sub("", joined).strip(" ,"):
        return None
    found = (re.split(r"\[?=", m.group(0))[0] for m in _ENTRY.finditer(joined))
    return frozenset(e for e in found if e.startswith("-"))


def mentions(text: str, literal: str) -> bool:
    """`text` names the option as an option of its own ("‘-h’", "(-h)"), not inside a
    longer one ("--h", "-hs")."""
    return re.search(rf"(?<![\w-]){re.escape(literal)}(?![\w-])", text) is not None


def with_options(
    fused: np.ndarray,
    question: str,
    segments: Sequence[SegmentRow],
    weight: float,
    stopwords: frozenset[str] = frozenset(),
) -> np.ndarray:
    """`fused` plus `weight` times option_scores, each description ranked at least just
    below the item line above it (it is what the line means)."""
    scores = option_scores(question, segments, stopwords)
    if not scores.any():
        return fused
    out = fused + weight * scores
    for i in np.flatnonzero(scores).tolist():
        if item_options(segments[i].text) is not None:
            for k, j in enumerate(_description(segments, i), start=1):
                out[j] = max(out[j], out[i] - 1e-3 * k)
    return out


def option_scores(
    question: str, segments: Sequence[SegmentRow], stopwords: frozenset[str] = frozenset()
) -> np.ndarray:
    """Per sentence: ITEM_SCORE for an item line listing an option the question names and
    for the description under it, MENTION_SCORE for a sentence that mentions one; each
    doubled where the sentence's section lineage names a word of the question other than
    `stopwords` ("and" names no command)."""
    out = np.zeros(len(segments))
    literals = option_literals(question)
    if not literals:
        return out
    asked = set(_WORD.findall(_LITERAL.sub(" ", question.lower()))) - stopwords
    lineage = _lineage_words(segments)
    for i, seg in enumerate(segments):
        if not any(lit in seg.text for lit in literals):
            continue
        named = bool(lineage[i] & asked)
        listed = item_options(seg.text)
        if listed is not None and listed & set(literals):
            for j in [i, *_description(segments, i)]:
                out[j] = max(out[j], ITEM_SCORE * (2 if named else 1))
        elif any(mentions(seg.text, lit) for lit in literals):
            out[i] = max(out[i], MENTION_SCORE * (2 if named else 1))
    return out


def _description(segments: Sequence[SegmentRow], i: int) -> list[int]:
    """The sentences under item line i: up to DESCRIPTION, until the next item line, heading
    or section."""
    out: list[int] = []
    for j in range(i + 1, min(i + 1 + DESCRIPTION + 2, len(segments))):
        seg = segments[j]
        if (seg.doc_id, seg.heading) != (segments[i].doc_id, segments[i].heading):
            break
        if seg.text.startswith("#"):
            break
        if item_options(seg.text) is not None:
            if out:
                break
            continue  # the option's other spellings, set on lines of their own
        out.append(j)
        if len(out) >= DESCRIPTION:
            break
    return out


def _lineage_words(segments: Sequence[SegmentRow]) -> list[frozenset[str]]:
    """Per sentence, the words of its heading and of the headings it is numbered under
    ("10.1 ‘ls’: List directory contents" above "10.1.2 What information is listed")."""
    titles: dict[tuple[int, str], str] = {}
    cache: dict[tuple[int, str | None], frozenset[str]] = {}
    out = []
    for seg in segments:
        key = (seg.doc_id, seg.heading)
        if key not in cache:
            words = set(_WORD.findall((seg.heading or "").lower()))
            number = _NUMBER.match(seg.heading or "")
            if number:
                titles[(seg.doc_id, number.group(1))] = seg.heading or ""
                parts = number.group(1).split(".")
                for k in range(1, len(parts)):
                    parent = titles.get((seg.doc_id, ".".join(parts[:k])), "")
                    words |= set(_WORD.findall(parent.lower()))
            cache[key] = frozenset(words)
        out.append(cache[key])
    return out
