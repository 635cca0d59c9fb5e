"""Is an answer backed by the context it was given? A check on its numbers, names and terms.

A small model answers fluently whether or not the excerpts hold the answer ("directed by
James Taylor-Johnson" when the book says Sam). After the answer, ctxchat looks for the
answer's content in the context: every number, every capitalised name, and most of its
other key terms must be there, else the answer is marked "not found in the document".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

NOT_FOUND = "not found in the document: check the evidence above"
# Share of an answer's other key terms the context must hold.
MIN_TERM_SHARE = 0.5

_CITATION = re.compile(r"\[[^\[\]]*?p\.?\s*\d[^\[\]]*\]", re.IGNORECASE)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_TOKEN = re.compile(r"[A-Za-z]+")
_STOPWORDS = frozenset(
    "the a an and or of in on at to for by with from is are was were be been being it its "
    "this that these those as which who whom what when where why how not no yes i you he she "
    "they we there their his her our your do does did has have had can could would should "
    "will about also into than then them him more most very such only one some any all "
    "answer answers question excerpt excerpts page pages document documents text says say "
    "said according know don doesn isn didn mentioned mention given".split()
)
_DECLINES = ("don't know", "do not know", "does not say", "doesn't say", "not mentioned")


@dataclass(frozen=True)
class Grounding:
    """What the check found: supported is False when the answer's content is not there."""

    supported: bool
    declined: bool  # the answer says the document does not answer
    missing: tuple[str, ...]  # numbers, names or terms of the answer not in the context
    checked: int  # how many were looked for

    @property
    def mark(self) -> str | None:
        """The line to show under the answer, or None."""
        return None if self.supported else NOT_FOUND


def _stem(word: str) -> str:
    word = word.lower()
    for suffix in ("ing", "ed", "es", "s", "ly"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def _numbers(text: str) -> set[str]:
    return {n.replace(",", "").rstrip(".") for n in _NUMBER.findall(text)}


def check_grounding(answer: str, context: str) -> Grounding:
    """Check `answer` against `context` (the text the model was given)."""
    body = _CITATION.sub(" ", answer)
    lowered = body.lower()
    if any(phrase in lowered for phrase in _DECLINES):
        return Grounding(True, True, (), 0)
    context_numbers = _numbers(_CITATION.sub(" ", context))
    context_words = {_stem(w) for w in _TOKEN.findall(context)}
    missing: list[str] = []
    checked = 0
    for number in sorted(_numbers(body)):
        checked += 1
        if number not in context_numbers:
            missing.append(number)
    terms: list[str] = []
    for word in dict.fromkeys(_TOKEN.findall(body)):
        if word.lower() in _STOPWORDS or len(word) < 3:
            continue
        if word[0].isupper():  # a name: it must be there
            checked += 1
            if _stem(word) not in context_words:
                missing.append(word)
        else:
            terms.append(word)
    found = sum(_stem(t) in context_words for t in terms)
    checked += len(terms)
    if terms and found / len(terms) < MIN_TERM_SHARE:
        missing.extend(t for t in terms if _stem(t) not in context_words)
    return Grounding(not missing, False, tuple(missing), checked)
