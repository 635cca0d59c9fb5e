"""Query-aware sentence selection: rank every sentence against a question, fill a budget.

Signals: SQLite FTS5 BM25 (lexical) and MiniLM cosine (dense), fused; then context: a
share of the better neighbour's score (a sentence next to a hit often carries the rest of
the fact), the section heading's similarity, and the predecessor of a sentence that opens
with a pronoun. Near-duplicates are skipped. The budget is counted in the caller's
tokenizer over the rendered text (gap and page markers included), so it is never exceeded.
"""

from __future__ import annotations

import re
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from ctxchat.engines import fusion
from ctxchat.engines.embeddings import EmbedStats, embed, embed_cached, embed_segments
from ctxchat.engines.errors import CtxchatError
from ctxchat.engines.results import Span
from ctxchat.engines.store import DocumentRow, SegmentRow, Store
from ctxchat.engines.tokens import count_tokens as cl100k_tokens

TokenCounter = Callable[[str], int]

GAP = "[...]"
# Sentences opening with these usually lean on the sentence before them.
_LEANS_BACK = re.compile(
    r"^[\"'(\u201c]*(?:it|its|this|that|these|those|they|their|them|he|she|his|her|him|"
    r"such|both|there|the latter|the former|however|also|thus|therefore|moreover|"
    r"meanwhile|then|later|here)\b",
    re.IGNORECASE,
)
_NORMALISE = re.compile(r"\W+")


@dataclass(frozen=True)
class SelectorOptions:
    """How sentences are ranked. `method` picks a baseline for benchmarks; "ctxchat" is all."""

    method: str = "ctxchat"  # random | bm25 | dense | hybrid | ctxchat
    # Defaults chosen on the generated QA set (benchmarks/README.md): min-max fusion beat
    # reciprocal-rank fusion, and questions that paraphrase favour the dense signal.
    fusion: str = "minmax"  # minmax | rrf
    dense_weight: float = 0.7
    neighbour_weight: float = 0.1
    heading_weight: float = 0.1
    leaning_predecessor: bool = True
    # A sentence that leans on the one before ("He became its chairman in 1838.") gets at
    # least this share of its predecessor's score: it usually finishes the same fact.
    continuation: float = 0.9
    dedup_cosine: float = 0.95
    # Adaptive stop: once `adaptive_floor` tokens are in, skip sentences whose relevance
    # (best of dense and BM25, relative to the top sentence) is below this share.
    relative_cutoff: float = 0.25
    adaptive_floor: int = 2048
    bm25_limit: int = 5000
    seed: int = 0

    @property
    def full(self) -> bool:
        return self.method == "ctxchat"

    def key(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class Piece:
    """A kept sentence (or its pruned text) with where it came from."""

    segment: SegmentRow
    text: str
    doc_name: str
    score: float = 0.0


@dataclass
class Selection:
    """Chosen sentences in document order, the rendered text and how it was made.

    Iterating yields the chosen SegmentRows (the selector's list interface).
    """

    pieces: list[Piece]
    text: str
    tokens: int
    spans: list[Span]
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def segments(self) -> list[SegmentRow]:
        return [p.segment for p in self.pieces]

    def __iter__(self) -> Iterator[SegmentRow]:
        return iter(self.segments)

    def __len__(self) -> int:
        return len(self.pieces)


# -- per-document data kept in memory ----------------------------------------------------


@dataclass
class DocIndex:
    """A document's sentences and what never changes about them, computed once."""

    doc: DocumentRow
    segments: list[SegmentRow]
    matrix: np.ndarray | None = None
    _static: dict[str, Any] = field(default_factory=dict)

    def static(self, name: str) -> Any:
        if name not in self._static:
            segs = self.segments
            if name == "position":
                value: Any = {s.id: i for i, s in enumerate(segs)}
            elif name == "same_block_prev":
                value = _same_block_prev(segs)
            elif name == "leans":
                value = leans_back(segs)
            elif name == "names":
                value = [self.doc.name] * len(segs)
            else:  # "headings": the distinct headings and each sentence's index into them
                titles = sorted({s.heading for s in segs if s.heading})
                where = {t: i for i, t in enumerate(titles)}
                value = (titles, np.array([where.get(s.heading, -1) for s in segs], dtype=int))
            self._static[name] = value
        return self._static[name]


class _LRU:
    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, int, str], DocIndex] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, int, str]) -> DocIndex | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: tuple[str, int, str], value: DocIndex) -> None:
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


