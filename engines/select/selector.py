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
from functools import cached_property, lru_cache
from itertools import permutations

import numpy as np

from ctxchat.engines.errors import CtxchatError
from ctxchat.engines.results import JSONObject, Span
from ctxchat.engines.select import fusion
from ctxchat.engines.select.embeddings import (
    DIM,
    MODEL_ID,
    EmbedStats,
    embed,
    embed_cached,
    embed_segments,
    text_hash,
)
from ctxchat.engines.select.lead import example_after, leads_into, leads_up
from ctxchat.engines.select.options import with_options
from ctxchat.engines.store.db import DocumentRow, SegmentRow, Store
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
# Words for matching titles: underscores split too, so "asn1_der_coding" in a question
# names the section a manual's PDF titles "asn1 der coding".
_NORMALISE = re.compile(r"[\W_]+")


@dataclass(frozen=True)
class SelectorOptions:
    """How sentences are ranked. `method` picks a baseline for benchmarks; "ctxchat" is all."""

    method: str = "ctxchat"  # random | lead | blind | bm25 | dense | hybrid | ctxchat
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
    # A sentence that stops open ("we would use the following code:") brings what it leads
    # into (select.lead) when the budget allows, not a dangling "as" or ":" alone; the rest
    # of a sentence ("are available for use in src/Makevars") brings where it opens.
    lead_ins: bool = True
    dedup_cosine: float = 0.95
    # Adaptive stop: once `adaptive_floor` tokens are in, skip sentences whose relevance
    # (best of dense and BM25, relative to the top sentence) is below this share.
    relative_cutoff: float = 0.25
    adaptive_floor: int = 2048
    bm25_limit: int = 5000
    # "asked": a word's BM25 weight counts its rarity in the documents asked about, so the
    # context for one document does not depend on what else the library holds; "library":
    # FTS5's weight over every stored document (before PIPELINE_VERSION 17).
    bm25_idf: str = "asked"
    # Query handling for the lexical signal: "content" drops question and function words
    # ("who", "did", "the", "my"), which match everywhere in a long document; "raw" is
    # the question as typed (what the BM25 baseline uses).
    lexical_query: str = "raw"
    # Passage-level evidence: each sentence gets this share of its section's score (the
    # section's best dense match fused with its summed BM25), so a sentence in the passage
    # that answers the question ranks above a look-alike elsewhere.
    section_weight: float = 0.0
    # Headings as evidence: a section whose heading the question names, or that the best
    # sentences name (the bridge to a second passage), gets this much added.
    named_weight: float = 0.4
    named_from_top: int = 8
    # A section the question itself names ("asn1_der_coding" names "asn1 der coding")
    # counts this much more than one the best sentences name.
    question_named_weight: float = 0.0
    # Multiply (1 + named_weight) instead of adding named_weight: a named section's
    # unrelated sentences then do not crowd out a small budget.
    named_scaled: bool = False
    # Answer types: a question asking when (or how many) lifts sentences holding a date
    # (or a number) by this much.
    answer_type_weight: float = 0.0
    # At budgets below compact_below, fill by score / tokens**short_bias: two short
    # sentences that may hold the answer beat one long one.
    short_bias: float = 0.0
    # Below this budget a page marker also stands for the skip before it (no "[...]" line):
    # at 2% of an article (~120 tokens) a gap and a marker would cost 10 tokens a block.
    compact_below: int = 400
    # Below compact_below, markers name a section without its numbering ("[p. 3, Results]").
    short_titles: bool = True
    # A sentence that is only its section's heading is not selected where page markers
    # name sections (PDFs): it would spend a tiny budget on the title twice.
    skip_headings: bool = True
    # The first sentence of a section the question or the best sentences name (a
    # Wikipedia-style lead: dates, aliases, what the thing is) gets this much more.
    lead_weight: float = 0.1
    # Exact-count passes after the greedy fill, to use what its upper bounds left over.
    top_up_tries: int = 20
    # Bridge slots (the second hop): the best sentences of passages that the best
    # sentences name but the question does not are lifted to rank just below the top one,
    # so a small budget holds both hops. bridge_from_top: how many best sentences are read.
    bridge_slots: int = 1
    bridge_from_top: int = 8
    # Within a bridge passage, a sentence holding what the question asks for (a date for
    # "when", a number for "how many") gets this much more when choosing its best (0.2
    # and 0.5 changed nothing on the dev split).
    bridge_type_weight: float = 0.0
    # "A or B?" questions: the passages the question names count as bridges first.
    bridge_choice: bool = True
    # Below compact_below, sentences of fewer words are not taken on their own (page-break
    # fragments like "Bernthal." cost a page marker and say nothing).
    min_words: int = 3
    # Below compact_below, when the best sentence and the first bridge sentence do not fit
    # together, the bridge sentence goes first: the first passage has shorter sentences
    # to fill the rest, the second hop has one candidate.
    bridge_first: bool = True
    # ... unless the bridge sentence is longer than this many times the best one (it
    # would leave the first passage no room at all).
    bridge_first_ratio: float = 1.25
    # A passage is named when all its title's words occur (in any order: "the village of
    # Fucking in Austria" names "Fucking, Austria"), not only the title as a phrase.
    bridge_words: bool = True
    # ... and a sentence names a passage together with its own passage's title (see
    # section_mentions).
    bridge_context: bool = True
    # What the next hop must add: among the residual_pool best sentences, each gets this
    # much times the share it holds of the question's words the best sentence lacks
    # (compared as content_stems: "collaborated" meets "collaboration", "poets" "poet").
    residual_weight: float = 0.1
    residual_pool: int = 100
    # Question coverage in context: each sentence gets this much times the share of the
    # question's words (weighted by rarity, compared by their first 6 letters) that it or
    # its passage's title holds. A sentence reads in its passage ("He was Programme
    # Director of 5AA" under "Nic Nolan"), so the title's words count for every sentence
    # of the passage and the sentence adding the question's other words ranks first.
    coverage_weight: float = 0.8
    # The same share over the whole passage (its title and all its sentences): the
    # passage that holds most of the question, not the one sentence that repeats a name.
    passage_coverage_weight: float = 0.8
    # Pseudo-relevance feedback, a second lexical round: the names (capitalised words,
    # numbers) that the prf_from_top best sentences add to the question are searched
    # again, and the sentences of each other passage get this much times its best
    # sentence's min-max of that BM25 score, so the next hop ranks even when no title
    # is named.
    prf_weight: float = 0.2
    prf_from_top: int = 1
    # A word of the document that joins two of the question's words ("xrange", "linewidth")
    # counts as both, for coverage and BM25: manuals name their commands this way.
    compounds: bool = True
    # A command-line option the question names ("what does ls -h do?"): the description
    # under the item line that lists it gets this much times its select.options score
    # (and at least the line's own score).
    option_weight: float = 1.0
    seed: int = 0

    @property
    def full(self) -> bool:
        return self.method == "ctxchat"

    def key(self) -> JSONObject:
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
    stats: JSONObject = field(default_factory=dict)
    # The next-best sentences the budget left out, best first: a caller that frees part
    # of the budget later (pruning drops a fragment) fills it from these.
    spare: list[Piece] = field(default_factory=list)

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
    matrix: np.ndarray | None = None  # every sentence's vector, once all are known
    # While the document is being indexed: the vectors known so far (zero rows elsewhere).
    partial: np.ndarray | None = None
    have: np.ndarray | None = None
    heading_vectors: np.ndarray | None = None  # the headings' vectors, once all are embedded
    # What never changes about the sentences, computed on first use (cached_property).

    @cached_property
    def position(self) -> dict[int, int]:
        return {s.id: i for i, s in enumerate(self.segments)}

    @cached_property
    def same_block_prev(self) -> np.ndarray:
        return _same_block_prev(self.segments)

    @cached_property
    def leans(self) -> np.ndarray:
        return leans_back(self.segments)

    @cached_property
    def names(self) -> list[str]:
        return [self.doc.name] * len(self.segments)

    @cached_property
    def blind(self) -> np.ndarray:
        return blind_scores(self.segments)

    @cached_property
    def sections(self) -> np.ndarray:
        return _section_ids(self.segments)

    @cached_property
    def section_titles(self) -> list[str]:
        return _section_titles(self.segments, self.sections)

    @cached_property
    def heading_only(self) -> np.ndarray:
        return heading_only(self.segments)

    @cached_property
    def contents(self) -> np.ndarray:
        return contents_entries(self.segments)

    @cached_property
    def marked_headings(self) -> np.ndarray:
        """Heading-only sentences whose section a page marker names (PDFs)."""
        paged = np.array([seg.page is not None for seg in self.segments], dtype=bool)
        return self.heading_only & paged

    @cached_property
    def leads(self) -> np.ndarray:
        return section_leads(self.sections, self.heading_only)

    @cached_property
    def headings(self) -> tuple[list[str], np.ndarray]:
        """The distinct headings and each sentence's index into them (-1: none)."""
        titles = sorted({s.heading for s in self.segments if s.heading})
        where = {t: i for i, t in enumerate(titles)}
        return titles, np.array([where.get(s.heading, -1) for s in self.segments], dtype=int)

    @cached_property
    def postings(self) -> dict[str, np.ndarray]:
        """Content-word stem (see content_stems) -> the rows of the sentences holding it."""
        rows: dict[str, list[int]] = {}
        for i, seg in enumerate(self.segments):
            for t in content_stems(seg.text):
                rows.setdefault(t, []).append(i)
        return {t: np.array(r, dtype=np.int64) for t, r in rows.items()}

    @cached_property
    def vocabulary(self) -> frozenset[str]:
        """Every word of the sentences and titles, lowercased, as written."""
        texts = [seg.text for seg in self.segments] + self.section_titles
        return frozenset(w for text in texts for w in _WORDS.findall(text.lower()))

    @cached_property
    def title_postings(self) -> dict[str, np.ndarray]:
        """Stem -> the sections whose title (numbering dropped) holds it."""
        titles: dict[int, str] = {}
        for seg, k in zip(self.segments, self.sections.tolist(), strict=True):
            if seg.heading and k not in titles:
                titles[k] = _NUMBERING.sub("", seg.heading)
        rows: dict[str, list[int]] = {}
        for k, title in titles.items():
            for t in content_stems(title):
                rows.setdefault(t, []).append(k)
        return {t: np.array(r, dtype=np.int64) for t, r in rows.items()}


