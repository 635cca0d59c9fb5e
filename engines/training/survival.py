"""Word-survival QA: do the answers of cloze questions survive word-level compression?

Held-out documents (generated ones with their recorded facts, and held-out stdlib modules with
answers picked automatically) give cloze questions whose answer is a number, a name or a rare
term. A compressor keeps the highest-scoring words until `rate` of the cl100k tokens are used;
a question survives when its answer string is still in the compressed text.
"""

from __future__ import annotations

import random
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ctxchat.engines.tokens import count_tokens_batch
from ctxchat.engines.training.corpus import Doc, stdlib_documents
from ctxchat.engines.training.generated import GeneratedDoc, generate_documents
from ctxchat.engines.training.labels import IdfTable
from ctxchat.engines.training.words import STOP_WORDS, core, sentence_initial, word_spans

RATES = (0.5, 0.33)
ITEMS_PER_DOC = 8


@dataclass
class Cloze:
    question: str  # the sentence with the answer blanked
    answer: str
    kind: str  # number | name | term


@dataclass
class BenchDoc:
    title: str
    text: str
    source: str
    items: list[Cloze]
    spans: list[tuple[int, int]] = field(default_factory=list)
    words: list[str] = field(default_factory=list)
    token_counts: np.ndarray = field(default_factory=lambda: np.zeros(0))
    extra: dict = field(default_factory=dict)  # per-method cached signals (e.g. surprisal)

    def __post_init__(self) -> None:
        self.spans = word_spans(self.text)
        self.words = [self.text[a:b] for a, b in self.spans]
        # Each word as it appears mid-text (with its leading space), the unit of the budget.
        self.token_counts = np.asarray(count_tokens_batch([" " + w for w in self.words]))


def _blank(sentence: str, answer: str) -> str:
    return sentence.replace(answer, "____", 1)


def generated_bench(n_docs: int, seed: int) -> list[BenchDoc]:
    """Generated documents (a seed never used for training) with their facts as questions."""
    rng = random.Random(seed)
    return [
        BenchDoc(g.title, g.text, "generated", fact_items(g, rng))
        for g in generate_documents(n_docs, seed=seed)
    ]


def fact_items(g: GeneratedDoc, rng: random.Random) -> list[Cloze]:
    """A generated document's recorded facts as cloze questions (a shuffled sample)."""
    items = [
        Cloze(_blank(f.sentence, answer), answer, kind)
        for f in g.facts
        for answer, kind in f.answers
    ]
    rng.shuffle(items)
    return items[:ITEMS_PER_DOC]


def auto_items(doc: Doc, idf: IdfTable, rng: random.Random) -> list[Cloze]:
    """Numbers, mid-sentence names and rare terms of a real text, as cloze answers."""
    spans = word_spans(doc.text)
    words = [doc.text[a:b] for a, b in spans]
    rare_idf = np.log((idf.n_docs + 1) / 2)  # seen in at most one training document
    scores = idf(words)
    found: dict[str, str] = {}
    for word, opens, w_idf in zip(words, sentence_initial(words), scores, strict=True):
        c = core(word)
        if len(c) < 2 or c.lower() in STOP_WORDS or c in found:
            continue
        if any(ch.isdigit() for ch in c):
            found[c] = "number"
        elif c[0].isupper() and not opens and c.isalpha():
            found[c] = "name"
        elif c.isalpha() and c.islower() and len(c) >= 7 and w_idf >= rare_idf:
            found[c] = "term"
    items = [Cloze("", answer, kind) for answer, kind in found.items()]
    rng.shuffle(items)
    return items[:ITEMS_PER_DOC]


def stdlib_bench(idf: IdfTable, max_words: int, seed: int) -> list[BenchDoc]:
    """Held-out stdlib modules (never in training) with automatically picked answers."""
    rng = random.Random(seed)
    docs = []
    for doc in stdlib_documents(heldout=True, max_words=max_words):
        items = auto_items(doc, idf, rng)
        if items:
            docs.append(BenchDoc(doc.title, doc.text, doc.source, items))
    return docs


