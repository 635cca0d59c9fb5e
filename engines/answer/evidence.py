"""The best evidence for a question: 1-3 sentences of the document, verbatim, with their page.

Shown before the model says a word, so a reader can check the answer against the text. The
sentences are ranked as the selector ranks them (BM25 + MiniLM, engines.selector), taken
from the context that was sent when they are in it. Each carries an absolute score, the
cosine similarity of its MiniLM embedding to the question's: the fused rank score is
relative (the top sentence always scores 1), so only the cosine can say "weak".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ctxchat.engines.select.selector import SelectorOptions, load_documents, query_vector, score
from ctxchat.engines.store.db import Store

# Below this cosine the best sentence does not answer the question: chosen on the dev split
# of the real-text benchmark (benchmarks/ask_flow_bench.py: 0.47 best separates 80 dev
# questions asked of their own article from the same questions asked of another one).
WEAK_EVIDENCE = 0.47
MAX_EVIDENCE = 3
# A second or third sentence is shown when it ranks at least this share of the first's score.
RUNNER_UP_SHARE = 0.6
MIN_WORDS = 4  # headings and fragments are no evidence
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


def best_evidence(
    store: Store,
    doc_ids: Sequence[int],
    question: str,
    within: str | None = None,
    limit: int = MAX_EVIDENCE,
) -> list[Evidence]:
    """Up to `limit` best sentences for `question`; with `within` (the text sent, before
    any word pruning), only sentences found in it, unless none is."""
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
        inside = [i for i in usable if scored.segments[i].text in within]
        usable = inside or usable
    top = float(scored.score[usable[0]])
    chosen = [
        i
        for rank, i in enumerate(usable[:limit])
        if rank == 0 or float(scored.score[i]) >= RUNNER_UP_SHARE * top
    ]
    return [
        Evidence(
            doc=scored.doc_names[i],
            page=scored.segments[i].page,
            text=scored.segments[i].text,
            score=round(float(cosine[i]), 3),
        )
        for i in chosen
    ]


def is_weak(evidence: Sequence[Evidence], threshold: float = WEAK_EVIDENCE) -> bool:
    """True when no evidence sentence is close enough to the question to answer it."""
    return not evidence or max(e.score for e in evidence) < threshold
