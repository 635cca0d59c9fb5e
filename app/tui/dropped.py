"""Which words of the source the compressor dropped, for the context panel's struck-out view.

The pipeline reports each span's kept text and its source (the selected sentences before
pruning). The compressor only deletes words (keeping a dropped word's final punctuation,
a force token), so an in-order alignment of the kept words against the source words
recovers every dropped one: align_to_source. Results cached before spans carried a source
fall back to align_kept, a forward match against the page's stored sentences. Display
only: what was sent is always the kept text itself. piece_from_source also keeps the source's
spacing, so a dropped word's kept full stop stays glued to it ("time." not "time .").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

# How far ahead in the source a kept word is looked for before it is taken as unmatched.
LOOKAHEAD = 80


@dataclass(frozen=True)
class ContextPiece:
    """One piece of context: its words, each flagged kept or dropped, and where it is from."""

    words: Sequence[str]
    keep: Sequence[bool]
    page: int | None = None
    doc_name: str | None = None
    # The whitespace before each word as in the source ("" inside a word split in two);
    # None means one space between words.
    gaps: Sequence[str] | None = None
    section: str | None = None  # the heading it sits under, where known

    def gap(self, index: int) -> str:
        """What separates word `index` from the word before it ("" before the first)."""
        if index == 0:
            return ""
        return " " if self.gaps is None else self.gaps[index]


def _norm(word: str) -> str:
    return "".join(c for c in word.lower() if c.isalnum())


def align_kept(kept: Sequence[str], source: Sequence[str]) -> tuple[list[str], list[bool]]:
    """Words from the first to the last kept word, each flagged kept (True) or dropped."""
    words: list[str] = []
    flags: list[bool] = []
    source_norm = [_norm(w) for w in source]
    pos: int | None = None  # next source index to read; None until the first match
    for word in kept:
        target = _norm(word)
        start = 0 if pos is None else pos
        stop = len(source) if pos is None else min(len(source), pos + LOOKAHEAD)
        hit = next((i for i in range(start, stop) if source_norm[i] == target and target), None)
        if hit is None:
            words.append(word)
            flags.append(True)
            continue
        if pos is not None:
            for i in range(pos, hit):
                words.append(source[i])
                flags.append(False)
        words.append(word)
        flags.append(True)
        pos = hit + 1
    return words, flags


_PUNCT = re.compile(r"[^\w\s]+")


def _match(kept: str, source: str) -> str | None:
    """How `kept` sits in the source word: "word" (the same word), "tail" (only its final
    punctuation was kept), "norm" (equal but for case/punctuation), or None."""
    if kept == source:
        return "word"
    if _PUNCT.fullmatch(kept) and source.endswith(kept) and len(source) > len(kept):
        return "tail"
    if _norm(kept) and _norm(kept) == _norm(source):
        return "norm"
    return None


def _align_indexed(
    kept: Sequence[str], source: Sequence[str]
) -> list[tuple[str, bool, int | None]]:
    """align_to_source, with the source index each shown word comes from (None: a kept word
    found nowhere in the source). A word split by a kept tail shows twice with one index."""
    shown: list[tuple[str, bool, int | None]] = []
    pos = 0
    for word in kept:
        hit = next(
            ((i, how) for i in range(pos, len(source)) if (how := _match(word, source[i]))),
            None,
        )
        if hit is None:
            shown.append((word, True, None))
            continue
        i, how = hit
        shown.extend((source[j], False, j) for j in range(pos, i))
        if how == "tail":
            shown.append((source[i][: -len(word)], False, i))
        shown.append((word, True, i))
        pos = i + 1
    shown.extend((source[j], False, j) for j in range(pos, len(source)))
    return shown


def align_to_source(kept: Sequence[str], source: Sequence[str]) -> tuple[list[str], list[bool]]:
    """Every source word in order, flagged kept (True) or dropped, for a kept subsequence.

    Each kept word takes the first source word it matches from where the last one ended
    (leftmost embedding). A dropped word whose punctuation was kept shows as the dropped
    word followed by the kept punctuation, as it was sent. A kept word with no match in
    the rest of the source (not expected) is shown kept where it stands.
    """
    shown = _align_indexed(kept, source)
    return [word for word, _, _ in shown], [flag for _, flag, _ in shown]


_WORD = re.compile(r"\S+")
# Tabs and other breaks inside a sentence are layout, shown as spaces; a newline is kept:
# only a code example's lines hold one (engines/ingest/segment.py code_units).
_LAYOUT = re.compile(r"[\t\r\f\v]")


def piece_from_source(
    kept_text: str,
    source_text: str,
    page: int | None = None,
    doc_name: str | None = None,
    section: str | None = None,
) -> ContextPiece:
    """The piece for a span: every source word flagged kept or dropped, each preceded by the
    whitespace the source has before it, so the view reads as the source does."""
    matches = list(_WORD.finditer(source_text))
    source = [m.group() for m in matches]
    before = [
        "" if k == 0 else _LAYOUT.sub(" ", source_text[matches[k - 1].end() : m.start()])
        for k, m in enumerate(matches)
    ]
    words: list[str] = []
    keep: list[bool] = []
    gaps: list[str] = []
    last_index: int | None = None
    for word, flag, index in _align_indexed(kept_text.split(), source):
        if not words:
            gap = ""
        elif index is None:
            gap = " "
        elif index == last_index:
            gap = ""  # the kept punctuation of a dropped word: part of the same word
        else:
            gap = before[index]
        words.append(word)
        keep.append(flag)
        gaps.append(gap)
        last_index = index
    return ContextPiece(words, keep, page, doc_name, gaps, section)
