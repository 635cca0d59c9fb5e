"""Follow-up questions: "where is it headquartered?" asked after a question about a company.

Typed alone, such a question finds whatever the document says about headquarters (in a
348-page book, a pizza chain's). A question that leans on the chat for its subject (a
pronoun, no name of its own, a few words) is therefore searched for together with what
the chat was about: the last question that stood on its own, the question before it when
that was a follow-up too, and the names in the last answer when no mark was put on it
("when was he born?" after "who directed Titanic?" means the director). The reader, the
grounding check and the chat still see the question as typed.

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

_WORD = re.compile(r"[A-Za-z']+")
_CITATION = re.compile(r"\[[^\[\]]*\]")


@dataclass
class Turn:
    """One question and its answer in a chat."""

    question: str
    answer: str
    query: str = ""  # what was searched for (the question, or more for a follow-up)
    supported: bool = True  # the answer carried no mark (grounding.py)


@dataclass(frozen=True)
class Search:
    """What to search the documents for, and the earlier question it follows (if any)."""

    query: str
    follows: str | None = None


def refers_back(question: str) -> bool:
    """The question points at something only the chat names: a pronoun, no name, short."""
    words = _WORD.findall(question)
    if not words or len(words) > MAX_WORDS:
        return False
    return bool({w.lower() for w in words} & PRONOUNS) and not names(question)


def search_for(question: str, turns: Sequence[Turn]) -> Search:
    """The query for `question` after `turns` (oldest first): the question itself unless it
    refers back, then the question with what the chat was about."""
    if not turns or not refers_back(question):
        return Search(question)
    last = turns[-1]
    standalone = next((t for t in reversed(turns) if not refers_back(t.question)), None)
    parts = [question]
    if refers_back(last.question):
        parts.append(last.question)
    if standalone is not None:
        parts.append(standalone.question)
    if last.supported:
        parts.extend(name_spans(_CITATION.sub(" ", last.answer))[:ANSWER_NAMES])
    topic = standalone.question if standalone is not None else last.question
    return Search(" ".join(dict.fromkeys(p.strip() for p in parts if p.strip())), topic)