# (library file, document id, sha256, reader version)
_DocKey = tuple[str, int, str, int]


class _LRU:
    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[_DocKey, DocIndex] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: _DocKey) -> DocIndex | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: _DocKey, value: DocIndex) -> None:
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


# A document's segments change only when a newer reader reads its file again, so (db, id,
# sha256, reader version) is a safe key.
DOC_CACHE = _LRU(8)


def doc_cache_key(store: Store, doc: DocumentRow) -> _DocKey:
    return (str(store.path), doc.id, doc.sha256, doc.reader)


def document_index(store: Store, doc: DocumentRow) -> DocIndex:
    key = doc_cache_key(store, doc)
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
    index.partial = index.have = None
    return index.matrix


# -- vectors while a document is being indexed (the early path) -------------------------

# A question on documents missing more than this many tokens of vectors is answered by the
# early path instead of embedding them all first (that is seconds on a 2-core CPU; an
# article embeds whole, a book is left to its background indexer, engines/select/indexing.py).
EARLY_PATH_MIN_MISSING_TOKENS = 20_000
# ... and so is a question missing more than the on-demand budget when every partly indexed
# document misses at most this share of its tokens: a manual read again after a reader fix,
# its changed sentences not yet embedded by the background indexer. Embedding them first
# held the question for 10 s (R Extensions, 2-core CPU); the vectors known already score
# nearly every sentence. A fresh drop misses all of its vectors: an article embeds whole.
EARLY_PATH_MAX_MISSING_SHARE = 0.25
# Early path: the best lexical candidates and their neighbours, embedded on demand (and
# stored, so they count towards the index), up to this many tokens.
EARLY_EMBED_TOKENS = 4_000


# One thread at a time fills a document's vectors: the app preloads them in a worker while
# a question may already be asked.
_VECTORS_LOCK = threading.Lock()


def preload_documents(store: Store, doc_ids: Sequence[int]) -> int:
    """Read the documents' sentences, stored vectors and word postings into memory before
    the first question needs them (a 48k-sentence manual: ~4 s); the sentences read."""
    count = 0
    for index in load_documents(store, doc_ids):
        known_vectors(store, index, EmbedStats())
        _ = (index.postings, index.vocabulary, index.title_postings)  # built once, here
        count += len(index.segments)
    return count


def known_vectors(
    store: Store, index: DocIndex, stats: EmbedStats
) -> tuple[np.ndarray, np.ndarray]:
    """(vectors, have): what memory and the store hold for the document's sentences, zero
    rows where nothing is known yet. Only the rows still unknown are looked up again."""
    with _VECTORS_LOCK:
        return _known_vectors(store, index, stats)


def _known_vectors(
    store: Store, index: DocIndex, stats: EmbedStats
) -> tuple[np.ndarray, np.ndarray]:
    n = len(index.segments)
    if index.matrix is not None:
        stats.from_memory = True
        return index.matrix, np.ones(n, dtype=bool)
    if index.partial is None or index.have is None:
        index.partial = np.zeros((n, DIM), dtype=np.float32)
        index.have = np.zeros(n, dtype=bool)
    vectors, have = index.partial, index.have
    unknown = np.flatnonzero(~have).tolist()
    found = store.get_embeddings([index.segments[i].hash for i in unknown], MODEL_ID)
    for i in unknown:
        vector = found.get(index.segments[i].hash)
        if vector is not None:
            vectors[i], have[i] = vector, True
    if have.all():
        index.matrix, index.partial, index.have = vectors, None, None
    return vectors, have


def embed_rows(store: Store, index: DocIndex, rows: Sequence[int], stats: EmbedStats) -> None:
    """Embed (and store) the sentences at `rows` of a partly indexed document."""
    if not rows or index.partial is None or index.have is None:
        return
    matrix = embed_segments(store, [index.segments[i] for i in rows], stats)
    with _VECTORS_LOCK:
        if index.partial is None or index.have is None:
            return  # another thread loaded them all meanwhile
        index.partial[list(rows)] = matrix
        index.have[list(rows)] = True
        if index.have.all():
            index.matrix, index.partial, index.have = index.partial, None, None


def on_demand_rows(
    lexical: np.ndarray, have: np.ndarray, tokens: Sequence[int], budget: int
) -> list[int]:
    """Retrieve-then-rerank: the sentences to embed now, best lexical hit first, each with
    its neighbours (context and continuations are scored from them), within `budget` tokens."""
    picked: list[int] = []
    taken = set(np.flatnonzero(have).tolist())
    used = 0
    hits = np.flatnonzero(lexical > 0)
    for i in hits[np.argsort(-lexical[hits], kind="stable")].tolist():
        for j in (i, i - 1, i + 1):
            if j < 0 or j >= len(have) or j in taken:
                continue
            if used + tokens[j] > budget:
                return picked
            taken.add(j)
            picked.append(j)
            used += tokens[j]
    return picked


