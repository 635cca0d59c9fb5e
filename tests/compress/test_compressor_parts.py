"""The compressor's model-free parts: chunking, thresholds, text rebuild, protection, payloads."""

from __future__ import annotations

import re

import numpy as np
import pytest

from ctxchat.engines.compress.chunking import llmlingua_chunks, sentence_chunks
from ctxchat.engines.compress.phrases import phrase_groups, smooth_over_groups
from ctxchat.engines.compress.probcache import WordProbs
from ctxchat.engines.compress.protect import protected_words
from ctxchat.engines.compress.thresholds import (
    keep_global,
    keep_llmlingua2,
    llmlingua2_percentile,
    rate_for_percentile,
    search_budget,
    search_percentile,
)
from ctxchat.engines.compress.wordmap import rebuild


def _llmlingua_loop(is_end: list[bool], max_len: int = 510) -> list[int]:
    """llmlingua 0.2.2's chunk walk, restated piece by piece."""
    n, st, starts = len(is_end), 0, []
    while st < n:
        starts.append(st)
        if st + max_len > n - 1:
            break
        ed = st + max_len
        for j in range(ed - st):
            if is_end[ed - j]:
                ed -= j
                break
        st = ed + 1
    return starts


@pytest.mark.parametrize("density", [0.0, 0.001, 0.02, 0.3])
def test_llmlingua_chunks_match_its_walk(density: float) -> None:
    rng = np.random.default_rng(int(density * 1000))
    for n in (1, 509, 510, 511, 512, 3000):
        flags = rng.random(n) < density
        assert llmlingua_chunks(flags).tolist() == _llmlingua_loop(flags.tolist())


def test_sentence_chunks_fit_and_cut_after_sentence_ends() -> None:
    rng = np.random.default_rng(0)
    flags = rng.random(5000) < 0.03
    starts = sentence_chunks(flags, 128)
    sizes = np.diff(np.append(starts, 5000))
    assert sizes.max() <= 128 and sizes.min() > 0
    cut_after_end = [flags[s - 1] for s in starts[1:]]
    assert np.mean(cut_after_end) > 0.9
    assert sentence_chunks(np.zeros(300, bool), 128).tolist() == [0, 128, 256]


def test_llmlingua2_threshold_is_a_per_chunk_percentile() -> None:
    assert llmlingua2_percentile(0.5) == 51
    assert llmlingua2_percentile(0.33) == 68
    assert llmlingua2_percentile(0.9) == 10  # 100 * 0.0999... + 1 = 10.999...: floats, as llmlingua
    probs = np.linspace(0.01, 0.99, 100, dtype=np.float32)
    tokens = np.ones(100, dtype=np.int32)
    keep = keep_llmlingua2(probs, tokens, np.array([0, 50], np.int32), 0.5, np.zeros(100, bool))
    # Each chunk keeps its own upper half (minus the percentile's +1).
    first = probs[:50]
    assert keep[:50].sum() == keep[50:].sum() == (first > np.percentile(first, 51)).sum() == 25
    assert keep_llmlingua2(probs, tokens, np.array([0]), 1.0, np.zeros(100, bool)).all()
    # Words are weighted by their cl100k tokens: a long word moves the threshold.
    heavy = tokens.copy()
    heavy[0] = 200
    assert keep_llmlingua2(probs, heavy, np.array([0]), 0.5, np.zeros(100, bool)).sum() > 49


def test_global_budget_soft_and_hard() -> None:
    probs = np.array([0.9, 0.1, 0.8, 0.2, 0.7], dtype=np.float32)
    tokens = np.array([1, 5, 1, 1, 1], dtype=np.int32)
    none = np.zeros(5, bool)
    keep, threshold = keep_global(probs, tokens, 2, none, none)
    assert keep.tolist() == [True, False, True, False, False] and threshold == pytest.approx(0.8)
    protected = np.array([False, True, False, False, False])
    soft, _ = keep_global(probs, tokens, 2, protected, none)
    assert soft[1] and tokens[soft].sum() > 2  # a rate never drops protected words
    hard, _ = keep_global(probs, tokens, 2, protected, none, hard=True)
    assert tokens[hard].sum() <= 2  # a token target is a ceiling


