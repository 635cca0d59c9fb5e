"""Is an answer backed by the context it was given? A check on its numbers, names and terms.

A small model answers fluently whether or not the excerpts hold the answer ("directed by
James Taylor-Johnson" when the book says Sam). After the answer, ctxchat looks for the
answer's content in the context: every number, every capitalised name, and most of its
other key terms must be there, else the answer is marked "not found in the document".

With the question, three more checks (answer_type.py reads what it asks for), chosen on
the dev split of the real-text benchmark (benchmarks/ask_flow_bench.py --out, then
benchmarks/grounding_bench.py): an answer that adds nothing to the question (the 135M model
often restates it, or says "The answer is:"); an answer to a who/when/how-many/where/
which-of question that names no person, date, number, place or option beyond the question's;
and a name of the answer that the context does not hold as a whole ("James Taylor-Johnson"
when it says "Sam Taylor-Johnson").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ctxchat.engines.answer.answer_type import (
    CHOICE,
    OTHER,
    YESNO,
    answer_type,
    name_spans,
    new_things,
)

NOT_FOUND = "not found in the document: check the evidence above"
# A decline is honest, yet no answer: the evidence may still hold one.
DECLINED = "the model found no answer: check the evidence above"
# An extractive answer the reader is not sure of (extract.py): it is in the evidence, but
# the evidence may not answer the question.
UNSURE = "the reader is not sure of this answer: check the evidence above"
# Share of an answer's other key terms the context must hold.
MIN_TERM_SHARE = 0.5

_BACKTICKS = re.compile(r"`([^`\n]{1,60})`")
# A name with a dot or an underscore between word characters, or a call: read.csv, is_na(),
# hist(); not a sentence's full stop ("in 2016. The", "widgets.All"), an abbreviation
# ("e.g.", "U.S.") or a version ("3.14").
_CODE_NAME = re.compile(r"\b[A-Za-z_]\w*(?:[._][a-z_]\w+)+(?:\(\))?|\b[A-Za-z_]\w*\(\)")
_WORD_ONLY = re.compile(r"[A-Za-z_][\w-]*")
_CITATION = re.compile(r"\[[^\[\]]*?p\.?\s*\d[^\[\]]*\]", re.IGNORECASE)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_TOKEN = re.compile(r"[A-Za-z]+")
_WORD = re.compile(r"[\w\u00c0-\u024f]+")
# Extras the model adds beside a supported answer ("Eminem, in 2013") do not mark it: on the
# dev split they marked 4 of 13 right answers and no wrong one more.
_STOPWORDS = frozenset(
    "the a an and or of in on at to for by with from is are was were be been being it its "
    "this that these those as which who whom what when where why how not no yes i you he she "
    "they we there their his her our your do does did has have had can could would should "
    "will about also into than then them him more most very such only one some any all "
    "answer answers question excerpt excerpts page pages document documents text says say "
    "said according know don doesn isn didn mentioned mention given "
    # How-to answers open on a verb ("Use read.table()", "Run R CMD check"): not a name.
    "use call run set try type open click see".split()
)
_DECLINES = (
    "don't know",
    "do not know",
    "does not say",
    "doesn't say",
    "not mentioned",
    "does not answer",
    "doesn't answer",
    "does not provide",
    "doesn't provide",
)


@dataclass(frozen=True)
class Grounding:
    """What the check found: supported is False when the answer's content is not there."""

    supported: bool
    declined: bool  # the answer says the document does not answer
    missing: tuple[str, ...]  # numbers, names or terms of the answer not in the context
    checked: int  # how many were looked for
    unsure: bool = False  # an extractive answer the reader scored low (extract.py)

    @property
    def mark(self) -> str | None:
        """The line to show under the answer, or None."""
        if self.declined:
            return DECLINED
        if self.unsure:
            return UNSURE
        return None if self.supported else NOT_FOUND


def _stem(word: str) -> str:
    word = word.lower()
    for suffix in ("ing", "ed", "es", "s", "ly"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def _numbers(text: str) -> set[str]:
    return {n.replace(",", "").rstrip(".") for n in _NUMBER.findall(text)}


def check_grounding(answer: str, context: str, question: str | None = None) -> Grounding:
    """Check `answer` against `context` (the text the model was given) and, when given,
    against what `question` asks for."""
    body = _CITATION.sub(" ", answer)
    lowered = body.lower()
    if any(phrase in lowered for phrase in _DECLINES):
        return Grounding(True, True, (), 0)
    # What the question says may be said again: its words count as given.
    given = f"{_CITATION.sub(' ', context)} {question or ''}"
    context_numbers = _numbers(given)
    context_words = {_stem(w) for w in _TOKEN.findall(given)}
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
    if question:
        if missing and _core_given(body, given, question):
            missing = []  # the asked-for thing is there: extras the model added do not count
        missing.extend(_against_question(body, context, question))
    code = code_names(body)
    checked += len(code)
    missing.extend(name for name in code if name not in given)
    return Grounding(not missing, False, tuple(dict.fromkeys(missing)), checked)


def code_names(answer: str) -> list[str]:
    """Names of code the answer uses: in backticks, or with a dot, an underscore or a call
    inside ("read.csv()", "dplyr", "omp_set_num_threads"), without the call's brackets. A
    small model invents functions and packages in words the context holds ("read", "csv"),
    so each name must be in the context as written."""
    names = [m.strip() for m in _BACKTICKS.findall(answer)]
    names += _CODE_NAME.findall(_BACKTICKS.sub(" ", answer))
    out = []
    for name in names:
        for part in _CODE_NAME.findall(name) or ([name] if _WORD_ONLY.fullmatch(name) else []):
            out.append(part.removesuffix("()"))
    return list(dict.fromkeys(p for p in out if p))


def _core_given(body: str, given: str, question: str) -> bool:
    """The answer names a thing of the asked-for kind, new to the question, that the
    context holds whole."""
    kind = answer_type(question)
    if kind in (YESNO, OTHER):
        return False
    flat = _flat(given)
    return any(_flat(t) in flat for t in new_things(body, question, kind))


def _flat(text: str) -> str:
    return " " + " ".join(w.lower() for w in _WORD.findall(text)) + " "


def _against_question(body: str, context: str, question: str) -> list[str]:
    """What the answer lacks for this question: something new, a thing of the asked-for
    kind, its names whole in the context."""
    asked = {_stem(w) for w in _TOKEN.findall(question)}
    added = [
        w
        for w in _TOKEN.findall(body)
        if w.lower() not in _STOPWORDS and len(w) > 2 and _stem(w) not in asked
    ]
    if not added and not _numbers(body) - _numbers(question):
        return ["(nothing beyond the question)"]
    kind = answer_type(question)
    if kind in (YESNO, OTHER):
        things = new_things(body, question, OTHER)  # "what"/"which" answers are often names
    else:
        things = new_things(body, question, kind)
        if not things:
            return [f"(no {kind} beyond the question)"]
    flat = _flat(context)
    if kind == CHOICE:
        return []
    # Names as written ("House of Habsburg-Lorraine" keeps its "of"): on the dev split the
    # names with inner words dropped marked 3 of 22 right answers.
    said = set(_flat(question).split())
    whole = [n for n in name_spans(body) if not set(_flat(n).split()) <= said]
    return [t for t in whole if " " in t.strip() and _flat(t) not in flat]
