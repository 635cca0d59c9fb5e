"""Score normalisation and fusion for ranking sentences by several signals.

Pure numpy functions over one score per sentence, so each can be tested (and
compared on the QA benchmark) on its own.
"""

from __future__ import annotations

import numpy as np

# The usual constant of reciprocal-rank fusion (Cormack et al., 2009).
RRF_K = 60.0


def minmax(scores: np.ndarray) -> np.ndarray:
    """Scale to [0, 1]; a constant vector becomes all zeros (it carries no ranking)."""
    scores = np.asarray(scores, dtype=np.float64)
    if scores.size == 0:
        return scores
    lo, hi = float(scores.min()), float(scores.max())
    if hi - lo <= 1e-12:
        return np.zeros_like(scores)
    return (scores - lo) / (hi - lo)


def ranks(scores: np.ndarray, present: np.ndarray | None = None) -> np.ndarray:
    """1-based rank of each score (1 = best); entries not `present` get rank inf."""
    scores = np.asarray(scores, dtype=np.float64)
    order = np.argsort(-scores, kind="stable")
    out = np.empty(scores.size, dtype=np.float64)
    out[order] = np.arange(1, scores.size + 1, dtype=np.float64)
    if present is not None:
        out[~present] = np.inf
    return out


def rrf(signals: list[tuple[np.ndarray, np.ndarray | None]], k: float = RRF_K) -> np.ndarray:
    """Reciprocal-rank fusion of (scores, present-mask) pairs: sum of 1 / (k + rank)."""
    total: np.ndarray | None = None
    for scores, present in signals:
        part = 1.0 / (k + ranks(scores, present))
        total = part if total is None else total + part
    return total if total is not None else np.zeros(0)


def weighted_minmax(lexical: np.ndarray, dense: np.ndarray, dense_weight: float) -> np.ndarray:
    """dense_weight * minmax(dense) + (1 - dense_weight) * minmax(lexical)."""
    return dense_weight * minmax(dense) + (1.0 - dense_weight) * minmax(lexical)


def neighbour_boost(scores: np.ndarray, same_block_prev: np.ndarray, weight: float) -> np.ndarray:
    """Add `weight` x the better neighbour's score, so context sentences rank near a hit.

    same_block_prev[i] is True when sentence i-1 belongs with sentence i (same document
    and paragraph); the boost never crosses such a boundary.
    """
    if weight <= 0 or scores.size < 2:
        return scores.copy()
    prev = np.zeros_like(scores)
    nxt = np.zeros_like(scores)
    prev[1:] = np.where(same_block_prev[1:], scores[:-1], 0.0)
    nxt[:-1] = np.where(same_block_prev[1:], scores[1:], 0.0)
    return scores + weight * np.maximum(prev, nxt)
