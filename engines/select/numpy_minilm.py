"""all-MiniLM-L6-v2 as a NumPy forward pass, for a question or a few headings.

Why: `ctxchat ask` on an indexed book needs ONE new vector (the question's); the book's
sentence vectors are already in SQLite. Importing torch and transformers' BERT and loading
the model through AutoModel costs ~6 s of a ~8 s ask on a 2-core CPU, while the maths for a
few dozen tokens is milliseconds. This module needs only numpy and the Rust `tokenizers`
package (installed with transformers; threadpoolctl is optional), maps the same
model.safetensors in fp32 and reproduces BertModel + mean pooling + L2 normalisation
(tests/select/test_numpy_minilm.py compares it with the torch model). Big batches
(indexing) stay on torch (engines/select/embeddings.py), which batches and uses bf16 units.
"""

from __future__ import annotations

import json
import math
import mmap
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from tokenizers import Tokenizer

# Abramowitz & Stegun 7.1.26: erf to within 1.5e-7 (fp32's own rounding is ~6e-8 relative),
# so BERT's exact-erf GELU needs no scipy.
_ERF_P = 0.3275911
_ERF_A = (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)


def erf(x: np.ndarray) -> np.ndarray:
    """The error function, elementwise (float32 in, float32 out)."""
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + _ERF_P * a)
    a1, a2, a3, a4, a5 = _ERF_A
    poly = t * (a1 + t * (a2 + t * (a3 + t * (a4 + t * a5))))
    return (sign * (1.0 - poly * np.exp(-a * a))).astype(x.dtype, copy=False)


def gelu(x: np.ndarray) -> np.ndarray:
    """BERT's "gelu": x * Phi(x) with the exact erf (not the tanh approximation)."""
    return x * 0.5 * (1.0 + erf(x * np.float32(1.0 / math.sqrt(2.0))))


def layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    centred = x - mean
    var = (centred * centred).mean(-1, keepdims=True)
    return centred / np.sqrt(var + np.float32(eps)) * weight + bias


@dataclass(frozen=True)
class Linear:
    """A torch Linear's parameters: y = x @ weight.T + bias (weight is out x in)."""

    weight: np.ndarray
    bias: np.ndarray

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return x @ self.weight.T + self.bias


@dataclass(frozen=True)
class Norm:
    weight: np.ndarray
    bias: np.ndarray


@dataclass(frozen=True)
class BertLayer:
    query: Linear
    key: Linear
    value: Linear
    attention_out: Linear
    attention_norm: Norm
    intermediate: Linear
    output: Linear
    output_norm: Norm


@dataclass(frozen=True)
class BertWeights:
    word: np.ndarray  # (vocab, hidden)
    position: np.ndarray  # (max positions, hidden)
    token_type: np.ndarray  # (2, hidden); a single text is all type 0
    embedding_norm: Norm
    layers: tuple[BertLayer, ...]
    heads: int
    eps: float


def _bert_layer(w: dict[str, np.ndarray], i: int) -> BertLayer:
    p = f"encoder.layer.{i}."

    def linear(name: str) -> Linear:
        return Linear(w[f"{p}{name}.weight"], w[f"{p}{name}.bias"])

    def norm(name: str) -> Norm:
        return Norm(w[f"{p}{name}.weight"], w[f"{p}{name}.bias"])

    return BertLayer(
        query=linear("attention.self.query"),
        key=linear("attention.self.key"),
        value=linear("attention.self.value"),
        attention_out=linear("attention.output.dense"),
        attention_norm=norm("attention.output.LayerNorm"),
        intermediate=linear("intermediate.dense"),
        output=linear("output.dense"),
        output_norm=norm("output.LayerNorm"),
    )


