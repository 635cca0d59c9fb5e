"""Follow-up questions: "where is it headquartered?" asked after a question about a company.

Typed alone, such a question finds whatever the document says about headquarters (in a
348-page book, a pizza chain's). A question that leans on the chat for its subject (a
pronoun, no name of its own, a few words) is therefore searched for together with what
the chat was about: the last question that stood on its own, the question before it when
that was a follow-up too, and the names in the last answer when no mark was put on it
("when was he born?" after "who directed Titanic?" means the director); so is one that only
asks on ("why?", "tell me more"). A question that only swaps the subject ("what about
Hemmick Tools?", "and Duluth?") is searched for as the last question with its subject (its
one name, or its pronoun) replaced: "where is Hemmick Tools headquartered?", which the
reader then answers. Otherwise the reader and the grounding check see the question as
typed; the chat always shows it as typed.

Plain rules, no model. Of the 813 human questions of the real-text benchmark (articles,
the book and papers, both splits) and the 24 manual questions, none is taken for a
follow-up: each names its subject or is longer than MAX_WORDS. No conversation that people
wrote is at hand here to measure the gain on (CoQA and QuAC are not in reach offline).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ctxchat.engines.answer.answer_type import name_spans, names

# Pronouns that point back at something the question does not name.
PRONOUNS = frozenset(
    "it its itself he him his himself she her hers herself they them their theirs "
    "themselves".split()
)
# Longer questions say what they are about (or point inside themselves: "which function
# frees a structure and can also zero out its memory?").
MAX_WORDS = 9
# Names taken from the last answer: its first few are what it said.
ANSWER_NAMES = 3
# "why?", "how so?", "tell me more": words that ask on about the last thing, and no other.
_BARE = frozenset(
    "why how what who where when which so else more tell me us about really then exactly "
    "and again please explain".split()
)
# "what about X?", "and X?": the last question asked again of another subject.
_SWAP = re.compile(r"^\s*(?:and\s+)?(?:what|how)\s+about\b|^\s*and\b", re.IGNORECASE)
_SUBJECT_PRONOUN = re.compile(r"\b(?:it|he|she|they|him|her|them)\b", re.IGNORECASE)
SWAP_MAX_WORDS = 6

_WORD = re.compile(r"[A-Za-z']+")
_CITATION = re.compile(r"\[[^\[\]]*\]")


@dataclass
class Turn:
    """One question and its answer in a chat."""

    question: str
    answer: str
    stands_for: str = ""  # the whole question a swap was read as ("where is X based?")
    supported: bool = True  # the answer carried no mark (grounding.py)

    @property
    def asked(self) -> str:
        """The question as it was answered: the whole one a swap stood for, or as typed."""
        return self.stands_for or self.question

    @property
    def alone(self) -> bool:
        """It says what it is about (a swap, once read as its whole question, does too)."""
        return bool(self.stands_for) or not refers_back(self.question)


@dataclass(frozen=True)
class Search:
    """What to search the documents for, and the earlier questions it follows (if any)."""

    query: str
    follows: str | None = None
    # The query is a whole question of its own (a swapped subject): rank by it alone.
    whole: bool = False


def refers_back(question: str) -> bool:
    """The question leans on the chat: it points at something only the chat names (a
    pronoun, no name, short), or it swaps the subject of the last question."""
    return points_back(question) or swaps_subject(question)


def points_back(question: str) -> bool:
    """A pronoun, no name of its own, at most MAX_WORDS words: "when did he die?"; or
    nothing but words that ask on: "why?", "tell me more"."""
    words = {w.lower() for w in _WORD.findall(question)}
    if not words or len(_WORD.findall(question)) > MAX_WORDS:
        return False
    return words <= _BARE or (bool(words & PRONOUNS) and not names(question))


def swaps_subject(question: str) -> bool:
    """ "what about X?", "and X?" in at most SWAP_MAX_WORDS words."""
    words = _WORD.findall(question)
    return bool(words) and len(words) <= SWAP_MAX_WORDS and bool(_SWAP.search(question))


def search_for(question: str, turns: Sequence[Turn]) -> Search:
    """The query for `question` after `turns` (oldest first): the question itself unless it
    refers back, then the question with what the chat was about."""
    if not turns or not refers_back(question):
        return Search(question)
    last = turns[-1]
    if swaps_subject(question):
        varied = swapped(last.asked, question)
        if varied:
            return Search(varied, last.asked, whole=True)
    standalone = next((t for t in reversed(turns) if t.alone), None)
    earlier = [standalone.asked] if standalone is not None else []
    if not last.alone or standalone is None:
        earlier.append(last.question)  # the last question was a follow-up too
    names_said: list[str] = []
    if last.supported and not swaps_subject(question):
        names_said = name_spans(_CITATION.sub(" ", last.answer))[:ANSWER_NAMES]
    parts = dict.fromkeys(p.strip() for p in [question, *reversed(earlier), *names_said])
    follows = " ".join(q.strip() for q in earlier)
    return Search(" ".join(p for p in parts if p), follows or None)


def swapped(earlier: str, question: str) -> str | None:
    """`earlier` asked of the subject `question` names ("what about Hemmick Tools?"): its
    one name, or else its first pronoun, replaced; None when it has neither (or several
    names: which one is swapped is then a guess)."""
    subject = _SWAP.sub("", question).strip(" ?!.")
    if not subject:
        return None
    found = name_spans(earlier)
    if len(found) == 1:
        return earlier.replace(found[0], subject, 1)
    if not found and _SUBJECT_PRONOUN.search(earlier):
        return _SUBJECT_PRONOUN.sub(subject, earlier, count=1)
    return None
