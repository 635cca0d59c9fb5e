"""Extractive answers: the answer is a span of the evidence, chosen by the reader's scores.

A 135M model writes fluent sentences that copy the wrong words from its excerpts or invent
new ones. It is far better at telling which of a few short phrases fits "Answer:" best. So
for a question of a known kind (answer_type.py: who -> a name, when -> a date, how many ->
a number, where -> a place, "A or B?" -> an option, yes/no), the candidates are the things
of that kind the evidence sentences hold and the question does not name; the reader scores
each as the continuation of its prompt (log-probabilities, the prompt read once), and the
best becomes the answer. How far it stands above the others (its share of the candidates'
probability) says how sure the reader is: the grounding mark reads it.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from ctxchat.engines.answer.answer_type import (
    CHOICE,
    DATE,
    NUMBER,
    OTHER,
    PERSON,
    PLACE,
    YESNO,
    answer_type,
    name_spans,
    options,
)
from ctxchat.engines.answer.grounding import Grounding
from ctxchat.engines.answer.kvstate import KVStateStore
from ctxchat.engines.answer.llm import LocalLLM
from ctxchat.engines.answer.prompt import AnswerStream, Prompt

# What the reader's answer starts with when a span is scored (chosen on the dev split).
LEAD = "Answer:"
# Below this share of the candidates' probability the answer is marked unsure: on the dev
# split 0.6 marked 11 of the 18 wrong extractive answers and 2 of the 7 right ones (0.5: 9
# and 2; 0.7: 14 and 4); the 135M reader's confidence separates them only weakly.
MIN_CONFIDENCE = 0.6
# The kinds answered by extraction. On the dev split (100 questions) the extractive answer
# beat the written one for dates (3/12 against 0/12) and tied for numbers (2/6) and places
# (2/7); it lost for names (4/20 against 5/20) and other things (3/44 against 8/44), which
# the reader still writes. Choices, with the options as the question writes them: 6/11
# either way on the gold-string rule, but 3 of the 6 written ones name both options or
# say the wrong one ("Tosca has more acts than Don Quichotte"); the extractive answer names one.
EXTRACT_KINDS = frozenset((DATE, NUMBER, PLACE, CHOICE))
# At most this many candidates are scored: each costs one short decode (~10-30 ms here).
MAX_CANDIDATES = 12
_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_FULL_DATE = re.compile(
    rf"\b(?:\d{{1,2}}\s+(?:{_MONTHS})(?:,?\s+\d{{4}})?|(?:{_MONTHS})\s+\d{{1,2}}(?:,\s*\d{{4}})?"
    rf"|(?:{_MONTHS})\s+\d{{4}}|\d{{4}}s?|\d{{1,2}}(?:st|nd|rd|th)[- ]century)\b"
)
_NUMBER = re.compile(
    r"\b\d[\d,.]*(?:\s+(?:million|billion|thousand|hundred))?\b|\b(?:one|two|three|four|"
    r"five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundred)\b",
    re.IGNORECASE,
)
_MONTH_DATE = re.compile(
    rf"\b(?:\d{{1,2}}\s+(?:{_MONTHS})(?:,?\s+\d{{4}})?|(?:{_MONTHS})\s+\d{{1,2}}(?:,\s*\d{{4}})?)\b"
)
_QUOTED = re.compile(r"[\"\u201c]([^\"\u201c\u201d]{2,60})[\"\u201d]")
_WORD = re.compile(r"[\w\u00c0-\u024f]+")
_PAREN = re.compile(r"\([^()]*\)")


@dataclass(frozen=True)
class Span:
    """A candidate answer: words of one evidence sentence."""

    text: str
    sentence: int  # which evidence sentence holds it (0 is the best)


@dataclass(frozen=True)
class Extracted:
    """The chosen span and how sure the reader is of it."""

    span: Span
    confidence: float  # the span's share of the candidates' probability, 0..1
    candidates: tuple[tuple[str, float], ...]  # every candidate and its score, best first


def _words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text)}


def _things(sentence: str, kind: str) -> list[str]:
    """Things of `kind` in one sentence, in reading order."""
    if kind == DATE:
        return [m.group(0) for m in _FULL_DATE.finditer(sentence)]
    if kind == NUMBER:
        plain = _MONTH_DATE.sub(" ", _PAREN.sub(" ", sentence))  # a day of a month is no count
        return [m.group(0).rstrip(".,") for m in _NUMBER.finditer(plain)]
    quoted = [m.group(1).strip() for m in _QUOTED.finditer(sentence)]
    return quoted + name_spans(sentence)


_OFFERED = re.compile(r",\s*(?:the\s+)?([^,]+?)\s+or\s+(?:the\s+)?([^,?]+?)\s*\??\s*$")


def choice_options(question: str) -> list[str]:
    """The options of "Which ..., A or B?" as the question writes them ("The Saimaa
    Gesture", "Mensch ärgere dich nicht"); answer_type.options() when there is no comma."""
    match = _OFFERED.search(question.strip())
    if match and all(len(o.split()) <= 8 for o in match.groups()):
        return [o.strip(" \"'") for o in match.groups()]
    return options(question)


def _naming(option: str, sentences: Sequence[str]) -> int:
    """The first of `sentences` that holds every word of `option` (0 when none does)."""
    words = _words(option)
    return next((i for i, s in enumerate(sentences) if words <= _words(s)), 0)


def candidate_spans(
    question: str,
    sentences: Sequence[str],
    limit: int = MAX_CANDIDATES,
    text: str = "",
    named: str = "",
) -> list[Span]:
    """The spans of `sentences` (best first) that could answer `question`: things of the
    asked-for kind it does not already name. None for a kind this cannot extract. `text`
    (the context the sentences come from) tells sentence openers from names; `named` is
    what a follow-up's "it" stands for (followup.py): no answer either."""
    kind = answer_type(question)
    if kind == YESNO:
        return [Span("yes", 0), Span("no", 0)]
    if kind == CHOICE:  # cited by the first sentence that names the option
        found = [(o, _naming(o, sentences)) for o in choice_options(question)]
        return [Span(o, i) for o, i in found][:limit]
    if kind not in (PERSON, PLACE, DATE, NUMBER, OTHER):
        return []
    asked, meant = _words(question), _words(named)
    lowercase = {w for w in _WORD.findall(" ".join([text, *sentences])) if w.islower()}
    seen: set[str] = set()
    found: list[Span] = []
    for i, sentence in enumerate(sentences):
        for thing in _things(sentence, kind):
            thing = thing.strip(" ,.;:'\"")
            key = thing.lower()
            if not thing or key in seen or _words(thing) <= asked or _mostly(thing, meant):
                continue
            if _opener(thing, sentence, lowercase):
                continue
            seen.add(key)
            found.append(Span(thing, i))
    return found[:limit]


def _mostly(thing: str, words: set[str]) -> bool:
    """More than half of the thing's words are among `words` ("Western Star Trucks Sales"
    after a question about Western Star Trucks: the "it" itself, no answer to it)."""
    own = _words(thing)
    return bool(words) and 2 * len(own & words) > len(own)


def _opener(thing: str, sentence: str, lowercase: set[str]) -> bool:
    """A common word capitalised only because it opens the sentence ("Each application
    installs ..." answered "where are they installed?"): one word, at the start, and
    written in lowercase elsewhere in the text."""
    return (
        " " not in thing
        and thing.lower() in lowercase
        and sentence.lstrip(" \"'\u201c([").startswith(thing)
    )


def span_score(logprobs: Sequence[float]) -> float:
    """A span's score: its tokens' summed log-probability over the square root of their
    count. On the dev split this chose the right span for 17/100 questions, the sum 11, the
    mean 15, the first token's alone 8; calibrating by the span's probability without the
    question (PMI) did not help (7-11 of 58)."""
    return sum(logprobs) / math.sqrt(max(1, len(logprobs)))


def extractive_kind(question: str) -> bool:
    """Whether `question` asks for a kind of thing EXTRACT_KINDS holds."""
    return answer_type(question) in EXTRACT_KINDS


def choose(spans: Sequence[Span], logprobs: Sequence[Sequence[float]]) -> Extracted | None:
    """The span the reader scores best (span_score); its confidence is its share of the
    candidates' softmax over the scores."""
    if not spans or len(logprobs) != len(spans):
        return None
    scores = [span_score(lp) for lp in logprobs]
    top = max(scores)
    weights = [math.exp(s - top) for s in scores]
    order = sorted(range(len(spans)), key=lambda i: -scores[i])
    best = order[0]
    ranked = tuple((spans[i].text, round(scores[i], 3)) for i in order)
    return Extracted(spans[best], weights[best] / sum(weights), ranked)


def answer_text(span: Span, pages: Sequence[int | None]) -> str:
    """The chosen span as the answer, with the page of the sentence that holds it."""
    text = span.text.capitalize() if span.text in ("yes", "no") else span.text
    page = pages[span.sentence] if span.sentence < len(pages) else None
    return f"{text} [p. {page}]" if page else text


class ExtractStream(AnswerStream):
    """An AnswerStream whose answer is the best-scored span: the reader reads the prompt
    once, scores the spans, and the answer arrives in one piece."""

    def __init__(
        self,
        llm: LocalLLM,
        prompt: Prompt,
        spans: Sequence[Span],
        pages: Sequence[int | None],
        *,
        cancel: threading.Event | None = None,
        kv_store: KVStateStore | None = None,
    ) -> None:
        super().__init__(llm, prompt, cancel=cancel, kv_store=kv_store)
        self.local = llm
        self.spans = list(spans)
        self.pages = list(pages)
        self.extracted: Extracted | None = None

    def __iter__(self) -> Iterator[str]:
        key = self._restore_state()
        text = ""
        completed = False
        try:
            logprobs = self.local.continuation_logprobs(
                self.prompt.messages, [s.text for s in self.spans], LEAD, self.cancel
            )
            if not self.cancel.is_set():
                self.extracted = choose(self.spans, logprobs)
                if self.extracted is not None:
                    text = answer_text(self.extracted.span, self.pages)
                    self.local.last_stats.completion_tokens = self.local.count_tokens(text)
                    yield text
            completed = True
        finally:
            self.result = self._finish(text, completed, key)

    def grounding(self, question: str) -> Grounding:
        """Unsure when the best span holds less than MIN_CONFIDENCE of the probability."""
        found = self.extracted
        if found is None:
            return super().grounding(question)
        sure = found.confidence >= MIN_CONFIDENCE
        missing = () if sure else (f"(unsure: {found.confidence:.2f})",)
        return Grounding(sure, False, missing, len(self.spans), unsure=not sure)
