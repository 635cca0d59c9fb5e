"""The coarse-to-fine pipeline behind ctxchat.compress_text / compress_file.

With a question: select sentences (engines.selector) with a larger budget, then prune the
selected sentences with the token compressor so that more evidence fits the final budget.
Without one: the compressor alone, query-agnostic, over the whole document at the rate.
Every reusable piece is cached in the store (segments, embeddings, keep-probabilities and
the final result), so a repeated call costs a lookup.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Protocol, TypedDict, Unpack

from ctxchat.engines.errors import CtxchatError, ModelNotFoundError
from ctxchat.engines.ingest.code import is_example
from ctxchat.engines.results import Compressed, CompressionStats, JSONObject, Span
from ctxchat.engines.select.embeddings import EmbedStats
from ctxchat.engines.select.selector import (
    DocIndex,
    Piece,
    Selection,
    SelectorOptions,
    load_documents,
    render,
    select,
)
from ctxchat.engines.store.db import DocumentRow, Store
from ctxchat.engines.tokens import count_tokens as cl100k_tokens

__all__ = [
    "DEFAULT_RATE",
    "PRUNE_KEEP_RATE",
    "Compressed",
    "CompressorSetup",
    "Span",
    "compress_documents",
    "compress_file",
    "compress_text",
    "warm_document",
]

# Kept share when neither a budget nor a rate is given (LLMLingua-2's evaluation rate).
DEFAULT_RATE = 0.33
# With a question, the selector gets budget / PRUNE_KEEP_RATE tokens and the compressor
# prunes that selection down to the budget. 0.6 was chosen on the generated QA set; with the
# two-thirds floor below, asking for 60% left nearly every pruned sentence under the floor
# (dropped whole), so the compressor is asked for a share the floor can keep.
PRUNE_KEEP_RATE = 0.85
# With pruning, the best-ranked sentences filling this share of the budget stay verbatim.
VERBATIM_SHARE = 0.5
# With a question, a pruned sentence keeps at least this share of its words or is dropped
# whole: "race . J. Foyt Al Unser Rick Mears." helps no reader.
MIN_WORD_SHARE = 2 / 3
# After pruning, freed budget of at least this many tokens is refilled with whole
# sentences from the selector's next-best ones (this many are asked for).
REFILL_MIN_TOKENS = 8
REFILL_CANDIDATES = 30
# Bump when a change would make cached compressions differ from fresh ones.
PIPELINE_VERSION = 25
TEXT_DOC_NAME = "text"

TokenCounter = Callable[[str], int]


class PrunedTexts(Protocol):
    """A word compressor's output: one pruned text per input text, in order."""

    pieces: list[str]
    stats: JSONObject


class WordCompressor(Protocol):
    """What the pipeline needs of a word compressor (engines.compressor.Compressor is one)."""

    model_id: str

    def compress(
        self, text: str | Sequence[str], *, target_tokens: int | None = None
    ) -> PrunedTexts: ...


@dataclass(frozen=True)
class CompressorSetup:
    """Which word compressor to prune with: model None is the bundled one; device and
    precision as Compressor takes them (the CLI's --compressor/--device/--precision)."""

    model: str | None = None
    device: str = "auto"
    precision: str = "auto"


def _check_options(budget: int | None, rate: float | None) -> None:
    if budget is not None and rate is not None:
        raise CtxchatError("give either a token budget or a rate, not both")
    if budget is not None and (isinstance(budget, bool) or int(budget) != budget or budget <= 0):
        raise CtxchatError(f"the token budget must be a positive whole number, not {budget}")
    if rate is not None and not (0 < rate <= 1):
        raise CtxchatError(f"the rate is the kept share of tokens: 0 < rate <= 1, not {rate}")


@dataclass(frozen=True)
class _TextPage:
    """Pasted text has no pages; segments then carry page None."""

    number: int | None
    text: str


