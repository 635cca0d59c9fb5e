"""Cutting a piece sequence into encoder windows at sentence ends."""

from __future__ import annotations

import numpy as np

LLMLINGUA_STEP = 510  # 512 minus CLS and SEP


def llmlingua_chunks(is_end: np.ndarray, step: int = LLMLINGUA_STEP) -> np.ndarray:
    """Chunk starts as llmlingua 0.2.2 cuts them.

    It walks in steps of `step` pieces and cuts after the last chunk-end piece found scanning
    back from index st + step (so a chunk may hold step + 1 pieces; the encoder then loses
    SEP, as llmlingua's does). The scan never reaches the chunk's first piece.
    """
    n = len(is_end)
    ends = np.flatnonzero(is_end)
    starts = []
    st = 0
    while st < n:
        starts.append(st)
        if st + step > n - 1:
            break
        ed = st + step
        k = int(np.searchsorted(ends, ed, side="right")) - 1
        if k >= 0 and ends[k] > st:
            ed = int(ends[k])
        st = ed + 1
    return np.asarray(starts, dtype=np.int64)


def sentence_chunks(is_end: np.ndarray, max_pieces: int) -> np.ndarray:
    """Chunk starts for windows of at most max_pieces, cut after the last sentence end."""
    n = len(is_end)
    ends = np.flatnonzero(is_end)
    starts = []
    st = 0
    while st < n:
        starts.append(st)
        if n - st <= max_pieces:
            break
        limit = st + max_pieces - 1  # the last piece index allowed in this chunk
        k = int(np.searchsorted(ends, limit, side="right")) - 1
        ed = int(ends[k]) + 1 if k >= 0 and ends[k] >= st else st + max_pieces
        st = ed
    return np.asarray(starts, dtype=np.int64)


def newline_after(text: str, ends: np.ndarray, next_starts: np.ndarray) -> np.ndarray:
    """True where the text between a piece and the next one holds a line break."""
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    prefix = np.concatenate(([0], np.cumsum(codes == 10)))
    return prefix[next_starts] > prefix[ends]