def _distinct_share(indexes: Sequence[DocIndex], haves: Sequence[np.ndarray]) -> tuple[int, int]:
    done: set[str] = set()
    every: set[str] = set()
    for ix, have in zip(indexes, haves, strict=True):
        for seg, known in zip(ix.segments, have.tolist(), strict=True):
            every.add(seg.hash)
            if known:
                done.add(seg.hash)
    return len(done), len(every)


def _early_path(indexes: Sequence[DocIndex], haves: Sequence[np.ndarray]) -> bool:
    """Whether a question takes the early path: more is missing than it should wait for,
    or every document missing vectors has most of them (not a fresh drop, which an
    article's question embeds whole), and more is missing than the on-demand budget."""
    missing: list[tuple[int, int]] = []  # (tokens missing, tokens) of each partial document
    for ix, have in zip(indexes, haves, strict=True):
        lacking = sum(ix.segments[i].tokens for i in np.flatnonzero(~have).tolist())
        if lacking:
            missing.append((lacking, sum(seg.tokens for seg in ix.segments)))
    lacking = sum(m for m, _ in missing)
    mostly_indexed = all(m <= EARLY_PATH_MAX_MISSING_SHARE * total for m, total in missing)
    return lacking > EARLY_PATH_MIN_MISSING_TOKENS or (
        lacking > EARLY_EMBED_TOKENS and mostly_indexed
    )


def gather_vectors(
    store: Store,
    indexes: Sequence[DocIndex],
    lexical: np.ndarray,
    options: SelectorOptions,
    embed_stats: EmbedStats,
    stats: JSONObject,
) -> np.ndarray:
    """Every sentence's vector (embedding what is missing), or, for a large document still
    being indexed, the early path: what is indexed plus the best lexical candidates
    embedded on demand; the rest scores 0 on the dense signal. stats["index"] says which."""
    known = [known_vectors(store, ix, embed_stats) for ix in indexes]
    early = options.full and _early_path(indexes, [have for _, have in known])
    haves = [have for _, have in known]
    on_demand = 0
    if early:
        all_have = np.concatenate(haves)
        tokens = [s.tokens for ix in indexes for s in ix.segments]
        rows = on_demand_rows(lexical, all_have, tokens, EARLY_EMBED_TOKENS)
        on_demand = len(rows)
        offset = 0
        for ix in indexes:
            n = len(ix.segments)
            embed_rows(
                store, ix, [r - offset for r in rows if offset <= r < offset + n], embed_stats
            )
            offset += n
        known = [known_vectors(store, ix, EmbedStats()) for ix in indexes]
        haves = [have for _, have in known]
    else:
        known = [
            (document_matrix(store, ix, embed_stats), np.ones(len(ix.segments), dtype=bool))
            if not have.all()
            else (vectors, have)
            for ix, (vectors, have) in zip(indexes, known, strict=True)
        ]
        haves = [have for _, have in known]
    embed_stats.total = sum(len(ix.segments) for ix in indexes)
    embed_stats.cached = embed_stats.total - embed_stats.computed
    done, total = _distinct_share(indexes, haves)
    stats["index"] = {
        "early": early,
        "embedded": done,
        "sentences": total,
        "percent": 100 if done >= total else min(99, int(100 * done / max(total, 1))),
        "on_demand": on_demand,
    }
    matrices = [vectors for vectors, _ in known]
    return np.concatenate(matrices) if matrices else np.zeros((0, DIM), np.float32)


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
_MARKER_NUMBER = re.compile(r"^(?:\d+(?:\.\d+)*\.?|[IVX]+\.)\s+")


def _section(heading: str | None, short: bool = False) -> str:
    """The section part of a marker: ", 3.2 Results" (brackets could end the marker early);
    short: ", Results" (the numbering costs tokens a tiny budget needs for text)."""
    if not heading:
        return ""
    title = " ".join(heading.replace("[", "(").replace("]", ")").split())
    if short:
        title = _MARKER_NUMBER.sub("", title) or title
    if len(title) > MARKER_SECTION_CHARS:
        title = title[: MARKER_SECTION_CHARS - 1].rstrip() + "\u2026"
    return f", {title}"


def _marker(piece: Piece, multi_doc: bool, short: bool = False, section: bool = True) -> str:
    """[p. 12], [p. 12, 3.2 Results] or [name.pdf, p. 12, 3.2 Results]; without the
    section (section=False) where the last marker named it already."""
    page = piece.segment.page
    section = _section(piece.segment.heading, short) if section else ""
    if multi_doc:
        return f"[{piece.doc_name}, p. {page}{section}] " if page else f"[{piece.doc_name}] "
    return f"[p. {page}{section}] " if page else ""


def render(
    pieces: Sequence[Piece], multi_doc: bool = False, compact: bool = False, short: bool = False
) -> tuple[str, list[Span]]:
    """Pieces (document order) as prompt text with gap and page markers, plus their spans.

    Adjacent sentences of one paragraph share a line; a new paragraph starts a line; a
    skipped stretch is marked with a "[...]" line; a page marker opens each block whose
    page (or document) differs from the last marker, so answers can cite pages. compact
    (for small budgets): a skip that a new page marker opens needs no "[...]" line too;
    short: section titles in markers go without their numbering.
    """
    out: list[str] = []
    spans: list[Span] = []
    block: list[str] = []
    prev: SegmentRow | None = None
    marked: tuple[int, int | None, str | None] | None = None

    def close_block() -> None:
        if block and prev is not None:
            spans.append(
                Span(" ".join(block), prev.page, prev.doc_id, current_name, section=prev.heading)
            )
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
            # A new page of the same section names the page only: "[p. 13]".
            named = marked is not None and (marked[0], marked[2]) == (seg.doc_id, seg.heading)
            marker = _marker(piece, multi_doc, short, not named) if where != marked else ""
            if prev is not None:
                out.append("\n" if adjacent or (compact and marker) else f"\n{GAP}\n")
            if where != marked:
                out.append(marker)
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
    bridges: list[int] = field(default_factory=list)  # second-hop rows lifted, best first


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
    stats: JSONObject,
) -> Scored:
    segments = [s for ix in indexes for s in ix.segments]
    names = [name for ix in indexes for name in ix.names]
    baseline = _baseline_scores(indexes, query, options, segments, names)
    if baseline is not None:
        return baseline

    lexical, present = _lexical_scores(store, indexes, query, options, len(segments), stats)
    if options.method == "bm25":
        return Scored(segments, names, lexical, fusion.minmax(lexical), None)

    vectors, q, dense = _dense_scores(store, indexes, query, lexical, options, stats)
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
        fused = _full_boosts(store, indexes, query, options, stats, fused, lexical, dense, q)
        if options.residual_weight > 0:
            fused = _residual_boost(indexes, segments, query, options, fused)
        if options.prf_weight > 0:
            fused = _feedback_boost(store, indexes, segments, query, options, fused)
        if options.bridge_slots > 0:
            fused, bridges = _bridge_boost(indexes, segments, query, options, fused)
            return Scored(segments, names, fused, relevance, vectors, bridges)
    return Scored(segments, names, fused, relevance, vectors)


def _baseline_scores(
    indexes: Sequence[DocIndex],
    query: str,
    options: SelectorOptions,
    segments: list[SegmentRow],
    names: list[str],
) -> Scored | None:
    """The baselines that read neither BM25 nor embeddings (random, lead, blind); None otherwise."""
    n = len(segments)
    if options.method == "random":
        # Seeded per question: reproducible, yet not the same sentences for every question.
        rng = np.random.default_rng([options.seed, zlib.crc32(query.encode("utf-8"))])
        return Scored(segments, names, rng.random(n), np.ones(n), None)
    if options.method == "lead":  # the document's opening, as far as the budget goes
        return Scored(segments, names, -np.arange(n, dtype=np.float64), np.ones(n), None)
    if options.method == "blind":  # never reads the question: computed once per document
        blind = np.concatenate([ix.blind for ix in indexes])
        return Scored(segments, names, blind, np.ones(n), None)
    return None


