"""Pieces to words, and words back to the original text.

A word is what LLMLingua-2 calls one: a run of model pieces that starts at a piece opening a
word (BERT: no "##" prefix; SentencePiece: a "▁" prefix or a lone punctuation mark) or at a
force token. Every piece keeps its character span in the ORIGINAL text (fast tokenizer
offsets), so output is sliced from the input: casing, numbers, CJK and spacing survive.
All per-piece work is numpy over lookup tables built once per vocabulary.
"""

from __future__ import annotations

import os
import re
import string
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

# Blocks the tokenizer sees at once: big enough to amortise the call, small enough to stream.
BLOCK_CHARS = 16_384
# The Rust tokenizer releases the GIL, so blocks encode in parallel on a few threads (its own
# parallelism stays off: it warns and disables itself after a fork).
TOKENIZE_THREADS = max(1, min(8, os.cpu_count() or 1))
_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()
_CJK_RANGES = (
    (0x2E80, 0x9FFF),
    (0xAC00, 0xD7AF),
    (0xF900, 0xFAFF),
    (0xFF00, 0xFFEF),
    (0x20000, 0x2FFFF),
)


@dataclass
class Pieces:
    """Model pieces of one text: ids and [start, end) character spans in the original text."""

    ids: np.ndarray  # int32
    starts: np.ndarray  # int32
    ends: np.ndarray  # int32

    def __len__(self) -> int:
        return len(self.ids)


@dataclass
class Words:
    """Words of one text: spans in the original text, and the pieces each one came from."""

    starts: np.ndarray  # int32 char offsets
    ends: np.ndarray  # int32
    first_piece: np.ndarray  # int64 index into the selected pieces
    piece_index: np.ndarray  # int64: selected pieces -> index in the Pieces arrays

    def __len__(self) -> int:
        return len(self.starts)


class VocabTables:
    """Per-vocabulary lookups: which piece opens a word, which are special, piece strings."""

    def __init__(self, tokenizer, family: str, force_tokens: dict[str, str] | None = None) -> None:  # type: ignore[no-untyped-def]
        vocab_size = len(tokenizer)
        tokens = tokenizer.convert_ids_to_tokens(list(range(vocab_size)))
        tokens = [t if t is not None else "" for t in tokens]
        self.family = family
        self.tokens = tokens
        # force_tokens maps each force token to the piece that stands for it in the input.
        force = force_tokens or {}
        force_pieces = set(force) | set(force.values())
        self.piece_to_force = {v: k for k, v in force.items()}
        special = {
            v for k, v in tokenizer.special_tokens_map.items() if k != "additional_special_tokens"
        }
        punct = set(string.punctuation)
        begins = np.zeros(vocab_size, dtype=bool)
        forced = np.zeros(vocab_size, dtype=bool)
        skip = np.zeros(vocab_size, dtype=bool)
        for i, tok in enumerate(tokens):
            if family == "bert":
                pure = tok.lstrip("#")
                is_force = pure in force_pieces
                begins[i] = is_force or not tok.startswith("##")
            else:
                pure = tok.lstrip("▁")
                is_force = tok in force_pieces
                begins[i] = is_force or tok in punct or tok.startswith("▁")
            forced[i] = is_force
            skip[i] = tok in special
        self.begins = begins
        self.forced = forced
        self.skip = skip
        # Pieces that end a chunk (set by the compressor per mode).
        self.ends = np.zeros(vocab_size, dtype=bool)

    def pure(self, token: str) -> str:
        return token.lstrip("#") if self.family == "bert" else token.lstrip("▁")

    def llmlingua_word(self, ids: np.ndarray) -> str:
        """The word string llmlingua builds from these pieces (it counts its cl100k tokens)."""
        first = self.tokens[int(ids[0])]
        first = self.piece_to_force.get(first, first)
        if len(ids) == 1:
            return first
        return first + "".join(self.pure(self.tokens[int(i)]) for i in ids[1:])


def tokenizer_family(tokenizer) -> str:  # type: ignore[no-untyped-def]
    """'bert' for WordPiece ("##" continues a word), 'sentencepiece' for "▁" vocabularies."""
    model = type(tokenizer.backend_tokenizer.model).__name__
    if model == "WordPiece":
        return "bert"
    return "sentencepiece"


