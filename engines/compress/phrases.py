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
APOSTROPHES = ("'", "’")


def phrase_groups(text: str, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """A group id per word (-1: in no name): runs of two or more capitalised words, with
    joiners, in-word hyphens, initials and possessives between them, on one line and with
    no other punctuation between."""
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
    """A joiner ("of"), an in-word hyphen ("Hork-Bajir"), an initial and its period ("John
    D. Rockefeller") or a possessive ("World's Best") between two capitalised words."""
    word, n = words[j], len(words)
    if tight:  # a possessive: the mark and its "s" both link
        if word in APOSTROPHES and j + 2 < n and words[j + 1] == "s" and caps[j + 2]:
            return True
        if word == "s" and words[j - 1] in APOSTROPHES and j + 1 < n and caps[j + 1]:
            return True
    initial = len(word) == 1 and word.isupper() and j + 2 < n  # "A" is no name, "A." is
    if initial and words[j + 1] == "." and caps[j + 2]:
        return True
    if j + 1 >= n or not caps[j + 1]:
        return False
    if word in JOINERS or (tight and word in ("-", *APOSTROPHES)):
        return True
    return tight and word == "." and len(words[j - 1]) == 1 and words[j - 1].isupper()


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