def _lexical_scores(
    store: Store,
    indexes: Sequence[DocIndex],
    query: str,
    options: SelectorOptions,
    n: int,
    stats: JSONObject,
) -> tuple[np.ndarray, np.ndarray]:
    """(BM25 score, whether BM25 matched) per segment; zeros for the dense method."""
    lexical = np.zeros(n)
    present = np.zeros(n, dtype=bool)
    if options.method == "dense":
        return lexical, present
    start = time.perf_counter()
    lexical_query = content_words(query) if options.lexical_query == "content" else query
    if options.full and options.compounds:
        lexical_query = " ".join([lexical_query, *compound_words(indexes, query)])
    lexical, present = _bm25_rows(store, indexes, lexical_query or query, options)
    stats["bm25_s"] = round(time.perf_counter() - start, 4)
    return lexical, present


def _bm25_rows(
    store: Store, indexes: Sequence[DocIndex], text: str, options: SelectorOptions
) -> tuple[np.ndarray, np.ndarray]:
    """(BM25 score, whether BM25 matched) of `text` per segment, the documents' segments
    one after another as the indexes list them."""
    n = sum(len(ix.segments) for ix in indexes)
    lexical, present = np.zeros(n), np.zeros(n, dtype=bool)
    doc_ids = [ix.doc.id for ix in indexes]
    hits = store.bm25(doc_ids, text, limit=options.bm25_limit, idf=options.bm25_idf)
    offset = 0
    for ix in indexes:
        position = ix.position
        for seg_id, value in hits.items():
            i = position.get(seg_id)
            if i is not None:
                lexical[offset + i], present[offset + i] = value, True
        offset += len(ix.segments)
    return lexical, present


def _dense_scores(
    store: Store,
    indexes: Sequence[DocIndex],
    query: str,
    lexical: np.ndarray,
    options: SelectorOptions,
    stats: JSONObject,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(segment vectors, query vector, cosine similarity per segment)."""
    start = time.perf_counter()
    embed_stats = EmbedStats()
    vectors = gather_vectors(store, indexes, lexical, options, embed_stats, stats)
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
    return vectors, q, dense


def _named_boost(
    indexes: Sequence[DocIndex],
    segments: Sequence[SegmentRow],
    query: str,
    options: SelectorOptions,
    fused: np.ndarray,
) -> np.ndarray:
    """Lift the sections the question or the best sentences name (and their leads)."""
    sections, titles = _all_sections(indexes)
    skip = np.concatenate([ix.heading_only for ix in indexes])
    named = named_sections(
        segments,
        sections,
        titles,
        query,
        fused,
        options.named_from_top,
        skip if options.skip_headings else None,
        options.question_named_weight,
    )
    if options.named_scaled:  # within a named section, relevance still ranks
        fused = fused * (1.0 + options.named_weight * named)
    else:
        fused = fused + options.named_weight * named
    if options.lead_weight > 0:
        leads = np.concatenate([ix.leads for ix in indexes])
        fused = fused + options.lead_weight * named * leads
    return fused


def _full_boosts(
    store: Store,
    indexes: Sequence[DocIndex],
    query: str,
    options: SelectorOptions,
    stats: JSONObject,
    fused: np.ndarray,
    lexical: np.ndarray,
    dense: np.ndarray,
    q: np.ndarray,
) -> np.ndarray:
    """The full selector's structure-aware boosts on top of the fused score, in order."""
    segments = [s for ix in indexes for s in ix.segments]
    if options.section_weight > 0:
        sections, _ = _all_sections(indexes)
        fused = fused + options.section_weight * section_scores(
            sections, lexical, dense, options.dense_weight
        )
    if options.coverage_weight > 0 or options.passage_coverage_weight > 0:
        sentence, passage = coverage_scores(indexes, query, options.compounds)
        fused = fused + options.coverage_weight * sentence
        fused = fused + options.passage_coverage_weight * passage
    if options.named_weight > 0:
        fused = _named_boost(indexes, segments, query, options, fused)
    if options.answer_type_weight > 0:
        fused = fused + options.answer_type_weight * answer_type_scores(query, segments)
    if options.option_weight > 0:
        fused = with_options(fused, query, segments, options.option_weight, STOPWORDS)
    if options.heading_weight > 0:
        fused = fused + options.heading_weight * np.concatenate(
            [_heading_scores(store, ix, q, stats["index"]["early"]) for ix in indexes]
        )
    if options.continuation > 0:
        leans = np.concatenate([ix.leans for ix in indexes])
        fused = carry_to_continuations(fused, segments, options.continuation, leans)
    same_block = np.concatenate([ix.same_block_prev for ix in indexes])
    return fusion.neighbour_boost(fused, same_block, options.neighbour_weight)


_WORDS = re.compile(r"\w[\w'-]*")
# Words that carry no topic in a question typed in any case ("who played guitar on my
# guitar gently weeps"): question words, auxiliaries, pronouns, articles, prepositions.
STOPWORDS = frozenset(
    """a about after all also an and any are as at be been before being between both but
    by can could did do does doing during each for from had has have having he her here
    hers him his how i if in into is it its just me more most my no nor not of off on once
    only or other our out over own same she should so some such than that the their them
    then there these they this those through to too under until up very was we were what
    when where which while who whom whose why will with would you your""".split()
)


_ASKS_WHEN = re.compile(
    r"\b(?:when|what (?:year|date|decade|century)|which year|date of|born|died|founded)\b",
    re.IGNORECASE,
)
_ASKS_NUMBER = re.compile(
    r"\b(?:how (?:many|much|long|old|tall|high|far|big|large)|population|number of|"
    r"percentage|capacity)\b",
    re.IGNORECASE,
)
_DATE = re.compile(
    r"\b(?:1[0-9]{3}|20[0-9]{2})\b|\b(?:January|February|March|April|May|June|July|August|"
    r"September|October|November|December)\b"
)
_NUMBER = re.compile(
    r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|hundred|"
    r"thousand|million|billion|dozen|forty|fifty)\b",
    re.IGNORECASE,
)


def answer_type_scores(query: str, segments: Sequence[SegmentRow]) -> np.ndarray:
    """1 for sentences holding what the question asks for (a date for "when", a number
    for "how many"), 0 otherwise or when the question asks for neither."""
    if _ASKS_WHEN.search(query):
        pattern = _DATE
    elif _ASKS_NUMBER.search(query):
        pattern = _NUMBER
    else:
        return np.zeros(len(segments))
    return np.array([pattern.search(s.text) is not None for s in segments], dtype=np.float64)


def content_words(query: str) -> str:
    """The query without stopwords (empty when nothing else is left)."""
    words = [w for w in _WORDS.findall(query) if w.lower() not in STOPWORDS]
    return " ".join(words)


def _section_ids(segments: Sequence[SegmentRow]) -> np.ndarray:
    """A section number per sentence: a new one at each heading change (or, without
    headings, at each paragraph), never spanning documents."""
    out = np.zeros(len(segments), dtype=np.int64)
    current = 0
    for i in range(1, len(segments)):
        a, b = segments[i - 1], segments[i]
        key_a = a.heading if a.heading is not None else a.paragraph
        key_b = b.heading if b.heading is not None else b.paragraph
        if a.doc_id != b.doc_id or key_a != key_b:
            current += 1
        out[i] = current
    return out


_NUMBERING = re.compile(r"^(?:(?:chapter|section|part)\s+)?[\dIVX]+(?:\.\d+)*\.?\s+", re.IGNORECASE)
_PAREN = re.compile(r"\s*\([^)]*\)")


def _section_titles(segments: Sequence[SegmentRow], sections: np.ndarray) -> list[str]:
    """Each section's heading as a phrase to look for ("3.2 Ed Wood (film)" -> "ed wood"),
    "" where there is none or it is too short to mean anything."""
    titles = [""] * (int(sections.max()) + 1 if len(sections) else 0)
    for seg, k in zip(segments, sections.tolist(), strict=True):
        if seg.heading and not titles[k]:
            title = _bare_heading(seg.heading).lower()
            # counted without its marks: an option's heading "‘-s’" is the word "s"
            titles[k] = title if len(_NORMALISE.sub(" ", title).strip()) >= 4 else ""
    return titles


def _bare_heading(heading: str) -> str:
    """A heading without its numbering and a parenthetical ("3.2 Ed Wood (film)" -> "Ed Wood")."""
    return _PAREN.sub("", _NUMBERING.sub("", heading)).strip()


def _spelling(heading: str | None) -> str:
    """A heading as a sentence that names it writes it: its numbering, a parenthetical and
    the quotes around it left out, its case kept ("‘--size’" -> "--size")."""
    return _bare_heading(heading or "").strip("'\"\u2018\u2019\u201c\u201d`")


def _spelled_in(text: str, heading: str | None) -> bool:
    """`text` writes the heading as the heading does (case and marks), as a word of its own."""
    spelling = _spelling(heading)
    return bool(spelling) and re.search(rf"(?<!\w){re.escape(spelling)}(?!\w)", text) is not None


def section_scores(
    sections: np.ndarray, lexical: np.ndarray, dense: np.ndarray, dense_weight: float
) -> np.ndarray:
    """Each sentence's section score: its section's best dense match and summed BM25,
    min-max fused like sentences are."""
    if not len(sections):
        return np.zeros(0)
    count = int(sections.max()) + 1
    lex = np.bincount(sections, weights=lexical, minlength=count)
    best = np.full(count, -1.0)
    np.maximum.at(best, sections, dense)
    return fusion.weighted_minmax(lex, best, dense_weight)[sections]


def _all_sections(indexes: Sequence[DocIndex]) -> tuple[np.ndarray, list[str]]:
    """Section numbers over several documents (offset per document) and their titles."""
    parts, titles = [], []
    for ix in indexes:
        parts.append(ix.sections + len(titles))
        titles.extend(ix.section_titles)
    return (np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)), titles


