"""Reading llmlingua 0.2.2's word labels and comparing them with ctxchat's keep/drop words
(the equivalence tests and the compressor benchmark both use it)."""

from __future__ import annotations

import difflib
import unicodedata


def _norm(word: str) -> str:
    decomposed = unicodedata.normalize("NFD", word.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip(" ") or word


def llmlingua_labels(result: dict) -> list[tuple[str, int]]:
    pairs = []
    for item in result["fn_labeled_original_prompt"].split("\t\t|\t\t"):
        word, label = item.rsplit(" ", 1)
        pairs.append((word, int(label)))
    return pairs


def agreement(theirs: list[tuple[str, int]], words: list[str], keep: list[bool]) -> float:
    """Share of words on which both agree (keep/drop), after aligning the two word lists."""
    a = [_norm(w) for w, _ in theirs]
    b = [_norm(w) for w in words]
    same = 0
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            same += theirs[block.a + k][1] == int(keep[block.b + k])
    return same / max(len(a), len(b))
