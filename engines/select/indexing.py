"""Background indexing: embed a document's sentences ahead of the first question.

Sentences go through the embedder in chunks of a few thousand tokens, and each chunk's
vectors are committed to the store before the next one starts. So a killed or cancelled
run loses at most the chunk in flight, and the next run (or a question: engines.selector
reads whatever vectors exist) picks up where it stopped. Between chunks the run checks
whether it should stop (cancelled, the document removed) or wait (a question is being
answered and needs the CPU).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ctxchat.engines.select.embeddings import MODEL_ID, Embedder, default_embedder, embed_cached
from ctxchat.engines.store.db import SegmentRow, Store

# Tokens per committed chunk: one to two seconds of embedding on a 2-core CPU in bf16, so a
# cancel or a question's on-demand embedding waits at most that long.
CHUNK_TOKENS = 4_096
PAUSE_POLL_S = 0.1


@dataclass(frozen=True)
class IndexProgress:
    """Where indexing of one document stands: distinct sentences with a vector / in all."""

    doc_id: int
    done: int
    total: int
    seconds: float = 0.0  # spent embedding in this run so far
    computed: int = 0  # sentences embedded by this run

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 1.0

    @property
    def percent(self) -> int:
        """Whole percent, 100 only when every sentence has a vector."""
        if self.done >= self.total:
            return 100
        return min(99, int(100 * self.fraction))

    @property
    def complete(self) -> bool:
        return self.done >= self.total

    @property
    def eta_s(self) -> float | None:
        """Seconds left at this run's rate (None until the first chunk is in)."""
        if self.complete:
            return 0.0
        if self.computed <= 0 or self.seconds <= 0:
            return None
        return (self.total - self.done) * self.seconds / self.computed


@dataclass(frozen=True)
class IndexReport:
    progress: IndexProgress
    stopped: str | None = None  # None: finished; "cancelled" or "removed"


ProgressFn = Callable[[IndexProgress], None]


def index_progress(store: Store, doc_id: int) -> IndexProgress:
    """How much of the document is indexed (from the store; nothing is computed)."""
    done, total = store.embedding_progress(doc_id, MODEL_ID)
    return IndexProgress(doc_id, done, total)


def chunks_by_tokens(segments: Sequence[SegmentRow], tokens: int) -> list[list[SegmentRow]]:
    """Consecutive segments grouped so that each group holds about `tokens` tokens."""
    out: list[list[SegmentRow]] = []
    current: list[SegmentRow] = []
    used = 0
    for seg in segments:
        if current and used + seg.tokens > tokens:
            out.append(current)
            current, used = [], 0
        current.append(seg)
        used += max(seg.tokens, 1)
    if current:
        out.append(current)
    return out


def index_document(
    store: Store,
    doc_id: int,
    *,
    on_progress: ProgressFn | None = None,
    should_stop: Callable[[], bool] | None = None,
    should_pause: Callable[[], bool] | None = None,
    embedder: Embedder | None = None,
    chunk_tokens: int = CHUNK_TOKENS,
) -> IndexReport:
    """Embed every sentence of the document that has no vector yet; resumable.

    on_progress gets an IndexProgress after each committed chunk (and once at the start).
    should_stop() is asked between chunks; so is should_pause(), and while it holds the run
    waits (still stopping when asked). A removed document stops the run too.
    """
    busy = 0.0  # seconds spent embedding: pauses do not count towards the rate
    progress = index_progress(store, doc_id)
    if on_progress is not None:
        on_progress(progress)
    missing = store.missing_embeddings(doc_id, MODEL_ID)
    for chunk in chunks_by_tokens(missing, chunk_tokens):
        stopped = _wait_or_stop(store, doc_id, should_stop, should_pause)
        if stopped:
            return IndexReport(progress, stopped)
        t0 = time.perf_counter()
        # The model loads only when there is something to embed.
        vectors = (embedder or default_embedder()).encode([s.text for s in chunk])
        store.put_embeddings(MODEL_ID, {s.hash: v for s, v in zip(chunk, vectors, strict=True)})
        busy += time.perf_counter() - t0
        progress = IndexProgress(
            doc_id,
            progress.done + len(chunk),
            progress.total,
            busy,
            progress.computed + len(chunk),
        )
        if on_progress is not None:
            on_progress(progress)
    stopped = _wait_or_stop(store, doc_id, should_stop, should_pause)
    if stopped:
        return IndexReport(progress, stopped)
    embed_headings(store, doc_id)
    return IndexReport(progress)


def embed_headings(store: Store, doc_id: int) -> None:
    """The document's distinct section headings, embedded and stored (the selector scores
    each sentence's heading against the question; a book has hundreds of them)."""
    titles = sorted({s.heading for s in store.iter_segments(doc_id) if s.heading})
    embed_cached(store, titles)


def _wait_or_stop(
    store: Store,
    doc_id: int,
    should_stop: Callable[[], bool] | None,
    should_pause: Callable[[], bool] | None,
) -> str | None:
    """None to go on; otherwise why the run stops."""
    while True:
        if should_stop is not None and should_stop():
            return "cancelled"
        if store.document(doc_id) is None:
            return "removed"
        if should_pause is None or not should_pause():
            return None
        time.sleep(PAUSE_POLL_S)


def format_eta(seconds: float | None) -> str:
    """'~40 s left', '~3 min left', or '' when unknown."""
    if seconds is None:
        return ""
    if seconds < 90:
        return f"~{max(1, round(seconds))} s left"
    return f"~{round(seconds / 60)} min left"


def early_answer_note(index_stats: dict[str, object] | None) -> str | None:
    """One line for a context made before the document was fully indexed (the early path),
    from the selector's stats["index"]; None when the full index was used."""
    if not index_stats or not index_stats.get("early"):
        return None
    return (
        f"the index is {index_stats.get('percent', 0)}% done, so this context was ranked from "
        "the best word matches embedded on the spot; `ctxchat add PATH` finishes the index"
    )
