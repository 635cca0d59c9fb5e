"""Cached word probabilities: the compact payload kept in store.keep_probs, and a memory LRU.

One payload per input text (segment) per model and options: word spans, keep probabilities,
cl100k token counts, flags and chunk starts. Thresholding needs nothing else, so recompressing
at another rate runs no model and no tokenizer.
"""

from __future__ import annotations

import hashlib
import struct
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

MAGIC = b"CKP1"
_HEADER = struct.Struct("<4sIII")  # magic, words, chunks, text tokens

FLAG_PROTECTED = 1  # a number, date, identifier, URL, code or Markdown mark
FLAG_EXACT_ONE = 2  # llmlingua2 mode: a single-piece force token (probability exactly 1)


@dataclass
class WordProbs:
    """Words of one text with their keep probabilities (the compressor's cached unit)."""

    starts: np.ndarray  # int32 char offsets in the text
    ends: np.ndarray  # int32
    probs: np.ndarray  # float32
    tokens: np.ndarray  # int32 cl100k tokens per word (llmlingua's word string in that mode)
    flags: np.ndarray  # uint8
    chunk_starts: np.ndarray  # int32 first word of each encoder chunk
    text_tokens: int  # cl100k tokens of the whole text

    def __len__(self) -> int:
        return len(self.starts)

    def to_bytes(self) -> bytes:
        n = len(self.starts)
        return b"".join(
            (
                _HEADER.pack(MAGIC, n, len(self.chunk_starts), self.text_tokens),
                self.starts.astype("<i4").tobytes(),
                self.ends.astype("<i4").tobytes(),
                self.probs.astype("<f4").tobytes(),
                self.tokens.astype("<i4").tobytes(),
                self.chunk_starts.astype("<i4").tobytes(),
                self.flags.astype(np.uint8).tobytes(),
            )
        )

    @classmethod
    def from_bytes(cls, payload: bytes) -> WordProbs | None:
        """The decoded payload, or None when it is not one this version wrote."""
        if len(payload) < _HEADER.size:
            return None
        magic, n, c, text_tokens = _HEADER.unpack_from(payload)
        if magic != MAGIC or len(payload) != _HEADER.size + 16 * n + 4 * c + n:
            return None
        pos = _HEADER.size

        def take(dtype: str, count: int) -> np.ndarray:
            nonlocal pos
            arr = np.frombuffer(payload, dtype=dtype, count=count, offset=pos)
            pos += arr.nbytes
            return arr

        starts, ends = take("<i4", n), take("<i4", n)
        probs, tokens = take("<f4", n), take("<i4", n)
        chunk_starts = take("<i4", c)
        flags = take("u1", n)
        return cls(starts, ends, probs, tokens, flags, chunk_starts, int(text_tokens))


def text_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()


class MemoryCache:
    """Process-wide LRU of payloads for compressors used without a Store."""

    def __init__(self, max_bytes: int = 256 << 20) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[tuple[str, str, str], bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get_keep_probs(self, hashes: list[str], model: str, options: str) -> dict[str, bytes]:
        out = {}
        with self._lock:
            for h in hashes:
                key = (h, model, options)
                if key in self._items:
                    self._items.move_to_end(key)
                    out[h] = self._items[key]
        return out

    def put_keep_probs(self, model: str, options: str, payloads: dict[str, bytes]) -> None:
        with self._lock:
            for h, p in payloads.items():
                key = (h, model, options)
                if key in self._items:
                    self._size -= len(self._items.pop(key))
                self._items[key] = p
                self._size += len(p)
            while self._size > self.max_bytes and self._items:
                _, old = self._items.popitem(last=False)
                self._size -= len(old)


MEMORY_CACHE = MemoryCache()