def named_sections(
    segments: Sequence[SegmentRow],
    sections: np.ndarray,
    titles: Sequence[str],
    query: str,
    scores: np.ndarray,
    top: int,
    skip: np.ndarray | None = None,
    by_question: float = 0.0,
) -> np.ndarray:
    """1 for sentences of a section whose heading the question names, or one of the `top`
    best sentences outside it names; else 0. skip: sentences not to read (headings).
    by_question: added for a heading the question itself names."""
    padded = [f" {_NORMALISE.sub(' ', t).strip()} " for t in titles]
    order = np.argsort(-scores, kind="stable")
    if skip is not None:
        order = order[~skip[order]]
    texts = [" " + _NORMALISE.sub(" ", query.lower()) + " "]
    sources = [-1]
    for i in order[:top].tolist():
        texts.append(" " + _NORMALISE.sub(" ", segments[i].text.lower()) + " ")
        sources.append(int(sections[i]))
    named = np.zeros(len(titles))
    for k, title in enumerate(padded):
        if title.strip() and any(
            # a sentence under a heading of the same title (the same table in another
            # section) names its own topic, not a bridge to another passage
            title in text and src != k and (src < 0 or padded[src] != title)
            for text, src in zip(texts, sources, strict=True)
        ):
            named[k] = 1.0 + (by_question if title in texts[0] else 0.0)
    return named[sections] if len(titles) else np.zeros(len(sections))


def section_mentions(
    segments: Sequence[SegmentRow],
    sections: np.ndarray,
    titles: Sequence[str],
    rows: Sequence[int],
    by_words: bool = False,
    in_context: bool = False,
) -> np.ndarray:
    """Per section, True when one of the sentences at `rows` (outside it) names its title
    (as a phrase, or with by_words all of its words anywhere). in_context (with by_words):
    the sentence is read under its own passage's title ("in Tremont" under "Maine State
    Route 102" names "Tremont, Maine"), as long as the sentence adds a word of the title."""
    out = np.zeros(len(titles), dtype=bool)
    alike: dict[str, list[int]] = {}
    for k, title in enumerate(titles):
        alike.setdefault(title, []).append(k)
    for i in rows:
        own = titles[int(sections[i])]
        named = titles_named(segments[i].text, titles, by_words)
        if in_context and by_words and own:
            named |= titles_named(f"{segments[i].text} {own}", titles, True) & ~titles_named(
                own, titles, True
            )
        # a passage under the same title (a table split across pages) is its own topic
        named[alike[own]] = False
        # A one-word title is named only as its heading writes it: "block size" names no
        # option "‘--size’", "examples" no section "Examples"; "Brutus" names "Brutus".
        for k in np.flatnonzero(named).tolist():
            if len(_title_words(titles[k])) == 1:
                # section numbers rise along the sentences: its first row by bisection
                heading = segments[int(np.searchsorted(sections, k))].heading
                named[k] = _spelled_in(segments[i].text, heading)
        out |= named
    return out


def titles_named(text: str, titles: Sequence[str], by_words: bool = False) -> np.ndarray:
    """Which passage titles (lowercased, see _section_titles) `text` names: as a phrase, or
    with by_words all of a title's words anywhere in it ("the village of Fucking in
    Austria" names "Fucking, Austria")."""
    flat = " " + _NORMALISE.sub(" ", text.lower()) + " "
    if by_words:
        words = set(flat.split())
        return np.array([bool(t) and _title_words(t) <= words for t in titles], dtype=bool)
    return np.array([bool(t) and _padded(t) in flat for t in titles], dtype=bool)


@lru_cache(maxsize=8192)
def _title_words(title: str) -> frozenset[str]:
    return frozenset(_NORMALISE.sub(" ", title.lower()).split())


@lru_cache(maxsize=8192)
def _padded(title: str) -> str:
    return f" {_NORMALISE.sub(' ', title).strip()} "


def bridge_rows(
    segments: Sequence[SegmentRow],
    sections: np.ndarray,
    titles: Sequence[str],
    query: str,
    scores: np.ndarray,
    skip: np.ndarray,
    options: SelectorOptions,
) -> list[int]:
    """The best sentence of each of up to `bridge_slots` second-hop passages: sections the
    `bridge_from_top` best sentences name and the question does not (its own words would
    already rank them), best first; a sentence holding what the question asks for (a
    date, a number) counts bridge_type_weight more."""
    order = np.argsort(-scores, kind="stable")
    order = order[~skip[order]]
    if not len(order) or not len(titles):
        return []
    top = order[: options.bridge_from_top].tolist()
    by_words = options.bridge_words
    in_question = titles_named(query, titles, by_words)
    named = (
        section_mentions(segments, sections, titles, top, by_words, options.bridge_context)
        & ~in_question
    )
    if options.bridge_choice and " or " in f" {query.lower()} " and in_question.sum() >= 2:
        named = in_question
    named[int(sections[top[0]])] = False
    rows = np.flatnonzero(named[sections] & ~skip)
    if not len(rows):
        return []
    value = scores[rows]
    if options.bridge_type_weight > 0:
        kinds = answer_type_scores(query, [segments[i] for i in rows.tolist()])
        value = value + options.bridge_type_weight * kinds
    out: list[int] = []
    seen: set[int] = set()
    for j in np.argsort(-value, kind="stable").tolist():
        i = int(rows[j])
        if int(sections[i]) not in seen:
            seen.add(int(sections[i]))
            out.append(i)
        if len(out) >= options.bridge_slots:
            break
    return out


