"""Words as the teacher, the student and the benchmark all see them.

A word is a whitespace-delimited chunk ("Paris," or "os.path.join"): the unit that is kept or
dropped. Its core (punctuation stripped from both ends) is what features look at.
"""

from __future__ import annotations

import re

_WORD_RE = re.compile(r"\S+")
_EDGE_PUNCT = "\"'()[]{}<>.,;:!?`*“”‘’«»—–-"

# Common English function words: they carry grammar, rarely facts. Our own list (the usual
# determiners, pronouns, auxiliaries, prepositions and conjunctions). Negations (no, not, nor)
# are left out on purpose: dropping them flips the meaning.
STOP_WORDS = frozenset(
    """
    a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each either few for
    from further had has have having he her here hers herself him himself his how however i if in
    into is it its itself just may me might more most must my myself now of off on once
    only or other ought our ours ourselves out over own same shall she should so some such than
    that the their theirs them themselves then there therefore these they this those though
    through thus to too under until up upon very was we were what when where whether which while
    who whom whose why will with within without would yet you your yours yourself yourselves
    indeed rather quite really simply actually certainly perhaps generally usually often
    """.split()
)


def word_spans(text: str) -> list[tuple[int, int]]:
    """Character spans (start, end) of the words of `text`, in order."""
    return [m.span() for m in _WORD_RE.finditer(text)]


def core(word: str) -> str:
    """The word without the punctuation around it ("(Paris)," -> "Paris")."""
    return word.strip(_EDGE_PUNCT)


def is_stop_word(word: str) -> bool:
    return core(word).lower() in STOP_WORDS


def sentence_initial(words: list[str]) -> list[bool]:
    """Whether each word opens a sentence (so its capital letter says nothing about a name)."""
    flags = []
    previous = ""
    for word in words:
        flags.append(not previous or previous.rstrip("\"')]”’").endswith((".", "!", "?", ":")))
        previous = word
    return flags