@contextmanager
def _open_store(store: Store | None) -> Iterator[Store]:
    if store is not None:
        yield store
        return
    own = Store()
    try:
        yield own
    finally:
        own.close()


@dataclass(frozen=True)
class _CompressorId:
    """What the cache key needs of the compressor that would prune, known before it loads."""

    model_id: str | None = None  # None: no pruning
    precision: str | None = None


def _compressor_identity(
    prune: bool | None,
    compressor: WordCompressor | None,
    setup: CompressorSetup | None,
) -> tuple[_CompressorId, str]:
    """(identity, why none). prune=None uses the bundled model when it is installed; a model
    the caller names must be there."""
    if prune is False:
        return _CompressorId(), "disabled"
    if compressor is not None:
        return _identity_of(compressor), ""
    from ctxchat.engines.compress.compressor import planned_identity

    setup = setup or CompressorSetup()
    try:
        model_id, precision = planned_identity(
            setup.model, device=setup.device, precision=setup.precision
        )
    except ModelNotFoundError as exc:
        if prune or setup.model:
            raise
        return _CompressorId(), f"unavailable: {exc}"
    return _CompressorId(model_id, precision), ""


def _identity_of(compressor: WordCompressor) -> _CompressorId:
    encoder = getattr(compressor, "encoder", None)
    return _CompressorId(compressor.model_id, getattr(encoder, "precision", None))


def _load_compressor(store: Store, setup: CompressorSetup | None) -> WordCompressor:
    from ctxchat.engines.compress.compressor import default_compressor

    setup = setup or CompressorSetup()
    return default_compressor(
        store, model=setup.model, device=setup.device, precision=setup.precision
    )


def _verbatim_head(pieces: Sequence[Piece], tokens: int) -> set[int]:
    """Indexes of the best-ranked pieces that together take up to `tokens` tokens."""
    head: set[int] = set()
    used = 0
    for i in sorted(range(len(pieces)), key=lambda i: -pieces[i].score):
        cost = cl100k_tokens(pieces[i].text) + 1
        if used + cost > tokens:
            continue
        head.add(i)
        used += cost
    return head


def _with_sources(
    spans: list[Span], kept: Sequence[Piece], originals: Sequence[Piece], multi_doc: bool
) -> list[Span]:
    """Spans with the text each one had before pruning (Span.source).

    Rendering the unpruned pieces that survived pruning groups them into the same blocks
    (grouping depends only on their sentences), so the spans pair up one to one.
    """
    alive = [orig for piece, orig in zip(kept, originals, strict=True) if piece.text.strip()]
    _, before = render(alive, multi_doc)
    if len(before) != len(spans):  # never expected; the view then falls back to matching
        return spans
    return [replace(span, source=src.text) for span, src in zip(spans, before, strict=True)]


def _verbatim_sources(spans: list[Span]) -> list[Span]:
    """Spans of unpruned text: each one is its own source."""
    return [replace(span, source=span.text) for span in spans]


