"""Which words of the source the compressor dropped, for the context panel's struck-out view.

The pipeline reports the kept text of each span; the compressor only deletes words, so the
kept words are a subsequence of the source sentences and a forward match recovers the
dropped ones in between. Display only: what was sent is always the kept text itself.
"""

from __future__ import annotations

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