def test_rebuild_slices_the_original_text() -> None:
    text = "Alpha  beta,\tgamma\n\ndelta 東京大学 end"
    spans = [
        (0, 5),
        (7, 11),
        (11, 12),
        (13, 18),
        (20, 25),
        (26, 27),
        (27, 28),
        (28, 29),
        (29, 30),
        (31, 34),
    ]
    starts = np.array([s for s, _ in spans])
    ends = np.array([e for _, e in spans])
    assert [text[s:e] for s, e in spans][-5:] == ["東", "京", "大", "学", "end"]
    keep = np.array([1, 1, 1, 0, 1, 1, 0, 0, 1, 1], bool)
    # Original spacing between neighbours, one space for dropped words, newlines kept, no
    # space invented between CJK characters.
    assert rebuild(text, starts, ends, keep) == "Alpha  beta,\n\ndelta 東学 end"
    assert rebuild(text, starts, ends, np.ones(10, bool)) == text
    assert rebuild(text, starts, ends, np.zeros(10, bool)) == ""


def test_protected_words() -> None:
    text = "Call getUserName at 10:30 on 2024-05-01 via https://x.org/a?b=1 or `f(x)`; fine words"
    starts, ends, pos = [], [], 0
    for w in text.split():
        pos = text.index(w, pos)
        starts.append(pos)
        ends.append(pos + len(w))
        pos += len(w)
    mask = protected_words(text, np.array(starts), np.array(ends))
    kept = {w for w, m in zip(text.split(), mask, strict=True) if m}
    assert kept == {"getUserName", "10:30", "2024-05-01", "https://x.org/a?b=1", "`f(x)`;"}


def test_payload_round_trip_and_rejects_foreign_bytes() -> None:
    rng = np.random.default_rng(1)
    n = 1000
    wp = WordProbs(
        starts=np.arange(n, dtype=np.int32) * 3,
        ends=np.arange(n, dtype=np.int32) * 3 + 2,
        probs=rng.random(n).astype(np.float32),
        tokens=rng.integers(1, 4, n).astype(np.int32),
        flags=rng.integers(0, 4, n).astype(np.uint8),
        chunk_starts=np.array([0, 400, 800], dtype=np.int32),
        text_tokens=1234,
    )
    blob = wp.to_bytes()
    assert len(blob) == 16 + 17 * n + 12
    back = WordProbs.from_bytes(blob)
    assert back is not None and back.text_tokens == 1234
    for name in ("starts", "ends", "probs", "tokens", "flags", "chunk_starts"):
        assert np.array_equal(getattr(back, name), getattr(wp, name))
    assert WordProbs.from_bytes(b"not a payload at all") is None
    assert WordProbs.from_bytes(blob[:-1]) is None


def test_budget_search_meets_a_nonlinear_target() -> None:
    """The rebuilt text costs more than the word budget (separators): the search corrects."""

    def measure(budget: float) -> int:
        return int(1.25 * min(budget, 1000) + 7)

    budget = search_budget(measure, 400, 400, hard=False, tolerance=1)
    assert abs(measure(budget) - 400) <= 1
    hard = search_budget(measure, 400, 400, hard=True, tolerance=1)
    assert measure(hard) <= 400


def test_percentile_search_and_its_rate_round_trip() -> None:
    for q in range(1, 101):
        assert llmlingua2_percentile(rate_for_percentile(q)) == q
    kept = {q: 1000 - 10 * q for q in range(1, 101)}  # a higher percentile keeps fewer
    assert search_percentile(kept.__getitem__, 505, hard=False) in (49, 50)
    assert kept[search_percentile(kept.__getitem__, 505, hard=True)] <= 505


def test_names_are_grouped_and_share_their_best_probability() -> None:
    text = (
        "As an adult, she served as Chief of Protocol of the United States.\n"
        "The Hork-Bajir Chronicles came out. In 1998 he met Bill at the Bank of England."
    )
    spans = [m.span() for m in re.finditer(r"\w+|[^\w\s]", text)]
    starts = np.array([a for a, _ in spans], dtype=np.int32)
    ends = np.array([b for _, b in spans], dtype=np.int32)
    groups = phrase_groups(text, starts, ends)
    named = {}
    for (a, b), g in zip(spans, groups.tolist(), strict=True):
        if g >= 0:
            named.setdefault(g, []).append(text[a:b])
    assert sorted(" ".join(v) for v in named.values()) == [
        "Bank of England",
        "Chief of Protocol",
        "Hork - Bajir Chronicles",
        "United States",
    ]
    probs = np.linspace(0.1, 0.9, len(spans)).astype(np.float32)
    smooth = smooth_over_groups(probs, groups)
    for g in set(groups.tolist()) - {-1}:
        assert np.all(smooth[groups == g] == probs[groups == g].max())
    assert np.array_equal(smooth[groups < 0], probs[groups < 0])