def _prune_to_fit(
    compressor: WordCompressor,
    pieces: Sequence[Piece],
    target: int,
    count: TokenCounter,
    multi_doc: bool,
    stats: CompressionStats,
    verbatim_share: float = 0.0,
    min_word_share: float = 0.0,
) -> tuple[list[Piece], str, int, list[Span]]:
    """Prune pieces with the compressor until the rendered text fits `target` tokens.

    The best-ranked pieces filling `verbatim_share` of the target stay word for word (the
    compressor's word drops can cut a name or a date in two); the rest is pruned. The
    compressor aims at cl100k tokens of the pruned pieces alone, so the aim starts below
    the target by the markers' and verbatim pieces' share and tightens by any overshoot;
    its keep-probabilities are cached, so another round is only a threshold away. A piece
    left with less than `min_word_share` of its words is dropped whole, and so is a code
    example (a piece with lines), never pruned: it comes back whole where the text still
    fits, else stays out ("Vehicle *vp = Land{ 1000, 120 }" is no code). Without a word
    floor (the whole document pruned, no question) code is pruned like the rest: putting
    back thousands of examples one by one would render the document as often."""
    texts = [p.text for p in pieces]
    full_text, _ = render(pieces, multi_doc)
    overhead = max(0, count(full_text) - sum(cl100k_tokens(t) for t in texts))
    head = _verbatim_head(pieces, int(verbatim_share * max(0, target - overhead)))
    code = {i for i, t in enumerate(texts) if i not in head and is_example(t)}
    code = code if min_word_share > 0 else set()
    tail = [i for i in range(len(pieces)) if i not in head and i not in code]
    head_tokens = sum(cl100k_tokens(texts[i]) + 1 for i in head)
    aim = max(1, target - overhead - head_tokens)
    compressor_stats: list[JSONObject] = []
    kept: list[Piece] = list(pieces)
    stats["verbatim_pieces"] = len(head)
    for _ in range(6 if tail else 1):
        new_text = dict.fromkeys(head)
        new_text.update(dict.fromkeys(code, ""))  # out, unless _restore_whole fits it
        if tail:
            result = compressor.compress([texts[i] for i in tail], target_tokens=aim)
            compressor_stats.append(result.stats)
            new_text.update(zip(tail, result.pieces, strict=True))
        alive = [i for i in _readable(new_text, texts, min_word_share) if i not in code]
        alive = _restore_whole(pieces, new_text, alive, target, count, multi_doc)
        originals = [pieces[i] for i in alive]
        kept = [_pruned(p, new_text[i]) for i, p in zip(alive, originals, strict=True)]
        text, spans = render(kept, multi_doc)
        tokens = count(text)
        if tokens <= target:
            stats["compressor"] = compressor_stats
            stats["dropped_fragments"] = len(pieces) - len(alive)
            return kept, text, tokens, _with_sources(spans, kept, originals, multi_doc)
        aim = max(1, min(aim - (tokens - target) - 1, int(aim * target / tokens)))
    stats["compressor"] = compressor_stats
    return _drop_least_relevant(kept, originals, target, count, multi_doc)


def _drop_least_relevant(
    kept: Sequence[Piece],
    originals: Sequence[Piece],
    target: int,
    count: TokenCounter,
    multi_doc: bool,
) -> tuple[list[Piece], str, int, list[Span]]:
    """Still over after pruning (a tokenizer far from cl100k): the least relevant pieces
    go until the text fits."""
    order = sorted(range(len(kept)), key=lambda i: kept[i].score)
    alive = set(range(len(kept)))
    for i in order:
        alive.discard(i)
        chosen = [kept[j] for j in sorted(alive)]
        text, spans = render(chosen, multi_doc)
        tokens = count(text)
        if tokens <= target:
            sources = [originals[j] for j in sorted(alive)]
            return chosen, text, tokens, _with_sources(spans, chosen, sources, multi_doc)
    return [], "", 0, []


def _pruned(piece: Piece, text: str | None) -> Piece:
    return piece if text is None else replace(piece, text=text)


def _restore_whole(
    pieces: Sequence[Piece],
    new_text: dict[int, str | None],
    alive: list[int],
    target: int,
    count: TokenCounter,
    multi_doc: bool,
) -> list[int]:
    """Pieces pruned below the word floor come back whole, best-ranked first, while the
    text still fits `target`; the others stay dropped (a sentence is worth its words or out)."""
    dropped = sorted(set(new_text) - set(alive), key=lambda i: -pieces[i].score)
    for i in dropped:
        new_text[i] = None
        trial = sorted([*alive, i])
        text, _ = render([_pruned(pieces[j], new_text[j]) for j in trial], multi_doc)
        if count(text) <= target:
            alive = trial
    return alive