# Documents are immutable once stored (content-addressed), so (db, id, sha256) is a safe key.
DOC_CACHE = _LRU(8)


def document_index(store: Store, doc: DocumentRow) -> DocIndex:
    key = (str(store.path), doc.id, doc.sha256)
    index = DOC_CACHE.get(key)
    if index is None:
        index = DocIndex(doc, store.segments(doc.id))
        DOC_CACHE.put(key, index)
    return index


def document_matrix(
    store: Store,
    index: DocIndex,
    stats: EmbedStats,
    on_progress: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """The document's embeddings as one matrix, from memory, else the store, else MiniLM."""
    if index.matrix is not None:
        stats.total += len(index.segments)
        stats.cached += len(index.segments)
        stats.from_memory = True
        return index.matrix
    index.matrix = embed_segments(store, index.segments, stats, on_progress)
    return index.matrix


@lru_cache(maxsize=256)
def query_vector(query: str) -> np.ndarray:
    """The question's embedding (memoised: the TUI and benchmarks repeat questions)."""
    return embed([query])[0]


def load_documents(store: Store, doc_ids: Sequence[int]) -> list[DocIndex]:
    indexes = []
    for doc_id in dict.fromkeys(doc_ids):
        doc = store.document(doc_id)
        if doc is None:
            raise CtxchatError(f"no document with id {doc_id} in the library")
        indexes.append(document_index(store, doc))
    return indexes


# -- rendering ---------------------------------------------------------------------------


# Section titles in citation markers are cut to this many characters (they cost tokens).
MARKER_SECTION_CHARS = 48


def _section(heading: str | None) -> str:
    """The section part of a marker: ", 3.2 Results" (brackets could end the marker early)."""
    if not heading:
        return ""
    title = " ".join(heading.replace("[", "(").replace("]", ")").split())
    if len(title) > MARKER_SECTION_CHARS:
        title = title[: MARKER_SECTION_CHARS - 1].rstrip() + "\u2026"
    return f", {title}"


def _marker(piece: Piece, multi_doc: bool) -> str:
    """[p. 12], [p. 12, 3.2 Results] or [name.pdf, p. 12, 3.2 Results]."""
    page, section = piece.segment.page, _section(piece.segment.heading)
    if multi_doc:
        return f"[{piece.doc_name}, p. {page}{section}] " if page else f"[{piece.doc_name}] "
    return f"[p. {page}{section}] " if page else ""


def render(pieces: Sequence[Piece], multi_doc: bool = False) -> tuple[str, list[Span]]:
    """Pieces (document order) as prompt text with gap and page markers, plus their spans.

    Adjacent sentences of one paragraph share a line; a new paragraph starts a line; a
    skipped stretch is marked with a "[...]" line; a page marker opens each block whose
    page (or document) differs from the last marker, so answers can cite pages.
    """
    out: list[str] = []
    spans: list[Span] = []
    block: list[str] = []
    prev: SegmentRow | None = None
    marked: tuple[int, int | None, str | None] | None = None

    def close_block() -> None:
        if block and prev is not None:
            spans.append(Span(" ".join(block), prev.page, prev.doc_id, current_name))
            block.clear()

    current_name = ""
    for piece in pieces:
        seg, text = piece.segment, piece.text.strip()
        if not text:
            continue
        adjacent = prev is not None and prev.doc_id == seg.doc_id and seg.ord == prev.ord + 1
        same_line = adjacent and prev is not None and prev.paragraph == seg.paragraph
        where = (seg.doc_id, seg.page, seg.heading)
        if not (same_line and where == marked):
            close_block()
            if prev is not None:
                out.append("\n" if adjacent else f"\n{GAP}\n")
            if where != marked:
                out.append(_marker(piece, multi_doc))
                marked = where
        else:
            out.append(" ")
        out.append(text)
        block.append(text)
        prev, current_name = seg, piece.doc_name
    close_block()
    return "".join(out), spans


# -- scoring -----------------------------------------------------------------------------


@dataclass
class Scored:
    segments: list[SegmentRow]
    doc_names: list[str]
    score: np.ndarray  # what the greedy fill ranks by
    relevance: np.ndarray  # 0..1, for the adaptive stop
    vectors: np.ndarray | None


def _same_block_prev(segments: Sequence[SegmentRow]) -> np.ndarray:
    out = np.zeros(len(segments), dtype=bool)
    for i in range(1, len(segments)):
        a, b = segments[i - 1], segments[i]
        out[i] = a.doc_id == b.doc_id and a.paragraph == b.paragraph
    return out


def score(
    store: Store,
    indexes: Sequence[DocIndex],
    query: str,
    options: SelectorOptions,
    stats: dict[str, Any],
) -> Scored:
    segments = [s for ix in indexes for s in ix.segments]
    names = [name for ix in indexes for name in ix.static("names")]
    n = len(segments)
    if options.method == "random":
        # Seeded per question: reproducible, yet not the same sentences for every question.
        rng = np.random.default_rng([options.seed, zlib.crc32(query.encode("utf-8"))])
        return Scored(segments, names, rng.random(n), np.ones(n), None)

    lexical = np.zeros(n)
    present = np.zeros(n, dtype=bool)
    if options.method != "dense":
        start = time.perf_counter()
        hits = store.bm25([ix.doc.id for ix in indexes], query, limit=options.bm25_limit)
        offset = 0
        for ix in indexes:
            position = ix.static("position")
            for seg_id, value in hits.items():
                i = position.get(seg_id)
                if i is not None:
                    lexical[offset + i], present[offset + i] = value, True
            offset += len(ix.segments)
        stats["bm25_s"] = round(time.perf_counter() - start, 4)
    if options.method == "bm25":
        return Scored(segments, names, lexical, fusion.minmax(lexical), None)

    start = time.perf_counter()
    embed_stats = EmbedStats()
    matrices = [document_matrix(store, ix, embed_stats) for ix in indexes]
    vectors = np.concatenate(matrices) if matrices else np.zeros((0, 384), np.float32)
    stats["embed_s"] = round(embed_stats.seconds, 4)
    stats["embeddings"] = {
        "total": embed_stats.total,
        "cached": embed_stats.cached,
        "computed": embed_stats.computed,
        "in_memory": embed_stats.from_memory,
    }
    q = query_vector(query)
    dense = vectors @ q
    stats["dense_s"] = round(time.perf_counter() - start, 4)
    relevance = np.maximum(
        np.clip(dense, 0, None) / max(float(dense.max(initial=0.0)), 1e-9),
        lexical / max(float(lexical.max(initial=0.0)), 1e-9),
    )
    if options.method == "dense":
        return Scored(segments, names, dense, relevance, vectors)

    if options.fusion == "rrf":
        fused = fusion.minmax(fusion.rrf([(lexical, present), (dense, None)]))
    else:
        fused = fusion.weighted_minmax(lexical, dense, options.dense_weight)
    if options.full:
        if options.heading_weight > 0:
            fused = fused + options.heading_weight * np.concatenate(
                [_heading_scores(store, ix, q) for ix in indexes]
            )
        if options.continuation > 0:
            leans = np.concatenate([ix.static("leans") for ix in indexes])
            fused = carry_to_continuations(fused, segments, options.continuation, leans)
        same_block = np.concatenate([ix.static("same_block_prev") for ix in indexes])
        fused = fusion.neighbour_boost(fused, same_block, options.neighbour_weight)
    return Scored(segments, names, fused, relevance, vectors)


def leans_back(segments: Sequence[SegmentRow]) -> np.ndarray:
    """True where a sentence opens with a pronoun or connective and follows its antecedent
    in the same paragraph."""
    prev = _same_block_prev(segments)
    return np.array(
        [bool(prev[i]) and _LEANS_BACK.match(s.text) is not None for i, s in enumerate(segments)],
        dtype=bool,
    )


def carry_to_continuations(
    scores: np.ndarray,
    segments: Sequence[SegmentRow],
    share: float,
    leans: np.ndarray | None = None,
) -> np.ndarray:
    """Give each leaning sentence at least `share` of its predecessor's score."""
    out = scores.astype(np.float64, copy=True)
    flags = leans if leans is not None else leans_back(segments)
    for i in np.flatnonzero(flags).tolist():
        out[i] = max(out[i], share * out[i - 1])  # in order, so chains carry on
    return out


def _heading_scores(store: Store, index: DocIndex, q: np.ndarray) -> np.ndarray:
    """Cosine of each sentence's section heading with the question (0 where none)."""
    titles, where = index.static("headings")
    if not titles:
        return np.zeros(len(index.segments))
    if "heading_vectors" not in index._static:
        index._static["heading_vectors"] = embed_cached(store, titles)
    sims = np.append(np.clip(index._static["heading_vectors"] @ q, 0, None), 0.0)
    return sims[where]  # where == -1 picks the appended 0


# -- filling the budget ------------------------------------------------------------------


class _Filler:
    """Greedy fill by score with conservative token estimates, then an exact check."""

    def __init__(
        self,
        scored: Scored,
        budget: int,
        count: TokenCounter,
        options: SelectorOptions,
        multi_doc: bool,
    ) -> None:
        self.s = scored
        self.budget = budget
        self.count = count
        self.options = options
        self.multi_doc = multi_doc
        self.exact_cl100k = count is cl100k_tokens
        self._cost: dict[int, int] = {}
        self.chosen: dict[int, float] = {}  # index -> rank score
        self.used = 0
        self.seen_text: set[str] = set()
        self.kept = np.zeros((0, 0), dtype=np.float32)  # vectors of the picks, for dedup
        self.n_kept = 0
        self.gap_cost = count(f"\n{GAP}\n")
        self._marker_cost: dict[tuple[int, int | None], int] = {}

    def marker_cost(self, i: int) -> int:
        """Tokens of the page marker that would open a block at sentence i."""
        seg = self.s.segments[i]
        key = (seg.doc_id, seg.page)
        if key not in self._marker_cost:
            piece = Piece(seg, seg.text, self.s.doc_names[i])
            self._marker_cost[key] = self.count(_marker(piece, self.multi_doc))
        return self._marker_cost[key]

    def cost(self, i: int) -> int:
        if i not in self._cost:
            seg = self.s.segments[i]
            self._cost[i] = seg.tokens if self.exact_cl100k else self.count(seg.text)
        return self._cost[i]

    def added_cost(self, i: int) -> int:
        """An upper bound of what sentence i adds to the rendered text (the exact count
        comes in finish()): its tokens and a joiner, plus a gap line and a page marker when
        it opens a new block. BPE merges across the joins only make the real count lower."""
        joined = (i - 1) in self.chosen or (i + 1) in self.chosen
        if joined:
            return self.cost(i) + 1
        gap = self.gap_cost if self.chosen else 0
        return self.cost(i) + 1 + gap + self.marker_cost(i)

    def is_duplicate(self, i: int) -> bool:
        key = _NORMALISE.sub(" ", self.s.segments[i].text.lower()).strip()
        if key in self.seen_text:
            return True
        if self.s.vectors is not None and self.n_kept and self.options.dedup_cosine < 1:
            sims = self.kept[: self.n_kept] @ self.s.vectors[i]
            if float(sims.max()) > self.options.dedup_cosine:
                return True
        return False

    def take(self, i: int, rank_score: float) -> None:
        self.used += self.added_cost(i)
        self.chosen[i] = rank_score
        self.seen_text.add(_NORMALISE.sub(" ", self.s.segments[i].text.lower()).strip())
        if self.s.vectors is not None:
            if self.n_kept == len(self.kept):  # grow by doubling: no copy per pick
                grown = np.zeros(
                    (max(16, 2 * len(self.kept)), self.s.vectors.shape[1]),
                    dtype=self.s.vectors.dtype,
                )
                if self.n_kept:
                    grown[: self.n_kept] = self.kept[: self.n_kept]
                self.kept = grown
            self.kept[self.n_kept] = self.s.vectors[i]
            self.n_kept += 1

    def fill(self) -> None:
        full = self.options.full
        order = np.argsort(-self.s.score, kind="stable")
        floor = self.options.adaptive_floor
        for i in order.tolist():
            if self.budget - self.used < 2:
                break
            if i in self.chosen:
                continue
            if (
                full
                and self.options.relative_cutoff > 0
                and self.used >= floor
                and self.s.relevance[i] < self.options.relative_cutoff
            ):
                break
            if self.used + self.added_cost(i) > self.budget:
                continue
            if full and self.is_duplicate(i):
                continue
            score_i = float(self.s.score[i])
            self.take(i, score_i)
            if full and self.options.leaning_predecessor:
                self._add_predecessor(i, score_i)

    def _add_predecessor(self, i: int, score_i: float) -> None:
        segs = self.s.segments
        while i > 0 and _LEANS_BACK.match(segs[i].text):
            prev = i - 1
            if prev in self.chosen or segs[prev].doc_id != segs[i].doc_id:
                return
            if self.used + self.added_cost(prev) > self.budget:
                return
            # Ranked just below the sentence that needs it, so trimming drops it first.
            self.take(prev, score_i - 1e-6)
            i = prev

    def pieces(self) -> list[Piece]:
        return [
            Piece(self.s.segments[i], self.s.segments[i].text, self.s.doc_names[i], score)
            for i, score in sorted(self.chosen.items())
        ]

    def finish(self) -> tuple[list[Piece], str, int, list[Span]]:
        """Render, and drop the lowest-ranked pieces while the exact count is over budget."""
        while True:
            pieces = self.pieces()
            text, spans = render(pieces, self.multi_doc)
            tokens = self.count(text)
            if tokens <= self.budget or not self.chosen:
                return pieces, text, tokens, spans
            worst = min(self.chosen, key=self.chosen.__getitem__)
            del self.chosen[worst]


def select(
    store: Store,
    doc_ids: Sequence[int],
    query: str,
    budget: int,
    count_tokens: TokenCounter = cl100k_tokens,
    *,
    options: SelectorOptions | None = None,
) -> Selection:
    """The sentences of `doc_ids` that best answer `query`, within `budget` tokens.

    `count_tokens` is the target tokenizer (cl100k_base by default; a llama.cpp model's
    own when feeding it). The rendered Selection.text never exceeds the budget in it.
    """
    options = options or SelectorOptions()
    if budget <= 0:
        raise CtxchatError("the token budget must be a positive number")
    if not query.strip():
        raise CtxchatError("the question is empty")
    started = time.perf_counter()
    stats: dict[str, Any] = {}
    indexes = load_documents(store, doc_ids)
    scored = score(store, indexes, query, options, stats)
    filler = _Filler(scored, budget, count_tokens, options, multi_doc=len(indexes) > 1)
    filler.fill()
    pieces, text, tokens, spans = filler.finish()
    stats["candidates"] = len(scored.segments)
    stats["selected"] = len(pieces)
    stats["select_s"] = round(time.perf_counter() - started, 4)
    return Selection(pieces, text, tokens, spans, stats)