STEM = 6
_NO_ROWS = np.zeros(0, dtype=np.int64)
_SUFFIX = re.compile(r"(?:'s|ies|es|s|ed|ing)$")


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    return (_SUFFIX.sub("", word) if len(word) > 4 else word)[:STEM]


def content_stems(text: str) -> frozenset[str]:
    """The text's words that are not stopwords, lowercased, an inflection cut off words
    of five letters or more ("rivers" meets "river") and cut to their first STEM letters
    ("collaborated" meets "collaboration")."""
    return frozenset(_stem(w) for w in _WORDS.findall(text.lower()) if w not in STOPWORDS)


def compound_words(indexes: Sequence[DocIndex], query: str) -> dict[str, frozenset[str]]:
    """Words of the documents that join two of the question's words, as manuals name
    commands and options ("xrange" for "the range of the x axis", "linewidth" for "line
    width"): the compound -> the stems of the question words it stands for."""
    found = _WORDS.findall(query.lower())
    words = list(dict.fromkeys(w for w in found if w.isalnum() and w not in STOPWORDS))
    out: dict[str, frozenset[str]] = {}
    for a, b in permutations(words, 2):
        parts = frozenset((_stem(a), _stem(b)))
        # "lines" and "width" join as "linewidth"; a name and its number too ("SHA-256" or
        # "sha 256" for "SHA256"), two numbers never ("3 5" is no "35")
        for joined in {a + b, *(form + b for form in _uninflected(a))}:
            # the joined word as written, not a longer form of one part ("southern...")
            long_enough = len(joined) >= 5 and _stem(joined) not in parts
            if not any(c.isalpha() for c in joined):
                continue
            if long_enough and any(joined in ix.vocabulary for ix in indexes):
                out[joined] = parts
    # A verb the document names by its noun: "cite" for "citation", "define" for
    # "definition", "configure" for "configuration".
    for word in words:
        if word.isalpha() and len(word) >= 4:
            base = word[:-1] if word.endswith("e") else word
            for noun in (base + ending for ending in _NOUN_ENDINGS):
                if _stem(noun) != _stem(word) and _in_vocabulary(noun, indexes):
                    out[noun] = frozenset({_stem(word)})
    # A hyphenated word the document writes whole: "SHA-256" for "SHA256", "e-mail".
    for word in found:
        joined = word.replace("-", "")
        lettered = any(c.isalpha() for c in joined)
        if joined != word and len(joined) >= 4 and lettered and _in_vocabulary(joined, indexes):
            out[joined] = frozenset({_stem(word)})
    return out


_NOUN_ENDINGS = ("ation", "ition", "ion")


def _in_vocabulary(word: str, indexes: Sequence[DocIndex]) -> bool:
    return any(word in ix.vocabulary for ix in indexes)


def _uninflected(word: str) -> set[str]:
    """The word without a plural or tense ending, read both ways ("lines": "line", "lin")."""
    if len(word) <= 4:
        return set()
    return {_SUFFIX.sub("", word), word[:-1] if word.endswith("s") else word}