def backend_copy(tokenizer):  # type: ignore[no-untyped-def]
    """The Rust tokenizer without the padding/truncation a saved tokenizer.json may carry."""
    from tokenizers import Tokenizer

    backend = Tokenizer.from_str(tokenizer.backend_tokenizer.to_str())
    backend.no_padding()
    backend.no_truncation()
    return backend


def _blocks(text: str) -> list[tuple[int, str]]:
    """Split at whitespace into blocks of about BLOCK_CHARS (pieces never cross whitespace)."""
    out = []
    pos = 0
    n = len(text)
    while pos < n:
        end = min(n, pos + BLOCK_CHARS)
        if end < n:
            cut = max(text.rfind("\n", pos, end), text.rfind(" ", pos, end))
            end = cut + 1 if cut > pos else end
        out.append((pos, text[pos:end]))
        pos = end
    return out


def _encode_blocks(backend, blocks: list[str]) -> list:  # type: ignore[no-untyped-def]
    global _POOL
    if len(blocks) < 2 or TOKENIZE_THREADS < 2:
        return backend.encode_batch(blocks, add_special_tokens=False)
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(TOKENIZE_THREADS, thread_name_prefix="ctxchat-tokenize")
    parts = _POOL.map(lambda b: backend.encode_batch([b], add_special_tokens=False)[0], blocks)
    return list(parts)


def tokenize(backend, text: str, replacements: dict[str, str] | None = None) -> Pieces:  # type: ignore[no-untyped-def]
    """Pieces of `text` with spans in `text`, tokenised block by block.

    replacements swaps strings before tokenising (llmlingua stands "[NEW0]" in for "\\n");
    the pieces of a stand-in get the span of the string it replaced.
    """
    source = text
    segment_map = None
    if replacements:
        text, segment_map = _replace(text, replacements)
    blocks = _blocks(text)
    encodings = _encode_blocks(backend, [b for _, b in blocks])
    ids_parts, start_parts, end_parts = [], [], []
    for (offset, _), enc in zip(blocks, encodings, strict=True):
        if not enc.ids:
            continue
        ids_parts.append(np.asarray(enc.ids, dtype=np.int32))
        spans = np.asarray(enc.offsets, dtype=np.int64).reshape(-1, 2) + offset
        start_parts.append(spans[:, 0])
        end_parts.append(spans[:, 1])
    if not ids_parts:
        empty = np.zeros(0, dtype=np.int32)
        return Pieces(empty, empty.copy(), empty.copy())
    ids = np.concatenate(ids_parts)
    starts = np.concatenate(start_parts)
    ends = np.concatenate(end_parts)
    if segment_map is not None:
        starts, ends = _map_back(starts, ends, segment_map)
    assert len(source) < 2**31
    return Pieces(ids, starts.astype(np.int32), ends.astype(np.int32))


def _replace(text: str, replacements: dict[str, str]) -> tuple[str, tuple[np.ndarray, ...]]:
    """Apply replacements; return the new text and (new_starts, old_starts, is_replaced)."""
    import re

    pattern = re.compile(
        "|".join(re.escape(k) for k in sorted(replacements, key=len, reverse=True))
    )
    parts: list[str] = []
    new_starts, old_starts, old_ends, replaced = [0], [0], [], [False]
    pos_old = pos_new = 0
    for m in pattern.finditer(text):
        a, b = m.span()
        if a > pos_old:
            parts.append(text[pos_old:a])
            pos_new += a - pos_old
        old_ends.append(a)
        rep = replacements[m.group()]
        new_starts.append(pos_new)
        old_starts.append(a)
        replaced.append(True)
        parts.append(rep)
        pos_new += len(rep)
        old_ends.append(b)
        new_starts.append(pos_new)
        old_starts.append(b)
        replaced.append(False)
        pos_old = b
    parts.append(text[pos_old:])
    old_ends.append(len(text))
    return "".join(parts), (
        np.asarray(new_starts, dtype=np.int64),
        np.asarray(old_starts, dtype=np.int64),
        np.asarray(old_ends, dtype=np.int64),
        np.asarray(replaced, dtype=bool),
    )


