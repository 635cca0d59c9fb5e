"""The best evidence for a question: 1-3 sentences of the document, verbatim, with their page.

Shown before the model says a word, so a reader can check the answer against the text. The
candidates are ranked as the selector ranks them (BM25 + MiniLM, engines.select.selector),
taken from the context that was sent when they are in it. The picker then looks past the
top sentence: a two-hop question ("Who directed the film that starred X?") is answered by a
sentence that names something the question does not (a person, a date, a number, a place,
as answer_type.py reads the question), often in another passage (the second hop). Each
carries an absolute score, the cosine similarity of its MiniLM embedding to the question's:
the fused rank score is relative (the top sentence always scores 1), so only the cosine can
say "weak".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ctxchat.engines.answer.answer_type import (
    CHOICE,
    OTHER,
    answer_type,
    names,
    new_things,
    options,
)
from ctxchat.engines.select.selector import SelectorOptions, load_documents, query_vector, score
from ctxchat.engines.store.db import Store

# Below this cosine the best sentence does not answer the question: chosen on the dev split
# of the real-text benchmark (benchmarks/ask_flow_bench.py: 0.47 best separates 80 dev
# questions asked of their own article from the same questions asked of another one).
WEAK_EVIDENCE = 0.47
MAX_EVIDENCE = 3
MIN_WORDS = 4  # headings and fragments are no evidence
# The picker's weights, chosen on the dev split (benchmarks/evidence_bench.py): a sentence's
# rank score (the best is 1), plus TYPE_BONUS when it holds a thing of the asked-for kind
# that the question does not name, plus BRIDGE_BONUS when it names something a sentence
# already picked names (and the question does not: the second hop), plus OTHER_PASSAGE_BONUS
# when it is in another passage than those picked. Only the POOL best-ranked are looked at.
TYPE_BONUS = 0.3
BRIDGE_BONUS = 0.1
OTHER_PASSAGE_BONUS = 0.1
POOL = 12
_CANDIDATES = 200


@dataclass(frozen=True)
class Evidence:
    """One sentence of a document, verbatim, and how close it is to the question."""

    doc: str
    page: int | None
    text: str
    score: float  # cosine similarity to the question, -1..1

    def as_dict(self) -> dict[str, str | int | float | None]:
        return {"doc": self.doc, "page": self.page, "text": self.text, "score": self.score}


@dataclass(frozen=True)
class Candidate:
    """A sentence that may be evidence, with what the picker weighs."""

    doc: str
    page: int | None
    text: str
    section: tuple[int, str | None]  # (document, heading): which passage it is in
    rank: float  # the selector's fused score, 0..1 (relative to the best sentence)
    cosine: float  # MiniLM cosine to the question

    def evidence(self) -> Evidence:
        return Evidence(self.doc, self.page, self.text, round(self.cosine, 3))


def candidates(
    store: Store, doc_ids: Sequence[int], question: str, within: str | None = None
) -> list[Candidate]:
    """The best-ranked sentences for `question`, best first; with `within` (the text sent,
    before any word pruning), only those found in it, unless none is."""
    if not question.strip() or not doc_ids:
        return []
    indexes = load_documents(store, doc_ids)
    scored = score(store, indexes, question, SelectorOptions(), {})
    if scored.vectors is None or not len(scored.segments):
        return []
    cosine = scored.vectors @ query_vector(question)
    order = [int(i) for i in np.argsort(-scored.score)[:_CANDIDATES]]
    usable = [i for i in order if len(scored.segments[i].text.split()) >= MIN_WORDS] or order
    if within:
        usable = [i for i in usable if scored.segments[i].text in within] or usable
    top = max(float(scored.score[usable[0]]), 1e-9)
    out = []
    for i in usable:
        segment = scored.segments[i]
        out.append(
            Candidate(
                doc=scored.doc_names[i],
                page=segment.page,
                text=segment.text,
                section=(segment.doc_id, segment.heading),
                rank=float(scored.score[i]) / top,
                cosine=float(cosine[i]),
            )
        )
    return out


def best_evidence(
    store: Store,
    doc_ids: Sequence[int],
    question: str,
    within: str | None = None,
    limit: int = MAX_EVIDENCE,
) -> list[Evidence]:
    """Up to `limit` best sentences for `question` (see candidates() for `within`)."""
    found = candidates(store, doc_ids, question, within)
    return [c.evidence() for c in pick(found, question, limit)]


def pick(
    found: Sequence[Candidate],
    question: str,
    limit: int = MAX_EVIDENCE,
    *,
    type_bonus: float = TYPE_BONUS,
    bridge_bonus: float = BRIDGE_BONUS,
    other_passage_bonus: float = OTHER_PASSAGE_BONUS,
    pool: int = POOL,
) -> list[Candidate]:
    """Up to `limit` evidence sentences from candidates ranked best first, one at a time:
    each the best of the rest by rank plus the bonuses above."""
    kind = answer_type(question)
    rest = list(found[:pool])
    typed = {id(c) for c in rest if new_things(c.text, question, kind)}
    chosen: list[Candidate] = []
    bridges: set[str] = set()
    while rest and len(chosen) < limit:
        values = []
        for c in rest:
            v = c.rank + (type_bonus if id(c) in typed else 0.0)
            if chosen and bridges & set(names(c.text)):
                v += bridge_bonus
            if chosen and all(c.section != p.section for p in chosen):
                v += other_passage_bonus
            values.append(v)
        best = rest.pop(int(np.argmax(values)))
        chosen.append(best)
        if kind == CHOICE:  # the options still to cover are the bridges
            bridges = set(options(question)) - {
                o for c in chosen for o in new_things(c.text, question, CHOICE)
            }
            typed = {id(c) for c in rest if set(new_things(c.text, question, CHOICE)) & bridges}
        else:
            bridges |= set(new_things(best.text, question, OTHER))
    return chosen


def is_weak(evidence: Sequence[Evidence], threshold: float = WEAK_EVIDENCE) -> bool:
    """True when no evidence sentence is close enough to the question to answer it."""
    return not evidence or max(e.score for e in evidence) < threshold
