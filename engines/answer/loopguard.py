"""Stops an answer that loops: small models repeat a sentence, or a phrase, until the limit.

Fed the answer piece by piece as it streams, LoopGuard says when to stop: when a finished
sentence repeats one already said (so no sentence appears more than twice), or when the
last few words have already come three times (a loop with no sentence end, "1.23 1.23 ...").
It works on text, so it guards every reader: llama.cpp in process or a server.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_WORD = re.compile(r"\w+")
# Shorter sentences ("Yes.", "[p. 3].") may repeat without being a loop.
MIN_SENTENCE_WORDS = 4
NGRAM = 6
NGRAM_REPEATS = 3


def _normal(sentence: str) -> str:
    return " ".join(_WORD.findall(sentence.lower()))


@dataclass
class LoopGuard:
    """feed(piece) -> True once the answer so far is looping."""

    text: str = ""
    looping: bool = False
    _seen: set[str] = field(default_factory=set)
    _done: int = 0  # finished sentences already checked

    def feed(self, piece: str) -> bool:
        if self.looping:
            return True
        self.text += piece
        self.looping = self._sentence_repeats() or self._ngram_repeats()
        return self.looping

    def _sentence_repeats(self) -> bool:
        finished = _SENTENCE_END.split(self.text)[:-1]  # the last one may still grow
        for sentence in finished[self._done :]:
            key = _normal(sentence)
            self._done += 1
            if len(key.split()) < MIN_SENTENCE_WORDS:
                continue
            if key in self._seen:
                return True
            self._seen.add(key)
        return False

    def _ngram_repeats(self) -> bool:
        words = _WORD.findall(self.text.lower())
        if len(words) < NGRAM * NGRAM_REPEATS:
            return False
        tail = words[-NGRAM:]
        count = sum(1 for i in range(len(words) - NGRAM + 1) if words[i : i + NGRAM] == tail)
        return count >= NGRAM_REPEATS
