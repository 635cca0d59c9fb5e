"""Background indexing (resumable, stoppable) and the early path of a question asked before
a document is indexed: real MiniLM weights, a real SQLite store, generated text."""

from __future__ import annotations

import numpy as np
import pytest

from ctxchat.engines.pipeline import add_text, compress_documents
from ctxchat.engines.select import selector
from ctxchat.engines.select.embeddings import EmbedStats, embed_segments
from ctxchat.engines.select.indexing import (
    IndexProgress,
    format_eta,
    index_document,
    index_progress,
)
from ctxchat.engines.store.db import Store
from devkit.docgen import long_document


def _book(store: Store, pages: int = 4, seed: int = 11) -> tuple[int, list]:
    paragraphs, facts = long_document(pages, seed=seed, facts_every=2)
    text = "\n\n".join(p for page in paragraphs for p in page)
    return add_text(store, text, name="book").id, facts


def test_a_stopped_run_keeps_its_vectors_and_the_next_one_resumes() -> None:
    store = Store()
    doc_id, _ = _book(store)
    assert index_progress(store, doc_id).done == 0
    seen: list[IndexProgress] = []
    first = index_document(
        store,
        doc_id,
        on_progress=seen.append,
        should_stop=lambda: len(seen) >= 2,  # the start report and one committed chunk
        chunk_tokens=200,
    )
    assert first.stopped == "cancelled"
    kept = index_progress(store, doc_id)
    assert 0 < kept.done < kept.total and kept.done == first.progress.done
    assert first.progress.eta_s is not None and first.progress.eta_s > 0
    second = index_document(store, doc_id)
    assert second.stopped is None and second.progress.complete
    assert second.progress.computed == kept.total - kept.done  # nothing embedded twice
    assert index_progress(store, doc_id).percent == 100
    # The stored vectors are the ones a one-shot embedding gives.
    segments = store.segments(doc_id)
    stats = EmbedStats()
    embed_segments(store, segments, stats)
    assert stats.computed == 0


def test_removing_the_document_stops_the_run() -> None:
    store = Store()
    doc_id, _ = _book(store)

    def remove_after_first_chunk(p: IndexProgress) -> None:
        if p.computed:
            store.remove_document(doc_id)

    report = index_document(store, doc_id, on_progress=remove_after_first_chunk, chunk_tokens=200)
    assert report.stopped == "removed"
    assert report.progress.computed < report.progress.total


def test_a_paused_run_waits_then_finishes() -> None:
    store = Store()
    doc_id, _ = _book(store, pages=1)
    asked: list[int] = []

    def pause() -> bool:
        asked.append(1)
        return len(asked) < 3  # a question holds the CPU for two polls

    report = index_document(store, doc_id, should_pause=pause)
    assert report.stopped is None and report.progress.complete and len(asked) >= 3


