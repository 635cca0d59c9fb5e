"""Which words to keep, given their keep probabilities and cl100k token counts.

Two modes:
- llmlingua2: a threshold per 512-piece chunk, exactly as llmlingua 0.2.2 computes it (the
  percentile of word probabilities repeated once per cl100k token), so its output is reproduced.
- global: one threshold over the whole input, chosen so the kept words fill the token budget;
  the achieved rate matches the requested one instead of drifting chunk by chunk.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def check_rate(rate: float) -> float:
    from ctxchat.engines.errors import CompressorError

    try:
        rate = float(rate)
    except (TypeError, ValueError) as exc:
        raise CompressorError(f"rate must be a number in (0, 1], got {rate!r}") from exc
    if not (0.0 < rate <= 1.0):
        raise CompressorError(f"rate must be in (0, 1] (the kept share), got {rate}")
    return rate


def llmlingua2_percentile(rate: float) -> int:
    """llmlingua's percentile for a kept share: int(100 * reduce + 1), float quirks included."""
    reduce_rate = max(0, 1 - rate)
    return int(100 * reduce_rate + 1)


def keep_llmlingua2(
    probs: np.ndarray,
    tokens: np.ndarray,
    chunk_starts: np.ndarray,
    rate: float,
    exact_one: np.ndarray,
) -> np.ndarray:
    """Per-chunk percentile threshold; keep p > t, or p == 1 when t == 1.

    exact_one marks words whose probability llmlingua holds as a Python float (single-piece
    force tokens): a chunk with one of them is thresholded in float64, the others in float32,
    because that is what numpy does with llmlingua's lists.
    """
    n = len(probs)
    if max(0, 1 - rate) <= 0:
        return np.ones(n, dtype=bool)
    q = llmlingua2_percentile(rate)
    keep = np.zeros(n, dtype=bool)
    bounds = np.append(chunk_starts, n).astype(np.int64)
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        if b <= a:
            continue
        p = probs[a:b]
        dtype = np.float64 if exact_one[a:b].any() else np.float32
        repeated = np.repeat(p.astype(dtype), tokens[a:b])
        if len(repeated) == 0:
            continue
        t = np.percentile(repeated, q)
        keep[a:b] = (p > t) | ((t == 1.0) & (p == 1.0))
    return keep


def keep_global(
    probs: np.ndarray,
    tokens: np.ndarray,
    budget: float,
    protected: np.ndarray,
    forced: np.ndarray,
    hard: bool = False,
) -> tuple[np.ndarray, float]:
    """Keep protected and force-token words, then the most probable others while they fit.

    A `hard` budget (target_tokens) wins over protection when the protected and forced words
    alone overflow it: words are then ranked protected first, then force tokens, then by
    probability. A rate is soft: protected words stay even past it. Returns the mask and the
    threshold (the lowest kept probability among the free words). Ties go to the earlier word.
    """
    must = protected | forced
    if hard and float(tokens[must].sum()) > budget:
        score = probs.astype(np.float64) + forced + 2.0 * protected
        return _fill(score, tokens, np.zeros_like(must), budget), 1.0
    keep = _fill(probs, tokens, must, budget - float(tokens[must].sum()))
    free = keep & ~must
    threshold = float(probs[free].min()) if free.any() else 1.0
    return keep, threshold


def _fill(score: np.ndarray, tokens: np.ndarray, keep: np.ndarray, budget: float) -> np.ndarray:
    """`keep` plus the best-scoring other words whose tokens fit in `budget`."""
    keep = keep.copy()
    free = np.flatnonzero(~keep)
    if budget <= 0 or len(free) == 0:
        return keep
    order = free[np.argsort(-score[free], kind="stable")]
    filled = np.cumsum(tokens[order])
    keep[order[: int(np.searchsorted(filled, budget, side="right"))]] = True
    return keep


# -- honouring the rate: the kept share of cl100k tokens of the OUTPUT text ------------------
# Word token counts are a proxy: a word counted alone ("the" -> 1) costs another number of
# tokens inside the rebuilt text (" the", merged punctuation, separators). So a budget is
# searched until the rebuilt text itself holds the wanted number of tokens.


def closer(count: int, best: int | None, target: float, hard: bool) -> bool:
    """Is `count` a better achieved token count than `best` for this target?"""
    if best is None:
        return True
    if hard and (count > target) != (best > target):
        return count <= target  # under a hard target beats over it, however far
    return abs(count - target) < abs(best - target)


def search_budget(
    measure: Callable[[float], int],
    target: float,
    start: float,
    hard: bool,
    tolerance: float,
    steps: int = 8,
) -> float:
    """The word-token budget whose rebuilt text comes closest to `target` tokens.

    measure(budget) -> tokens of the text kept with that budget. Proportional steps (the
    relation is close to linear), then the best budget seen; a hard target is never exceeded
    when some budget meets it.
    """
    budget, best_budget, best = start, start, None
    for _ in range(steps):
        count = measure(budget)
        if closer(count, best, target, hard):
            best_budget, best = budget, count
        if abs(count - target) <= tolerance and (not hard or count <= target):
            break
        budget = budget * 2 + 1 if count <= 0 else budget * target / count
    return best_budget


def search_percentile(measure: Callable[[int], int], target: float, hard: bool) -> int:
    """llmlingua's per-chunk percentile (1..100) whose output comes closest to `target`.

    measure(q) -> tokens kept at percentile q; a higher q keeps fewer. Bisection, then the
    better neighbour.
    """
    lo, hi = 1, 100  # numpy refuses 101 (llmlingua's rate=0 crash)
    counts: dict[int, int] = {}

    def at(q: int) -> int:
        if q not in counts:
            counts[q] = measure(q)
        return counts[q]

    while hi - lo > 1:
        mid = (lo + hi) // 2
        if at(mid) > target:
            lo = mid
        else:
            hi = mid
    best_q, best = lo, None
    for q in (lo, hi):
        if closer(at(q), best, target, hard):
            best_q, best = q, at(q)
    return best_q


def rate_for_percentile(q: int) -> float:
    """A rate llmlingua turns into percentile q (int(100 * (1 - rate) + 1) == q)."""
    return 1.0 - (q - 0.5) / 100.0