def coverage_scores(
    indexes: Sequence[DocIndex], query: str, compounds_on: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """(per sentence, per sentence's passage) the share of the question's content words,
    each weighted by its rarity (idf over the documents' sentences), that the sentence
    read under its passage's title holds, and that the passage (its title and all its
    sentences) holds."""
    terms = sorted(content_stems(query))
    sizes = [len(ix.segments) for ix in indexes]
    n = sum(sizes)
    sentence, passage = np.zeros(n), np.zeros(n)
    if not terms or not n:
        return sentence, passage
    # A compound ("xrange") holds each of the words it joins.
    compounds = compound_words(indexes, query) if compounds_on else {}
    spelled = {t: [t, *(_stem(c) for c, parts in compounds.items() if t in parts)] for t in terms}
    df = {t: sum(len(ix.postings.get(t, ())) for ix in indexes) for t in terms}
    weight = {t: float(np.log(1.0 + n / (1.0 + df[t]))) for t in terms}
    total = sum(weight.values())
    offset = 0
    for ix, size in zip(indexes, sizes, strict=True):
        sections = ix.sections
        count = int(sections.max()) + 1 if size else 0
        for t in terms:
            hit = np.zeros(size, dtype=bool)
            titled = np.zeros(count, dtype=bool)
            for form in spelled[t]:
                hit[ix.postings.get(form, _NO_ROWS)] = True
                titled[ix.title_postings.get(form, _NO_ROWS)] = True
            hit |= titled[sections]
            held = np.zeros(count, dtype=bool)
            held[sections[hit]] = True
            sentence[offset : offset + size] += weight[t] * hit
            passage[offset : offset + size] += weight[t] * held[sections]
        offset += size
    return sentence / total, passage / total


def _best_sentences(indexes: Sequence[DocIndex], fused: np.ndarray, n: int) -> list[int]:
    """The rows of the `n` best-scored sentences, best first, headings left out."""
    skip = np.concatenate([ix.heading_only for ix in indexes])
    order = np.argsort(-fused, kind="stable")
    return order[~skip[order]][:n].tolist()


def _residual_boost(
    indexes: Sequence[DocIndex],
    segments: Sequence[SegmentRow],
    query: str,
    options: SelectorOptions,
    fused: np.ndarray,
) -> np.ndarray:
    """Lift the best sentences by the share of the question's words the best one lacks."""
    order = _best_sentences(indexes, fused, options.residual_pool)
    terms = content_stems(query)
    if not order or not terms:
        return fused
    left = terms - content_stems(segments[order[0]].text)
    if not left:
        return fused
    # How many of the words left each sentence holds, read from the documents' postings
    # (content_stems of each sentence, computed once per document).
    held = np.zeros(len(fused))
    offset = 0
    for ix in indexes:
        for t in left:
            rows = ix.postings.get(t)
            if rows is not None:
                held[offset + rows] += 1.0
        offset += len(ix.segments)
    out = fused.copy()
    pool = order[1:]
    out[pool] += options.residual_weight * held[pool] / len(left)
    return out


def feedback_terms(texts: Sequence[str], query: str) -> list[str]:
    """The names in `texts` that the question lacks: capitalised words past a sentence's
    first word, and words holding a digit, each once."""
    asked = content_stems(query)
    out: dict[str, None] = {}
    for text in texts:
        for k, w in enumerate(_WORDS.findall(text)):
            named = (k > 0 and w[0].isupper()) or any(c.isdigit() for c in w)
            if named and w.lower() not in STOPWORDS and not (content_stems(w) <= asked):
                out.setdefault(w, None)
    return list(out)


def _feedback_boost(
    store: Store,
    indexes: Sequence[DocIndex],
    segments: Sequence[SegmentRow],
    query: str,
    options: SelectorOptions,
    fused: np.ndarray,
) -> np.ndarray:
    """Search the best sentences' new names again; lift the other passages' hits."""
    top = _best_sentences(indexes, fused, options.prf_from_top)
    terms = feedback_terms([segments[i].text for i in top], query)
    if not terms:
        return fused
    lexical, present = _bm25_rows(store, indexes, " ".join(terms), options)
    if not present.any():
        return fused
    sections, _ = _all_sections(indexes)
    # The names find the passage; the question still ranks its sentences (a lift per
    # sentence would favour the one that repeats the name over the one that answers).
    lift = np.zeros(int(sections.max()) + 1)
    np.maximum.at(lift, sections, fusion.minmax(lexical))
    lift[[int(sections[i]) for i in top]] = 0.0
    return fused + options.prf_weight * lift[sections]


def _bridge_boost(
    indexes: Sequence[DocIndex],
    segments: Sequence[SegmentRow],
    query: str,
    options: SelectorOptions,
    fused: np.ndarray,
) -> tuple[np.ndarray, list[int]]:
    """Lift each bridge sentence to just below the best sentence; (scores, bridge rows)."""
    sections, titles = _all_sections(indexes)
    skip = np.concatenate([ix.heading_only for ix in indexes])
    rows = bridge_rows(segments, sections, titles, query, fused, skip, options)
    if not rows:
        return fused, []
    out = fused.copy()
    best = float(fused[~skip].max()) if (~skip).any() else float(fused.max())
    for n, i in enumerate(rows, start=1):
        out[i] = max(out[i], best - 1e-3 * n)
    return out, rows


def blind_scores(segments: Sequence[SegmentRow]) -> np.ndarray:
    """A question-blind baseline: the share of a sentence's words that carry facts (a
    digit, or a capitalised word that is rare in the document). It is what a selector can
    get without the question: on text where only facts hold digits and names, a lot."""
    words = [_WORDS.findall(s.text) for s in segments]
    counts: dict[str, int] = {}
    for ws in words:
        for w in ws:
            counts[w] = counts.get(w, 0) + 1
    out = np.zeros(len(segments))
    for i, ws in enumerate(words):
        facts = sum(
            1
            for k, w in enumerate(ws)
            if any(c.isdigit() for c in w) or (k > 0 and w[0].isupper() and counts[w] <= 3)
        )
        out[i] = facts / max(len(ws), 1) ** 0.5
    return out


def heading_only(segments: Sequence[SegmentRow]) -> np.ndarray:
    """True where a sentence is nothing but its section's heading ("### 4.6 Willis Harman")."""
    return np.array(
        [bool(s.heading) and s.text.lstrip("#").strip() == s.heading for s in segments],
        dtype=bool,
    )


# A leader and a page number: "9.2 Binary indexed tree … 86", ". . . . | 57: 86 |".
_CONTENTS_LEADER = re.compile(r"(?:\s\u2026|(?:\.\s?){3,})\s*\|?\s*(?:\d+:\s*)?\d+\b")


def contents_entries(segments: Sequence[SegmentRow]) -> np.ndarray:
    """True where a sentence is a table of contents' or an index's entry: it names a
    section as well as the section does and says nothing, yet a question that names the
    section ranks it high (a book's contents filled contexts with "9.2 Binary indexed tree
    . . . 86")."""
    return np.array([_has_leader(s.text) for s in segments], dtype=bool)


def _has_leader(text: str) -> bool:
    if "\u2026" not in text and ". ." not in text and "..." not in text:
        return False  # most sentences: no regex run
    return _CONTENTS_LEADER.search(text) is not None


def section_leads(sections: np.ndarray, headings: np.ndarray) -> np.ndarray:
    """1.0 for the first sentence of each section that is not its heading, else 0."""
    out = np.zeros(len(sections))
    seen: set[int] = set()
    for i, k in enumerate(sections.tolist()):
        if k not in seen and not headings[i]:
            seen.add(k)
            out[i] = 1.0
    return out


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


def _heading_scores(
    store: Store, index: DocIndex, q: np.ndarray, early: bool = False
) -> np.ndarray:
    """Cosine of each sentence's section heading with the question (0 where none). On the
    early path only headings already embedded count: a book has a thousand headings,
    whose embedding is indexing work (engines/select/indexing.py), not the question's."""
    titles, where = index.headings
    if not titles:
        return np.zeros(len(index.segments))
    if early and index.heading_vectors is None:
        found = store.get_embeddings([text_hash(t) for t in titles], MODEL_ID)
        vectors = np.stack([found.get(text_hash(t), np.zeros(DIM, np.float32)) for t in titles])
    else:
        if index.heading_vectors is None:
            index.heading_vectors = embed_cached(store, titles)
        vectors = index.heading_vectors
    sims = np.append(np.clip(vectors @ q, 0, None), 0.0)
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
        self.compact = budget < options.compact_below
        self.short = self.compact and options.short_titles
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
        # Sentences never to take (headings that every marker of their section names).
        self.excluded = np.zeros(len(scored.segments), dtype=bool)
        # Fragments not taken on their own; as the rest of a sentence chosen, they are.
        self.fragment = np.zeros(len(scored.segments), dtype=bool)
        self._marker_cost: dict[tuple[int, int | None, bool], int] = {}

    def unwanted(self, i: int) -> bool:
        """Not to be taken on its own: excluded, or a fragment."""
        return bool(self.excluded[i] or self.fragment[i])

    def marker_cost(self, i: int, section: bool = True) -> int:
        """Tokens of the page marker that would open a block at sentence i (naming its
        section, or its page only)."""
        seg = self.s.segments[i]
        key = (seg.doc_id, seg.page, section)
        if key not in self._marker_cost:
            piece = Piece(seg, seg.text, self.s.doc_names[i])
            marker = _marker(piece, self.multi_doc, self.short, section)
            self._marker_cost[key] = self.count(marker)
        return self._marker_cost[key]

    def _joined_cost(self, i: int) -> int:
        """What sentence i adds next to a chosen neighbour: a joiner, and a page marker
        when a page break or a section comes between them."""
        seg = self.s.segments[i]
        cost = self.cost(i) + 1
        for j in (i - 1, i + 1):
            other = self.s.segments[j] if j in self.chosen else None
            if other is not None and (other.page, other.heading) != (seg.page, seg.heading):
                same_section = (other.doc_id, other.heading) == (seg.doc_id, seg.heading)
                cost += 1 + self.marker_cost(max(i, j), section=not same_section)
        return cost

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
            return self._joined_cost(i)
        if not self.chosen:
            return self.cost(i) + 1 + self.marker_cost(i)
        if self.compact:  # either a "[...]" line or a new page marker, not both
            return self.cost(i) + 1 + max(self.gap_cost, 1 + self.marker_cost(i))
        return self.cost(i) + 1 + self.gap_cost + self.marker_cost(i)

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

    def bridge_first(self) -> None:
        """Take the first bridge sentence first when it and the best one do not fit together."""
        if not self.s.bridges:
            return
        order = np.argsort(-self.s.score, kind="stable")
        top = next((i for i in order.tolist() if not self.unwanted(i)), None)
        bridge = self.s.bridges[0]
        if top is None or top == bridge or self.unwanted(bridge):
            return
        if self.cost(bridge) > self.options.bridge_first_ratio * self.cost(top):
            return
        if self.added_cost(bridge) > self.budget:  # it could not be kept at all
            return
        both = self.added_cost(top) + self.cost(bridge) + 1 + self.gap_cost
        both += self.marker_cost(bridge)
        if both > self.budget:
            self.take(bridge, float(self.s.score[bridge]))

    def fill(self) -> None:
        full = self.options.full
        if full and self.compact and self.options.bridge_first:
            self.bridge_first()
        rank = self.s.score
        if full and self.compact and self.options.short_bias > 0:
            costs = np.array([self.cost(i) for i in range(len(rank))], dtype=np.float64)
            rank = np.clip(rank, 0, None) / np.maximum(costs, 1) ** self.options.short_bias
        order = np.argsort(-rank, kind="stable")
        floor = self.options.adaptive_floor
        for i in order.tolist():
            if self.budget - self.used < 2:
                break
            if i in self.chosen or self.unwanted(i):
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
            if self.chosen and not self._lead_in_fits(i):
                continue  # "... the stats package has" then "[...]": room for another
            score_i = float(self.s.score[i])
            self.take(i, score_i)
            if full and self.options.leaning_predecessor:
                self._add_predecessor(i, score_i)
            self._add_lead_in(i, score_i)
            self._add_opening(i, score_i)

    def _add_predecessor(self, i: int, score_i: float) -> None:
        segs = self.s.segments
        while i > 0 and _LEANS_BACK.match(segs[i].text):
            prev = i - 1
            if prev in self.chosen or segs[prev].doc_id != segs[i].doc_id:
                return
            if self.excluded[prev]:  # a heading the page marker names already
                return
            if self.used + self.added_cost(prev) > self.budget:
                return
            # Ranked just below the sentence that needs it, so trimming drops it first.
            self.take(prev, score_i - 1e-6)
            i = prev

    def _add_lead_in(self, i: int, score_i: float) -> None:
        """Take what sentence i leads into when it stops open (select.lead), in order,
        ranked just below it (trimming drops them first), as far as the budget allows.
        Leaving out a sentence whose lead-in does not fit lost an answer on the libtasn1
        manual (the sentence holding it ends on "the following declaration is invalid:")."""
        for k, j in enumerate(self._open_lead(i), start=1):
            if self.excluded[j] or self.used + self.added_cost(j) > self.budget:
                return
            self.take(j, score_i - 1e-6 * k)
        # the command that shows a closed sentence, when it fits (the sentence needs it not)
        for j in self._unchosen_leads(example_after, i):
            if not self.excluded[j] and self.used + self.added_cost(j) <= self.budget:
                self.take(j, score_i - 1e-6)

    def _lead_in_fits(self, i: int) -> bool:
        """Sentence i and what it leads into fit in what is left (or it leads into nothing)."""
        lead = self._open_lead(i)
        if not lead or any(self.excluded[j] for j in lead):
            return True
        need = self.added_cost(i) + sum(self.cost(j) + 1 for j in lead)
        return self.used + need <= self.budget

    def _add_opening(self, i: int, score_i: float) -> None:
        """Take where sentence i opens when it is the rest of a sentence (select.lead), all
        of it or none, ranked just below it."""
        opening = self._opening(i)
        if any(self.excluded[j] for j in opening):
            return
        if self.used + sum(self.added_cost(j) for j in opening) > self.budget:
            return
        for k, j in enumerate(opening, start=1):
            self.take(j, score_i - 1e-6 * k)

    def _opening(self, i: int) -> list[int]:
        """Where sentence i opens (select.lead) and is not chosen, when lead-ins are on."""
        return self._unchosen_leads(leads_up, i)

    def pieces(self) -> list[Piece]:
        return [
            Piece(self.s.segments[i], self.s.segments[i].text, self.s.doc_names[i], score)
            for i, score in sorted(self.chosen.items())
        ]

    def skip(self, i: int) -> bool:
        """Whether the full selector passes over sentence i (adaptive stop, duplicate)."""
        if not self.options.full:
            return False
        if self.unwanted(i):
            return True
        cutoff = self.options.relative_cutoff
        stopped = cutoff > 0 and self.used >= self.options.adaptive_floor
        if stopped and self.s.relevance[i] < cutoff:
            return True
        return self.is_duplicate(i)

    def render(self) -> tuple[list[Piece], str, int, list[Span]]:
        pieces = self.pieces()
        text, spans = render(pieces, self.multi_doc, self.compact, self.short)
        return pieces, text, self.count(text), spans

    def finish(self) -> tuple[list[Piece], str, int, list[Span]]:
        """Render, and drop the lowest-ranked pieces while the exact count is over budget;
        then spend what the conservative estimates left on the next-best sentences."""
        while True:
            result = self.render()
            if result[2] <= self.budget or not self.chosen:
                break
            worst = min(self.chosen, key=self.chosen.__getitem__)
            del self.chosen[worst]
        return self.top_up(result)

    def spare(self, limit: int) -> list[Piece]:
        """Up to `limit` next-best sentences not chosen (nor skipped, nor open before what
        they lead into), best first."""
        out: list[Piece] = []
        for i in np.argsort(-self.s.score, kind="stable").tolist():
            if len(out) >= limit:
                break
            if i in self.chosen or self.excluded[i] or self.skip(i):
                continue
            if self._open_lead(i):
                continue  # taken alone (the refill after pruning), it would dangle
            seg = self.s.segments[i]
            out.append(Piece(seg, seg.text, self.s.doc_names[i], float(self.s.score[i])))
        return out

    def top_up(
        self, result: tuple[list[Piece], str, int, list[Span]]
    ) -> tuple[list[Piece], str, int, list[Span]]:
        tries = self.options.top_up_tries
        for i in np.argsort(-self.s.score, kind="stable").tolist():
            left = self.budget - result[2]
            if tries <= 0 or left < 2:
                break
            if i in self.chosen or self.cost(i) + 1 > left or self.skip(i):
                continue
            tries -= 1
            # A sentence that stops open comes with what it leads into, or not at all: at
            # the end of the budget a dangling "... the lines" only takes the room.
            group = [i, *self._open_lead(i)]
            for k, j in enumerate(group):
                self.chosen[j] = float(self.s.score[i]) - 1e-6 * k
            attempt = self.render()
            scores = [self.chosen.pop(j) for j in group]
            if attempt[2] <= self.budget:
                for j, score_j in zip(group, scores, strict=True):
                    self.take(j, score_j)  # records it for dedup as well
                result = attempt
        return result

    def _open_lead(self, i: int) -> list[int]:
        """What sentence i leads into (select.lead) and is not chosen, when lead-ins are on."""
        return self._unchosen_leads(leads_into, i)

    def _unchosen_leads(
        self, find: Callable[[Sequence[SegmentRow], int], list[int]], i: int
    ) -> list[int]:
        if not (self.options.full and self.options.lead_ins):
            return []
        return [j for j in find(self.s.segments, i) if j not in self.chosen]


def select(
    store: Store,
    doc_ids: Sequence[int],
    query: str,
    budget: int,
    count_tokens: TokenCounter = cl100k_tokens,
    *,
    options: SelectorOptions | None = None,
    spare: int = 0,
) -> Selection:
    """The sentences of `doc_ids` that best answer `query`, within `budget` tokens.

    `count_tokens` is the target tokenizer (cl100k_base by default; a llama.cpp model's
    own when feeding it). The rendered Selection.text never exceeds the budget in it.
    spare: how many next-best sentences to return in Selection.spare.
    """
    options = options or SelectorOptions()
    if budget <= 0:
        raise CtxchatError("the token budget must be a positive number")
    if not query.strip():
        raise CtxchatError("the question is empty")
    started = time.perf_counter()
    stats: JSONObject = {}
    indexes = load_documents(store, doc_ids)
    scored = score(store, indexes, query, options, stats)
    filler = _Filler(scored, budget, count_tokens, options, multi_doc=len(indexes) > 1)
    if options.full and options.skip_headings:
        filler.excluded = np.concatenate([ix.marked_headings for ix in indexes])
    if options.full:
        filler.excluded = filler.excluded | np.concatenate([ix.contents for ix in indexes])
    if options.full and options.min_words > 0 and filler.compact:
        filler.fragment = np.array(
            [len(seg.text.split()) < options.min_words for seg in scored.segments], dtype=bool
        )
    filler.fill()
    pieces, text, tokens, spans = filler.finish()
    stats["candidates"] = len(scored.segments)
    stats["selected"] = len(pieces)
    stats["select_s"] = round(time.perf_counter() - started, 4)
    return Selection(pieces, text, tokens, spans, stats, filler.spare(spare) if spare else [])