# safetensors dtype names -> numpy (little-endian); BF16 is widened by hand below.
_DTYPES = {"F32": "<f4", "F16": "<f2", "F64": "<f8", "I64": "<i8", "I32": "<i4"}


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """The tensors of a .safetensors file, memory-mapped (zero-copy, read-only).

    The format: an 8-byte little-endian header length, a JSON header naming each tensor's
    dtype, shape and byte range, then the raw buffers. Parsed here rather than with
    safetensors.numpy.load_file, which copies all 90 MB (0.15-0.4 s on the 2-core machine);
    a map reads only the pages used (a question touches a few rows of the 47 MB vocabulary).
    """
    with path.open("rb") as f:
        length = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(length))
        buffer = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    base = 8 + length
    tensors: dict[str, np.ndarray] = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = (base + int(o) for o in info["data_offsets"])
        shape = tuple(int(d) for d in info["shape"])
        if info["dtype"] == "BF16":  # bf16 is the top half of an fp32
            raw = np.frombuffer(buffer, dtype="<u2", count=(end - begin) // 2, offset=begin)
            tensors[name] = (raw.astype(np.uint32) << 16).view(np.float32).reshape(shape)
            continue
        dtype = np.dtype(_DTYPES[info["dtype"]])
        count = (end - begin) // dtype.itemsize
        tensors[name] = np.frombuffer(buffer, dtype=dtype, count=count, offset=begin).reshape(shape)
    return tensors


def load_weights(folder: Path) -> BertWeights:
    """The BertModel weights of `folder` (model.safetensors + config.json), as fp32 arrays."""
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    if config.get("hidden_act", "gelu") != "gelu":
        raise ValueError(f"unsupported activation {config['hidden_act']!r}")
    raw = read_safetensors(folder / "model.safetensors")
    # Some exports prefix the body with "bert."; the pooler is not used by sentence vectors.
    w = {k.removeprefix("bert."): v.astype(np.float32, copy=False) for k, v in raw.items()}
    return BertWeights(
        word=w["embeddings.word_embeddings.weight"],
        position=w["embeddings.position_embeddings.weight"],
        token_type=w["embeddings.token_type_embeddings.weight"],
        embedding_norm=Norm(w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"]),
        layers=tuple(_bert_layer(w, i) for i in range(int(config["num_hidden_layers"]))),
        heads=int(config["num_attention_heads"]),
        eps=float(config["layer_norm_eps"]),
    )


def _attention(layer: BertLayer, x: np.ndarray, heads: int) -> np.ndarray:
    """Self-attention over one unpadded text (n tokens): every token sees every token."""
    n, hidden = x.shape
    size = hidden // heads

    def split(t: np.ndarray) -> np.ndarray:  # (n, hidden) -> (heads, n, size)
        return t.reshape(n, heads, size).transpose(1, 0, 2)

    q, k, v = split(layer.query(x)), split(layer.key(x)), split(layer.value(x))
    scores = q @ k.transpose(0, 2, 1) * np.float32(1.0 / math.sqrt(size))
    scores = np.exp(scores - scores.max(-1, keepdims=True))
    scores /= scores.sum(-1, keepdims=True)
    return (scores @ v).transpose(1, 0, 2).reshape(n, hidden)


def hidden_states(weights: BertWeights, ids: Sequence[int]) -> np.ndarray:
    """BertModel's last_hidden_state for one text's token ids (with [CLS]/[SEP]): (n, hidden)."""
    ids_array = np.asarray(ids, dtype=np.int64)
    x = weights.word[ids_array] + weights.position[: len(ids_array)] + weights.token_type[0]
    x = layer_norm(x, weights.embedding_norm.weight, weights.embedding_norm.bias, weights.eps)
    for layer in weights.layers:
        attended = layer.attention_out(_attention(layer, x, weights.heads))
        norm = layer.attention_norm
        x = layer_norm(x + attended, norm.weight, norm.bias, weights.eps)
        fed = layer.output(gelu(layer.intermediate(x)))
        x = layer_norm(x + fed, layer.output_norm.weight, layer.output_norm.bias, weights.eps)
    return x


class NumpyMiniLM:
    """Sentence vectors like engines/select/embeddings.Embedder's, one text at a time.

    Texts run one by one, unpadded: for a handful of short texts that is as fast as a padded
    batch and the mean pooling needs no mask. Thread-safe: one encode at a time, because the
    BLAS thread limit below is process-wide and overlapping limits would restore it wrongly.
    """

    def __init__(self, weights: BertWeights, tokenizer: Tokenizer) -> None:
        self.weights = weights
        self.tokenizer = tokenizer
        self._lock = threading.Lock()

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        return [e.ids for e in self.tokenizer.encode_batch(list(texts))]

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text (shape (len(texts), hidden))."""
        out = np.zeros((len(texts), self.weights.word.shape[1]), dtype=np.float32)
        with self._lock, one_blas_thread():
            for row, ids in enumerate(self.token_ids(texts)):
                pooled = hidden_states(self.weights, ids).mean(0)
                out[row] = pooled / max(float(np.linalg.norm(pooled)), 1e-12)
        return out


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """Products of a few dozen tokens on ONE BLAS thread: waking OpenBLAS's second thread
    costs more than the maths (a 256-token text: 0.24 s on one thread, 2.0 s on two on the
    2-core machine; see benchmarks/README.md), as for the torch path's small batches."""
    try:
        from threadpoolctl import threadpool_limits  # ~12 ms import
    except ImportError:  # an install without it still works, at the BLAS's own threads
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def load_tokenizer(folder: Path, max_length: int) -> Tokenizer:
    """The model's WordPiece tokenizer as AutoTokenizer(truncation=True, max_length) runs it:
    [CLS] text [SEP], cut to max_length ids in all, no padding (tokenizer.json pads to 128)."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=max_length)
    tokenizer.no_padding()
    return tokenizer


@lru_cache(maxsize=2)
def load_numpy_minilm(max_length: int) -> NumpyMiniLM:
    """The process-wide NumPy MiniLM (weights are mapped once per process)."""
    from ctxchat.engines.models import minilm_dir

    folder = minilm_dir()
    return NumpyMiniLM(load_weights(folder), load_tokenizer(folder, max_length))