def _map_back(starts: np.ndarray, ends: np.ndarray, seg: tuple[np.ndarray, ...]):  # type: ignore[no-untyped-def]
    new_starts, old_starts, old_ends, replaced = seg
    k = np.searchsorted(new_starts, starts, side="right") - 1
    out_starts = np.where(replaced[k], old_starts[k], starts - new_starts[k] + old_starts[k])
    k_end = np.searchsorted(new_starts, np.maximum(ends - 1, starts), side="right") - 1
    out_ends = np.where(
        replaced[k_end], old_ends[k_end], ends - new_starts[k_end] + old_starts[k_end]
    )
    return out_starts, np.maximum(out_ends, out_starts)


def group_words(
    pieces: Pieces, chunk_starts: np.ndarray, tables: VocabTables, skip_special: bool
) -> Words:
    """Group pieces into words; a chunk's first piece always opens a word (as in llmlingua,
    which words its chunks independently)."""
    sel = np.arange(len(pieces), dtype=np.int64)
    if skip_special:
        sel = sel[~tables.skip[pieces.ids]]
    if len(sel) == 0:
        z = np.zeros(0, dtype=np.int64)
        return Words(z.astype(np.int32), z.astype(np.int32), z, z)
    opens = tables.begins[pieces.ids[sel]].copy()
    chunk_of = np.searchsorted(chunk_starts, sel, side="right") - 1
    opens[0] = True
    opens[1:] |= chunk_of[1:] != chunk_of[:-1]
    first = np.flatnonzero(opens)
    starts = pieces.starts[sel][first]
    ends = np.maximum.reduceat(pieces.ends[sel], first)
    return Words(starts.astype(np.int32), ends.astype(np.int32), first, sel)


def word_means(values: np.ndarray, words: Words) -> np.ndarray:
    """Mean of per-piece values over each word's pieces (LLMLingua-2's token_to_word='mean')."""
    v = values[words.piece_index].astype(np.float64)
    sums = np.add.reduceat(v, words.first_piece)
    counts = np.diff(np.append(words.first_piece, len(words.piece_index)))
    return (sums / counts).astype(np.float32)


def word_chunk_starts(words: Words, chunk_starts: np.ndarray) -> np.ndarray:
    """Index of the first word of each chunk (chunks without words repeat the next index)."""
    word_piece = words.piece_index[words.first_piece] if len(words) else np.zeros(0, np.int64)
    return np.searchsorted(word_piece, chunk_starts, side="left").astype(np.int32)


_WHITESPACE = re.compile(r"\s")


def _is_cjk(ch: str) -> bool:
    cp = ord(ch)
    return any(a <= cp <= b for a, b in _CJK_RANGES)


def rebuild(text: str, starts: np.ndarray, ends: np.ndarray, keep: np.ndarray) -> str:
    """Kept words sliced from the original text.

    Neighbouring kept words keep the original text between them; where dropped words were,
    a single space stands in (newlines are kept, at most two), and nothing between CJK
    characters that had no space.
    """
    kept = np.flatnonzero(keep)
    if len(kept) == 0:
        return ""
    breaks = np.flatnonzero(np.diff(kept) != 1)
    run_first = kept[np.concatenate(([0], breaks + 1))]
    run_last = kept[np.concatenate((breaks, [len(kept) - 1]))]
    rs = starts[run_first].tolist()
    re_ = ends[run_last].tolist()
    out = [text[rs[0] : re_[0]]]
    for i in range(1, len(rs)):
        gap = text[re_[i - 1] : rs[i]]
        newlines = gap.count("\n")
        if newlines:
            sep = "\n" * min(newlines, 2)
        elif text[re_[i - 1] - 1] == "\n" or text[rs[i]] == "\n":
            sep = ""  # a kept line break already separates the words
        elif _WHITESPACE.search(gap) is None and (
            _is_cjk(text[re_[i - 1] - 1]) or _is_cjk(text[rs[i]])
        ):
            sep = ""
        else:
            sep = " "
        out.append(sep)
        out.append(text[rs[i] : re_[i]])
    return "".join(out)