def _readable(new_text: dict[int, str | None], texts: Sequence[str], min_share: float) -> list[int]:
    """Indexes of the pieces to keep: verbatim ones (None) and pruned ones that still hold
    at least `min_share` of their words."""
    return sorted(
        i
        for i, new in new_text.items()
        if new is None or len(new.split()) >= min_share * len(texts[i].split())
    )


def _cache_key(
    shas: Sequence[str],
    query: str | None,
    target: int,
    budget: int | None,
    rate: float | None,
    options: JSONObject,
) -> str:
    blob = json.dumps(
        {
            "v": PIPELINE_VERSION,
            "docs": list(shas),
            "query": query,
            "target": target,
            "budget": budget,
            "rate": rate,
            "options": options,
        },
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class CompressOptions(TypedDict, total=False):
    """The keywords compress_text / compress_file pass on to compress_documents."""

    count_tokens: TokenCounter | None
    tokenizer_id: str | None
    prune: bool | None
    compressor: WordCompressor | None
    compressor_setup: CompressorSetup | None
    selector_options: SelectorOptions | None
    keep_rate: float
    verbatim_share: float
    use_cache: bool
    original_tokens: int | None


@dataclass
class _Run:
    """The state one compress_documents call threads through its steps."""

    store: Store
    doc_ids: Sequence[int]
    indexes: list[DocIndex]
    query: str | None
    target: int
    original: int
    count: TokenCounter
    comp: WordCompressor | None
    options: JSONObject
    stats: CompressionStats
    started: float
    key: str | None = None

    @property
    def docs(self) -> list[DocumentRow]:
        return [ix.doc for ix in self.indexes]

    @property
    def multi_doc(self) -> bool:
        return len(self.indexes) > 1

    def all_pieces(self) -> list[Piece]:
        return [Piece(s, s.text, ix.doc.name) for ix in self.indexes for s in ix.segments]

    def finish(self, text: str, spans: list[Span]) -> Compressed:
        return _finish(
            self.store,
            self.key,
            self.docs,
            self.query,
            self.options,
            text,
            self.original,
            spans,
            self.stats,
            self.started,
        )


def compress_documents(
    store: Store,
    doc_ids: Sequence[int],
    query: str | None = None,
    budget: int | None = None,
    rate: float | None = None,
    count_tokens: TokenCounter | None = None,
    *,
    tokenizer_id: str | None = None,
    prune: bool | None = None,
    compressor: WordCompressor | None = None,
    compressor_setup: CompressorSetup | None = None,
    selector_options: SelectorOptions | None = None,
    keep_rate: float = PRUNE_KEEP_RATE,
    verbatim_share: float = VERBATIM_SHARE,
    use_cache: bool = True,
    original_tokens: int | None = None,
) -> Compressed:
    """Compress stored documents for a question (or without one) to a budget or rate.

    count_tokens is the tokenizer the budget is counted in (cl100k_base when None; pass
    the llama.cpp model's own when feeding it, with a tokenizer_id so the final result
    can be cached). prune: None prunes when the compressor model is installed, True
    requires it, False selects only. Counts in the result are cl100k_base; original_tokens
    overrides the stored documents' count (the sum of their sentences') when the caller
    knows the exact one.
    """
    _check_options(budget, rate)
    if not doc_ids:
        raise CtxchatError("no documents to compress")
    query = query.strip() if query else None
    started = time.perf_counter()
    indexes = load_documents(store, doc_ids)
    if count_tokens is None:
        tokenizer_id = "cl100k_base"
    original = (
        original_tokens if original_tokens is not None else sum(ix.doc.tokens for ix in indexes)
    )
    target = int(budget) if budget is not None else max(1, round((rate or DEFAULT_RATE) * original))

    planned, why_not = _compressor_identity(prune, compressor, compressor_setup)
    tuning = (keep_rate, verbatim_share, selector_options)
    options = _run_options(query, budget, rate, target, tokenizer_id, planned, *tuning)
    count = count_tokens or cl100k_tokens
    stats = _new_stats(options, why_not)
    run = _Run(
        store, doc_ids, indexes, query, target, original, count, None, options, stats, started
    )
    if use_cache and tokenizer_id is not None:
        # The reader version too: a document read again by a newer reader has new segments.
        shas = [f"{d.sha256}/{d.reader}" for d in run.docs]
        run.key = _cache_key(shas, query, target, budget, rate, options)
        hit = _cached_result(run, run.key)
        if hit is not None:
            return hit  # nothing loaded: the compressor is only needed on a miss
    if planned.model_id is not None:
        run.comp = compressor or _load_compressor(store, compressor_setup)
        if _identity_of(run.comp) != planned:  # never expected: keep the result off its key
            run.key = None
    return _compress_run(run, selector_options, keep_rate, verbatim_share)


def _compress_run(
    run: _Run,
    selector_options: SelectorOptions | None,
    keep_rate: float,
    verbatim_share: float,
) -> Compressed:
    """The whole documents when they fit; else select (and prune), or prune without a question."""
    whole = _whole_if_it_fits(run)
    if whole is not None:
        return whole
    if run.query:
        text, spans = _select_then_prune(
            run, run.query, selector_options, keep_rate, verbatim_share
        )
    else:
        text, spans = _prune_everything(run)
    run.stats["cache_hits"]["keep_probs"] = _keep_prob_hits(run.stats.get("compressor"))
    return run.finish(text, spans)


def _run_options(
    query: str | None,
    budget: int | None,
    rate: float | None,
    target: int,
    tokenizer_id: str | None,
    comp: _CompressorId,
    keep_rate: float,
    verbatim_share: float,
    selector_options: SelectorOptions | None,
) -> JSONObject:
    """Everything that decides the result: recorded in the stats and hashed into the cache key."""
    pruning = comp.model_id is not None
    return {
        "query": query,
        "budget": budget,
        "rate": rate,
        "target_tokens": target,
        "tokenizer": tokenizer_id,
        "compressor": comp.model_id,
        "precision": comp.precision,
        "keep_rate": keep_rate if pruning else None,
        "verbatim_share": verbatim_share if pruning else None,
        "selector": (selector_options or SelectorOptions()).key() if query else None,
    }


def _new_stats(options: JSONObject, why_not: str) -> CompressionStats:
    stats: CompressionStats = {
        "seconds": {"ingest": 0.0, "select": 0.0, "embed": 0.0, "compress": 0.0},
        "cache_hits": {"compression": False, "embeddings": 0, "keep_probs": None},
        "options": options,
    }
    if why_not:
        stats["compressor_status"] = why_not
    return stats


def _cached_result(run: _Run, key: str) -> Compressed | None:
    """The stored result for key, or None when it was never computed."""
    hit = run.store.get_compression(key)
    if hit is None:
        return None
    run.stats["cache_hits"]["compression"] = True
    run.stats["mode"] = "cached"
    run.stats["seconds"]["total"] = round(time.perf_counter() - run.started, 4)
    spans = [Span(**s) for s in hit.spans] if hit.spans is not None else None
    return Compressed(hit.text, hit.original_tokens, hit.compressed_tokens, spans, run.stats)


def _whole_if_it_fits(run: _Run) -> Compressed | None:
    """The whole documents when they fit the target: the best context there is."""
    if run.target < run.original:
        return None
    text, spans = render(run.all_pieces(), run.multi_doc)
    spans = _verbatim_sources(spans)
    if run.count(text) > run.target:
        return None
    run.stats["mode"] = "whole"
    return run.finish(text, spans)


def _select_then_prune(
    run: _Run,
    query: str,
    selector_options: SelectorOptions | None,
    keep_rate: float,
    verbatim_share: float,
) -> tuple[str, list[Span]]:
    """Select sentences for the question, then prune them to the target if need be."""
    stats, comp, target = run.stats, run.comp, run.target
    select_budget = target if comp is None else max(target, int(target / keep_rate))
    selection = select(
        run.store,
        run.doc_ids,
        query,
        select_budget,
        run.count,
        options=selector_options,
        spare=REFILL_CANDIDATES if comp is not None else 0,
    )
    stats["seconds"]["select"] = selection.stats.get("select_s", 0.0)
    stats["seconds"]["embed"] = selection.stats.get("embed_s", 0.0)
    stats["cache_hits"]["embeddings"] = selection.stats.get("embeddings", {}).get("cached", 0)
    stats["selection"] = selection.stats
    if selection.stats.get("index"):
        stats["index"] = selection.stats["index"]
        if selection.stats["index"]["early"]:
            # Answered before the index is complete: a later call will rank better.
            run.key = None
    if comp is None or selection.tokens <= target:
        stats["mode"] = "select"
        return selection.text, _verbatim_sources(selection.spans)
    stats["mode"] = "select+prune"
    t0 = time.perf_counter()
    kept, text, tokens, spans = _prune_to_fit(
        comp,
        selection.pieces,
        target,
        run.count,
        run.multi_doc,
        stats,
        verbatim_share,
        MIN_WORD_SHARE,
    )
    if target - tokens >= REFILL_MIN_TOKENS and selection.spare:
        text, spans = _refill(run, kept, selection, stats) or (text, spans)
    stats["seconds"]["compress"] = round(time.perf_counter() - t0, 4)
    return text, spans


def _refill(
    run: _Run, kept: Sequence[Piece], selection: Selection, stats: CompressionStats
) -> tuple[str, list[Span]] | None:
    """Spend what pruning freed (fragments under the word floor dropped whole) on the
    next-best whole sentences that still fit, best first; None when none fits."""
    order = {doc_id: k for k, doc_id in enumerate(dict.fromkeys(run.doc_ids))}
    originals = {p.segment.id: p for p in selection.pieces}
    pieces = list(kept)
    added = 0
    result: tuple[str, list[Span]] | None = None
    for extra in selection.spare:
        trial = sorted([*pieces, extra], key=lambda p: (order[p.segment.doc_id], p.segment.ord))
        text, spans = render(trial, run.multi_doc)
        if run.count(text) > run.target:
            continue
        pieces, added = trial, added + 1
        sources = [originals.get(p.segment.id, p) for p in pieces]
        result = text, _with_sources(spans, pieces, sources, run.multi_doc)
    stats["refilled"] = added
    return result


def _prune_everything(run: _Run) -> tuple[str, list[Span]]:
    """Without a question: the compressor alone over every sentence."""
    if run.comp is None:
        raise ModelNotFoundError(
            "compressing without a question needs the compressor model, which is not "
            "installed; ask a question (--query) to select sentences instead"
        )
    run.stats["mode"] = "prune"
    t0 = time.perf_counter()
    _, text, _, spans = _prune_to_fit(
        run.comp, run.all_pieces(), run.target, run.count, run.multi_doc, run.stats
    )
    run.stats["seconds"]["compress"] = round(time.perf_counter() - t0, 4)
    return text, spans


def _keep_prob_hits(compressor_stats: list[JSONObject] | None) -> int | None:
    """Keep-probability cache hits of the first compressor round (its own stats format)."""
    if not compressor_stats:
        return None
    first = compressor_stats[0]
    if isinstance(first, dict):
        for name in ("cache_hits", "cached", "keep_probs_cached"):
            value = first.get(name)
            if isinstance(value, int):
                return value
    return None


def _finish(
    store: Store,
    key: str | None,
    docs: Sequence[DocumentRow],
    query: str | None,
    options: JSONObject,
    text: str,
    original: int,
    spans: list[Span],
    stats: CompressionStats,
    started: float,
) -> Compressed:
    compressed = cl100k_tokens(text)
    if key is not None:
        store.put_compression(
            key,
            doc_id=docs[0].id if len(docs) == 1 else None,
            query=query,
            options=json.dumps(options, sort_keys=True),
            text=text,
            spans=[asdict(s) for s in spans],
            original_tokens=original,
            compressed_tokens=compressed,
        )
    stats["seconds"] = {k: round(v, 4) for k, v in stats["seconds"].items()}
    stats["seconds"]["total"] = round(time.perf_counter() - started, 4)
    return Compressed(text, original, compressed, list(spans), stats)


def warm_document(
    store: Store, doc_id: int, on_progress: Callable[[int, int], None] | None = None
) -> EmbedStats:
    """Compute (or load) a document's sentence embeddings ahead of the first question.

    A thin wrapper of engines.indexing.index_document (resumable, chunked) kept for
    callers of the first API; on_progress(done, total) counts distinct sentences.
    """
    from ctxchat.engines.select.indexing import index_document

    report = index_document(
        store,
        doc_id,
        on_progress=None if on_progress is None else (lambda p: on_progress(p.done, p.total)),
    )
    done = report.progress
    doc = store.document(doc_id)
    rows = doc.segments if doc is not None else done.total
    return EmbedStats(
        total=rows,
        cached=rows - done.computed,
        computed=done.computed,
        seconds=done.seconds,
    )


def add_text(store: Store, text: str, name: str = TEXT_DOC_NAME) -> DocumentRow:
    """Store pasted text as a document (kind "text", keyed by the sha256 of its UTF-8 bytes)."""
    from ctxchat.engines.ingest import READER_VERSION, read_by_older_reader
    from ctxchat.engines.ingest.segment import segment_pages

    data = text.encode("utf-8")
    segments = segment_pages([_TextPage(None, text)])  # type: ignore[list-item]
    doc, created = store.add_document(
        sha256=hashlib.sha256(data).hexdigest(),
        name=name,
        path="",
        kind="text",
        size=len(data),
        segments=segments,
        reader=READER_VERSION,
    )
    if not created and read_by_older_reader(doc):  # cut by an older segmenter
        doc = store.replace_segments(doc.id, path="", segments=segments, reader=READER_VERSION)
    return doc


def compress_text(
    text: str,
    query: str | None = None,
    budget: int | None = None,
    rate: float | None = None,
    *,
    store: Store | None = None,
    **kwargs: Unpack[CompressOptions],
) -> Compressed:
    """Compress pasted text. It is stored as a document (kind "text") so caches apply."""
    _check_options(budget, rate)
    if not text or not text.strip():
        raise CtxchatError("the text to compress is empty")

    with _open_store(store) as db:
        t0 = time.perf_counter()
        doc = add_text(db, text)
        ingest_s = time.perf_counter() - t0
        kwargs.setdefault("original_tokens", cl100k_tokens(text))
        result = compress_documents(db, [doc.id], query, budget, rate, **kwargs)
    result.stats["seconds"]["ingest"] = round(ingest_s, 4)
    return result


def compress_file(
    path: str | Path,
    query: str | None = None,
    budget: int | None = None,
    rate: float | None = None,
    *,
    store: Store | None = None,
    password: str | None = None,
    on_progress: Callable[..., None] | None = None,
    **kwargs: Unpack[CompressOptions],
) -> Compressed:
    """Compress a file (PDF, EPUB, HTML, text...). It is added to the library on first use;
    a path that is no file may name a library document (id, name or hash prefix).

    on_progress(pages_done, total) reports ingest progress; extra keywords go to
    compress_documents (count_tokens, prune, ...).
    """
    _check_options(budget, rate)
    from ctxchat.engines.ingest.library import open_document

    with _open_store(store) as db:
        t0 = time.perf_counter()
        added = open_document(db, path, password=password, on_progress=on_progress)
        ingest_s = time.perf_counter() - t0
        result = compress_documents(db, [added.document.id], query, budget, rate, **kwargs)
    result.stats["seconds"]["ingest"] = round(ingest_s, 4)
    return result