@pytest.fixture
def early_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the test document count as a large one, with a small on-demand budget."""
    monkeypatch.setattr(selector, "EARLY_PATH_MIN_MISSING_TOKENS", 100)
    monkeypatch.setattr(selector, "EARLY_EMBED_TOKENS", 300)
    selector.DOC_CACHE.clear()


def test_a_question_before_indexing_is_answered_from_lexical_candidates(early_path) -> None:
    store = Store()
    doc_id, facts = _book(store, pages=6)
    fact = facts[1]
    result = compress_documents(store, [doc_id], fact.question, budget=120, prune=False)
    index = result.stats["index"]
    assert index["early"] is True and index["on_demand"] > 0
    assert index["percent"] < 100 and index["embedded"] < index["sentences"]
    assert fact.answer in result.text
    # Only the on-demand candidates were embedded, and they are stored for the index.
    done = index_progress(store, doc_id)
    assert done.done == index["embedded"] < done.total
    # An early answer is not cached: once indexed, the same question is ranked again.
    index_document(store, doc_id)
    again = compress_documents(store, [doc_id], fact.question, budget=120, prune=False)
    assert again.stats["cache_hits"]["compression"] is False
    assert again.stats["index"] == {
        "early": False,
        "embedded": done.total,
        "sentences": done.total,
        "percent": 100,
        "on_demand": 0,
    }
    assert fact.answer in again.text


def test_early_scores_use_the_vectors_already_indexed(early_path) -> None:
    store = Store()
    doc_id, _ = _book(store, pages=6)
    segments = store.segments(doc_id)
    half = segments[: len(segments) // 2]
    embed_segments(store, half, EmbedStats())
    sel = selector.select(store, [doc_id], "What is stored at the depot?", 200)
    index = sel.stats["index"]
    assert index["early"] and index["embedded"] >= len({s.hash for s in half})
    cached = sel.stats["embeddings"]
    assert cached["total"] == len(segments) and cached["computed"] == index["on_demand"]


def test_a_mostly_indexed_document_is_not_embedded_whole_before_the_question(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A manual read again after a reader fix: its changed sentences await the background
    indexer. The question embeds its lexical candidates only, not all that is missing; a
    document missing more than EARLY_PATH_MAX_MISSING_SHARE still embeds whole."""
    monkeypatch.setattr(selector, "EARLY_EMBED_TOKENS", 40)
    selector.DOC_CACHE.clear()
    store = Store()
    doc_id, facts = _book(store, pages=6)
    segments = store.segments(doc_id)
    cut = int(len(segments) * 0.85)
    embed_segments(store, segments[:cut], EmbedStats())
    missing = sum(s.tokens for s in segments[cut:])
    assert missing > selector.EARLY_EMBED_TOKENS
    sel = selector.select(store, [doc_id], facts[-1].question, 200)
    assert sel.stats["index"]["early"] is True
    assert 0 < sel.stats["embeddings"]["computed"] < len(segments) - cut

    selector.DOC_CACHE.clear()
    other = Store()
    other_id, other_facts = _book(other, pages=6, seed=12)
    half = other.segments(other_id)
    embed_segments(other, half[: len(half) // 2], EmbedStats())
    sel = selector.select(other, [other_id], other_facts[0].question, 200)
    assert sel.stats["index"]["early"] is False and sel.stats["index"]["percent"] == 100

    # A fresh article beside an indexed book misses a small share of the two: it still
    # embeds whole (its own share is 100%).
    selector.DOC_CACHE.clear()
    index_document(store, doc_id)
    article_id, article_facts = _book(store, pages=1, seed=13)
    sel = selector.select(store, [doc_id, article_id], article_facts[0].question, 200)
    assert sel.stats["index"]["early"] is False and sel.stats["index"]["percent"] == 100


def test_on_demand_rows_take_the_best_lexical_hits_with_their_neighbours() -> None:
    lexical = np.array([0.0, 0.0, 3.0, 0.0, 0.0, 1.0, 0.0])
    have = np.array([False, False, False, True, False, False, False])
    rows = selector.on_demand_rows(lexical, have, [10] * 7, budget=50)
    assert rows == [2, 1, 5, 4, 6]  # 3 is indexed already
    assert selector.on_demand_rows(lexical, have, [10] * 7, budget=25) == [2, 1]


def test_eta_wording() -> None:
    assert format_eta(None) == ""
    assert format_eta(12.4) == "~12 s left"
    assert format_eta(600) == "~10 min left"
    progress = IndexProgress(1, 50, 200, seconds=5.0, computed=50)
    assert progress.percent == 25 and progress.eta_s == pytest.approx(15.0)
    assert IndexProgress(1, 199, 200).percent == 99 and IndexProgress(1, 0, 0).complete


def test_headings_are_indexed_and_the_early_path_does_not_embed_them(early_path) -> None:
    from ctxchat.engines.select.embeddings import MODEL_ID, text_hash

    store = Store()
    paragraphs, facts = long_document(6, seed=3, facts_every=2)
    parts = []
    for n, page in enumerate(paragraphs, start=1):
        parts.append(f"## Section {n} on the depots of district {n * 7}")
        parts.extend(page)
    doc_id = add_text(store, "\n\n".join(parts), name="sections").id
    titles = sorted({s.heading for s in store.segments(doc_id) if s.heading})
    assert len(titles) == 6
    keys = [text_hash(t) for t in titles]
    sel = selector.select(store, [doc_id], facts[0].question, 200)
    assert sel.stats["index"]["early"]
    assert store.get_embeddings(keys, MODEL_ID) == {}  # left to the indexer
    index_document(store, doc_id)
    assert set(store.get_embeddings(keys, MODEL_ID)) == set(keys)


def test_preloading_an_indexed_document_serves_the_first_question_from_memory() -> None:
    """The app reads the documents in use (vectors, word postings) before the first
    question: that question then reads nothing again and selects what it would have."""
    store = Store()
    doc_id, facts = _book(store, pages=3)
    index_document(store, doc_id)
    question = facts[0].question
    selector.DOC_CACHE.clear()
    cold = compress_documents(store, [doc_id], question, budget=120, prune=False, use_cache=False)
    assert cold.stats["selection"]["embeddings"]["in_memory"] is False
    selector.DOC_CACHE.clear()
    assert selector.preload_documents(store, [doc_id]) == store.document(doc_id).segments
    warm = compress_documents(store, [doc_id], question, budget=120, prune=False, use_cache=False)
    assert warm.stats["selection"]["embeddings"]["in_memory"] is True
    assert warm.text == cold.text and facts[0].answer in warm.text