def keep_mask(
    scores: np.ndarray, token_counts: np.ndarray, rate: float, seed: int = 0
) -> np.ndarray:
    """Keep the best-scoring words until `rate` of the tokens are used (ties broken at random)."""
    jitter = np.random.default_rng(seed).random(len(scores)) * 1e-6
    order = np.lexsort((jitter, -np.asarray(scores, dtype=np.float64)))
    budget = rate * float(token_counts.sum())
    kept = np.cumsum(token_counts[order]) <= budget
    mask = np.zeros(len(scores), dtype=bool)
    mask[order[kept]] = True
    return mask


def compressed_text(doc: BenchDoc, mask: np.ndarray) -> str:
    return " ".join(w for w, k in zip(doc.words, mask, strict=True) if k)


def _present(answer: str, text: str) -> bool:
    return re.search(r"(?<!\w)" + re.escape(answer) + r"(?!\w)", text) is not None


ScoreFn = Callable[[BenchDoc], np.ndarray]


def survival(docs: list[BenchDoc], score_fn: ScoreFn, rates=RATES, seed: int = 0) -> dict:
    """Answer survival per rate, overall and by answer kind, plus the achieved token rate."""
    result: dict = {}
    scores = [score_fn(d) for d in docs]
    for rate in rates:
        texts: list[str] = []
        used = total = 0
        for i, (doc, s) in enumerate(zip(docs, scores, strict=True)):
            mask = keep_mask(s, doc.token_counts, rate, seed=seed + i)
            texts.append(compressed_text(doc, mask))
            used += int(doc.token_counts[mask].sum())
            total += int(doc.token_counts.sum())
        result[str(rate)] = _tally(docs, texts, used, total)
    return result


def survival_of_texts(
    docs: list[BenchDoc], compress: Callable[[BenchDoc, float], str], rates=RATES
) -> dict:
    """Answer survival for a compressor that returns text (e.g. the compressor engine)."""
    result: dict = {}
    for rate in rates:
        outs = [compress(doc, rate) for doc in docs]
        used = sum(count_tokens_batch(outs))
        total = sum(count_tokens_batch([d.text for d in docs]))
        result[str(rate)] = _tally(docs, outs, used, total)
    return result


def _tally(docs: list[BenchDoc], texts: list[str], used: int, total: int) -> dict:
    """Share of answers still present in each doc's compressed text, overall and by kind."""
    hits: dict[str, list[int]] = {}
    for doc, text in zip(docs, texts, strict=True):
        for item in doc.items:
            ok = int(_present(item.answer, text))
            hits.setdefault("all", []).append(ok)
            hits.setdefault(item.kind, []).append(ok)
    return {
        **{k: round(float(np.mean(v)), 4) for k, v in sorted(hits.items())},
        "questions": len(hits.get("all", [])),
        "achieved_rate": round(used / max(total, 1), 4),
    }


def random_scores(seed: int = 0) -> ScoreFn:
    def score(doc: BenchDoc) -> np.ndarray:
        # crc32, not hash(): str hashes change between processes.
        rng = np.random.default_rng(zlib.crc32(doc.title.encode()) + seed)
        return rng.random(len(doc.words))

    return score


def stop_word_scores(seed: int = 0) -> ScoreFn:
    """Drop stop words first (in random order), then other words at random."""
    rand = random_scores(seed)

    def score(doc: BenchDoc) -> np.ndarray:
        stop = np.array([core(w).lower() in STOP_WORDS for w in doc.words])
        return np.where(stop, 0.0, 1.0) + rand(doc)

    return score


def bench_documents(idf: IdfTable, generated: int, stdlib_words: int, seed: int) -> list[BenchDoc]:
    return generated_bench(generated, seed=seed) + stdlib_bench(idf, stdlib_words, seed=seed)
