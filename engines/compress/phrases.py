"""Multi-word names as units: "Chief of Protocol", "Bank of England", "Las Vegas Strip".

Questions about real prose ask for whole names and titles, and a name with one word dropped
("Chief Protocol") no longer answers them. In global mode the compressor gives every word of
a name the best keep-probability among its words, so a name is kept or dropped whole instead
of losing its lowercase joiners or its least surprising part first. Rules over the original
text only (capital letters, joiners, spacing): no model, no language data beyond a word list.
"""

from __future__ import annotations

import numpy as np

# Lowercase words that sit inside names and titles.
JOINERS = frozenset("of the and for de da del della di du la le van von der den y".split())
# Capitalised words that are not names on their own (sentence openers, pronouns).
NOT_NAMES = frozenset(
    "a an the this that these those it its he she his her they their we our i you your "
    "in on at of for and but or if when while after before as by with from to".split()
)
_SENTENCE_END = (".", "!", "?", ":", ";")


def phrase_groups(text: str, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """A group id per word (-1: in no name): runs of two or more capitalised words, with
    joiners and in-word hyphens between them, on one line and with no punctuation between."""
    n = len(starts)
    groups = np.full(n, -1, dtype=np.int32)
    words = [text[a:b] for a, b in zip(starts.tolist(), ends.tolist(), strict=True)]
    caps = [w[:1].isupper() and w.lower() not in NOT_NAMES for w in words]
    gid = 0
    i = 0
    while i < n:
        if not caps[i]:
            i += 1
            continue
        members = [i]
        j = i + 1
        while j < n and "\n" not in text[ends[j - 1] : starts[j]]:
            if not (caps[j] or _links_names(words, j, ends[j - 1] == starts[j], caps)):
                break
            members.append(j)
            j += 1
        if sum(caps[k] for k in members) >= 2:
            groups[members] = gid
            gid += 1
        i = j
    return groups


def _links_names(words: list[str], j: int, tight: bool, caps: list[bool]) -> bool:
    """A joiner ("of") or an in-word hyphen ("Hork-Bajir") before another capitalised word."""
    if j + 1 >= len(words) or not caps[j + 1]:
        return False
    return words[j] in JOINERS or (tight and words[j] in ("-", "'", "’"))


def smooth_over_groups(probs: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Each grouped word gets the highest probability of its group; others keep theirs."""
    inside = groups >= 0
    if not inside.any():
        return probs
    best = np.full(int(groups.max()) + 1, -np.inf, dtype=np.float64)
    np.maximum.at(best, groups[inside], probs[inside])
    out = probs.astype(np.float64, copy=True)
    out[inside] = best[groups[inside]]
    return out.astype(probs.dtype)
