"""The word-level compressor: an LLMLingua-2 style token classifier keeps or drops words.

Flow: text -> pieces (fast tokenizer, spans in the original) -> chunks at sentence ends ->
encoder in length-sorted batches -> word probabilities (mean of pieces) -> cached per text in
the store -> threshold (per chunk like llmlingua, or one global threshold) -> kept words sliced
from the original text. Recompressing the same text at another rate only re-thresholds.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ctxchat.engines.compress import chunking, phrases, spans, thresholds, wordmap
from ctxchat.engines.compress.encoder import (
    ADDED_FORCE_TOKENS,
    WINDOW_CONFIG_KEY,
    Encoder,
    load_encoder,
    model_fingerprint,
    resolve_model_dir,
    resolve_precision,
)
from ctxchat.engines.compress.probcache import (
    FLAG_EXACT_ONE,
    FLAG_PROTECTED,
    MEMORY_CACHE,
    WordProbs,
    text_hash,
)
from ctxchat.engines.compress.protect import protected_words
from ctxchat.engines.errors import CompressorError, ModelNotFoundError
from ctxchat.engines.models import torch_device
from ctxchat.engines.results import JSONObject, TokenRatios
from ctxchat.engines.tokens import count_tokens, encoding

if TYPE_CHECKING:
    from tokenizers import Tokenizer
    from transformers import PretrainedConfig

    from ctxchat.engines.store.db import Store

MODES = ("global", "llmlingua2")
DEFAULT_RATE = 0.5
DEFAULT_FORCE_TOKENS = ("\n", ".", "?", "!")
LLMLINGUA_CHUNK_END = (".", "\n")  # llmlingua's default chunk_end_tokens
SENTENCE_END = (".", "?", "!", ";", "。", "？", "！")
# Global mode windows: shorter than 512 costs less attention per piece, measured in
# benchmarks/README.md, and still holds a few sentences of context. A model may declare the
# window it was trained with (config key `ctxchat_window`, positions with CLS/SEP): the
# bundled one was trained on 128 and keeps as many answers at 128 as at 256 or 512.
GLOBAL_CHUNK_PIECES = 256
# 2: bf16 became a whole-model cast (was autocast) and int8 became smoothed: new numbers.
CACHE_VERSION = 2

ProgressFn = Callable[[int, int], None]


@dataclass
class CompressionResult(TokenRatios):
    """A compressed text. Token counts are cl100k_base; pieces follows a list input's order."""

    text: str
    original_tokens: int
    compressed_tokens: int
    pieces: list[str]
    sources: list[str]
    word_probs: list[WordProbs]
    piece_keep: list[np.ndarray]
    stats: JSONObject = field(default_factory=dict)

    @property
    def words(self) -> list[str]:
        """Every input word (original text), in order; `keep` says which ones survived."""
        return [
            src[s:e]
            for src, wp in zip(self.sources, self.word_probs, strict=True)
            for s, e in zip(wp.starts.tolist(), wp.ends.tolist(), strict=True)
        ]

    @property
    def keep(self) -> np.ndarray:
        if not self.piece_keep:
            return np.zeros(0, dtype=bool)
        return np.concatenate(self.piece_keep)


class _TokenCounter:
    """cl100k counts of single words, memoised: words repeat a lot in any document."""

    def __init__(self, limit: int = 500_000) -> None:
        self.limit = limit
        self.memo: dict[str, int] = {}
        self.lock = threading.Lock()

    def counts(self, words: list[str]) -> np.ndarray:
        memo = self.memo
        missing = list({w for w in words if w not in memo})
        if missing:
            lengths = [len(t) for t in encoding().encode_batch(missing, disallowed_special=())]
            with self.lock:
                if len(memo) > self.limit:
                    memo.clear()
                memo.update(zip(missing, lengths, strict=True))
            local = dict(zip(missing, lengths, strict=True))
            return np.fromiter(
                (memo.get(w, local.get(w, 0)) for w in words), dtype=np.int32, count=len(words)
            )
        return np.fromiter((memo[w] for w in words), dtype=np.int32, count=len(words))


_COUNTER = _TokenCounter()


class Compressor:
    """Keeps or drops words with a token-classification model (LLMLingua-2 formulation).

    model: a local folder, a hub id already pulled with `ctxchat models pull`, or None for
    the project's bundled model. store: where word probabilities are cached (a process-wide
    memory cache when None). precision: "auto" (fp16 on CUDA, bf16 on CPUs with bf16 matrix
    units, else fp32), or one of fp32, bf16, fp16, int8 (`quantize=True` is int8).
    """

    def __init__(
        self,
        model: str | Path | None = None,
        *,
        device: str = "auto",
        store: Store | None = None,
        batch_size: int | None = None,
        mode: str = "global",
        quantize: bool | None = None,
        chunk_pieces: int | None = None,
        precision: str = "auto",
    ) -> None:
        path = _default_model_dir() if model is None else resolve_model_dir(model)
        batch_tokens = batch_size * 512 if batch_size else None
        self.encoder: Encoder = load_encoder(
            path,
            device=device,
            quantize=quantize,
            batch_tokens=batch_tokens,
            precision=precision,
        )
        self.model_id = self.encoder.model_id
        self.mode = _check_mode(mode)
        self.store = store
        if chunk_pieces is None:
            chunk_pieces = _declared_chunk_pieces(self.encoder.model.config)
        self.chunk_pieces = max(16, min(int(chunk_pieces), self.encoder.max_len - 2))
        self.family = wordmap.tokenizer_family(self.encoder.tokenizer)
        self._state: dict[tuple, tuple] = {}
        self._lock = threading.Lock()

    # -- public API ----------------------------------------------------------------------

    def compress(
        self,
        text: str | Sequence[str],
        *,
        rate: float | None = None,
        target_tokens: int | None = None,
        force_tokens: Sequence[str] = DEFAULT_FORCE_TOKENS,
        protect: bool = True,
        mode: str | None = None,
        on_progress: ProgressFn | None = None,
        honour_rate: bool = True,
        whole_names: bool = True,
        span_rules: bool = True,
    ) -> CompressionResult:
        """Compress text (or a list of texts, kept separate and in order).

        rate is the kept share of the text's cl100k tokens: the output holds rate x the
        original tokens (within about half a percent on prose; protected words and force
        tokens may push a very low rate over). target_tokens is a ceiling that is never
        exceeded. In llmlingua2 mode the per-chunk percentile llmlingua would use is searched
        for the one that meets the rate (stats["llmlingua_rate"] is the rate llmlingua itself
        would be given for the same output); honour_rate=False passes the rate through as
        llmlingua 0.2.2 does. Global mode only: whole_names keeps multi-word names whole
        (phrases.py), span_rules titles, numbers with units and ranges too (spans.py).
        """
        started = time.perf_counter()
        texts = _check_texts(text)
        mode = _check_mode(mode or self.mode)
        rate, target_tokens = _check_budget(rate, target_tokens)
        hard = target_tokens is not None
        force_tokens = tuple(force_tokens or ())
        stats: JSONObject = {"mode": mode, "model": self.model_id}
        wps = self._word_probs(texts, mode, force_tokens, on_progress, stats)
        original = sum(wp.text_tokens for wp in wps)

        t0 = time.perf_counter()
        target = float(target_tokens) if target_tokens else rate * original
        options = dict(
            protect=protect, honour_rate=honour_rate, whole_names=whole_names, span_rules=span_rules
        )
        keeps = self._select(texts, wps, mode, force_tokens, target, rate, hard, options, stats)
        pieces = [
            wordmap.rebuild(t, w.starts, w.ends, k)
            for t, w, k in zip(texts, wps, keeps, strict=True)
        ]
        joined = _join(pieces, texts)
        compressed = count_tokens(joined)
        stats["threshold_seconds"] = time.perf_counter() - t0
        stats["seconds"] = time.perf_counter() - started
        return CompressionResult(
            text=joined,
            original_tokens=original,
            compressed_tokens=compressed,
            pieces=pieces,
            sources=texts,
            word_probs=wps,
            piece_keep=keeps,
            stats=stats,
        )

    def word_probs(
        self,
        texts: str | Sequence[str],
        *,
        mode: str | None = None,
        force_tokens: Sequence[str] = DEFAULT_FORCE_TOKENS,
        on_progress: ProgressFn | None = None,
    ) -> list[WordProbs]:
        """Per-text word spans and keep probabilities (cached in store.keep_probs)."""
        stats: JSONObject = {}
        return self._word_probs(
            _check_texts(texts, allow_empty=True),
            _check_mode(mode or self.mode),
            tuple(force_tokens or ()),
            on_progress,
            stats,
        )

    # -- probabilities, cached -----------------------------------------------------------

    def _cache(self):  # type: ignore[no-untyped-def]
        return self.store if self.store is not None else MEMORY_CACHE

    def _word_probs(
        self,
        texts: list[str],
        mode: str,
        force_tokens: tuple[str, ...],
        on_progress: ProgressFn | None,
        stats: JSONObject,
    ) -> list[WordProbs]:
        options, tables, token_map, backend = self._mode_state(mode, force_tokens)
        hashes = [text_hash(t) for t in texts]
        wanted = [h for h, t in zip(hashes, texts, strict=True) if t.strip()]
        cached = self._cache().get_keep_probs(wanted, self.model_id, options) if wanted else {}
        found: dict[str, WordProbs] = {}
        for h, payload in cached.items():
            wp = WordProbs.from_bytes(payload)
            if wp is not None:
                found[h] = wp
        todo = [
            i
            for i, (h, t) in enumerate(zip(hashes, texts, strict=True))
            if t.strip() and h not in found
        ]
        todo = list({hashes[i]: i for i in todo}.values())  # each distinct text once
        stats["cache_hits"] = len({h for h in wanted if h in found})
        stats["cache_misses"] = len(todo)
        stats["encode_seconds"] = 0.0
        stats["chunks"] = 0
        if todo:
            fresh = self._compute(
                [texts[i] for i in todo], mode, tables, token_map, backend, on_progress, stats
            )
            payloads = {}
            for i, wp in zip(todo, fresh, strict=True):
                found[hashes[i]] = wp
                payloads[hashes[i]] = wp.to_bytes()
            self._cache().put_keep_probs(self.model_id, options, payloads)
        elif on_progress is not None:
            on_progress(0, 0)
        return [
            found[h] if t.strip() else _empty_word_probs()
            for h, t in zip(hashes, texts, strict=True)
        ]

    def _mode_state(self, mode: str, force_tokens: tuple[str, ...]) -> tuple:
        """Cache options key, vocabulary tables, force-token stand-ins and tokenizer per mode."""
        key = (mode, force_tokens if mode == "llmlingua2" else ())
        with self._lock:
            if key in self._state:
                return self._state[key]
            enc = self.encoder
            token_map: dict[str, str] = {}
            if mode == "llmlingua2":
                if len(force_tokens) > len(ADDED_FORCE_TOKENS):
                    raise CompressorError(f"at most {len(ADDED_FORCE_TOKENS)} force tokens")
                for i, t in enumerate(force_tokens):
                    if len(enc.tokenizer.tokenize(t)) != 1:
                        token_map[t] = ADDED_FORCE_TOKENS[i]
                if token_map:
                    enc.ensure_added_force_tokens()
                force_map = {t: token_map.get(t, t) for t in force_tokens}
                tables = wordmap.VocabTables(enc.tokenizer, self.family, force_map)
                end_pieces = set(LLMLINGUA_CHUNK_END) | {
                    token_map[c] for c in LLMLINGUA_CHUNK_END if c in token_map
                }
                chunk = chunking.LLMLINGUA_STEP
            else:
                tables = wordmap.VocabTables(enc.tokenizer, self.family, None)
                end_pieces = set(SENTENCE_END) | {"▁" + s for s in SENTENCE_END}
                chunk = self.chunk_pieces
            tables.ends = np.array([t in end_pieces for t in tables.tokens], dtype=bool)
            options = json.dumps(
                {
                    "v": CACHE_VERSION,
                    "mode": mode,
                    "chunk": chunk,
                    "precision": enc.precision,
                    "force": token_map and sorted(token_map.items()),
                    "forced": sorted(force_tokens) if mode == "llmlingua2" else [],
                },
                separators=(",", ":"),
            )
            state = (options, tables, token_map, wordmap.backend_copy(enc.tokenizer))
            self._state[key] = state
            return state

    def _compute(
        self,
        texts: list[str],
        mode: str,
        tables: wordmap.VocabTables,
        token_map: dict[str, str],
        backend: Tokenizer,
        on_progress: ProgressFn | None,
        stats: JSONObject,
    ) -> list[WordProbs]:
        """Run the model over texts whose probabilities are not cached."""
        t0 = time.perf_counter()
        all_pieces, all_chunk_starts, chunks = [], [], []
        for text in texts:
            pieces = wordmap.tokenize(backend, text, token_map or None)
            if mode == "llmlingua2":
                starts = chunking.llmlingua_chunks(tables.ends[pieces.ids])
            else:
                is_end = tables.ends[pieces.ids].copy()
                if len(pieces) > 1:
                    is_end[:-1] |= chunking.newline_after(text, pieces.ends[:-1], pieces.starts[1:])
                starts = chunking.sentence_chunks(is_end, self.chunk_pieces)
            all_pieces.append(pieces)
            all_chunk_starts.append(starts)
            bounds = np.append(starts, len(pieces))
            chunks.extend(pieces.ids[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True))
        stats["tokenize_seconds"] = time.perf_counter() - t0
        stats["chunks"] = len(chunks)
        if on_progress is not None:
            on_progress(0, len(chunks))
        t1 = time.perf_counter()
        probs = self.encoder.keep_probs(chunks, on_progress) if chunks else []
        stats["encode_seconds"] = time.perf_counter() - t1
        t2 = time.perf_counter()
        out = []
        pos = 0
        for text, pieces, starts in zip(texts, all_pieces, all_chunk_starts, strict=True):
            n_chunks = len(starts)
            piece_probs = (
                np.concatenate(probs[pos : pos + n_chunks]) if n_chunks else np.zeros(0, np.float32)
            )
            pos += n_chunks
            out.append(self._words_of(text, pieces, starts, piece_probs, mode, tables))
        stats["words_seconds"] = time.perf_counter() - t2
        return out

    def _words_of(
        self,
        text: str,
        pieces: wordmap.Pieces,
        chunk_starts: np.ndarray,
        piece_probs: np.ndarray,
        mode: str,
        tables: wordmap.VocabTables,
    ) -> WordProbs:
        llm = mode == "llmlingua2"
        words = wordmap.group_words(pieces, chunk_starts, tables, skip_special=llm)
        flags = np.zeros(len(words), dtype=np.uint8)
        if llm and len(words):
            # llmlingua sets a force token's own piece to 1.0 before averaging the word.
            first_ids = pieces.ids[words.piece_index[words.first_piece]]
            forced_first = tables.forced[first_ids]
            adjusted = piece_probs.copy()
            adjusted[words.piece_index[words.first_piece[forced_first]]] = 1.0
            probs = wordmap.word_means(adjusted, words)
            sizes = np.diff(np.append(words.first_piece, len(words.piece_index)))
            flags[forced_first & (sizes == 1)] |= FLAG_EXACT_ONE
            bounds = np.append(words.first_piece, len(words.piece_index))
            ids_sel = pieces.ids[words.piece_index]
            strings = [
                tables.llmlingua_word(ids_sel[a:b])
                for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True)
            ]
        else:
            probs = (
                wordmap.word_means(piece_probs, words) if len(words) else np.zeros(0, np.float32)
            )
            strings = [
                text[s:e] for s, e in zip(words.starts.tolist(), words.ends.tolist(), strict=True)
            ]
        tokens = _COUNTER.counts(strings) if strings else np.zeros(0, np.int32)
        flags[protected_words(text, words.starts, words.ends)] |= FLAG_PROTECTED
        return WordProbs(
            starts=words.starts,
            ends=words.ends,
            probs=probs,
            tokens=tokens,
            flags=flags,
            chunk_starts=wordmap.word_chunk_starts(words, chunk_starts),
            text_tokens=count_tokens(text),
        )

    def _select(
        self,
        texts: list[str],
        wps: list[WordProbs],
        mode: str,
        force_tokens: tuple[str, ...],
        target: float,
        rate: float,
        hard: bool,
        options: dict[str, bool],
        stats: JSONObject,
    ) -> list[np.ndarray]:
        """Keep masks per text for the mode, meeting `target` tokens of output."""
        protect = options["protect"]
        if mode == "llmlingua2" and not options["honour_rate"]:
            original = sum(wp.text_tokens for wp in wps)
            eff_rate = min(target / original, 1.0) if hard else rate
            stats["llmlingua_rate"] = eff_rate
            return self._keep_llmlingua2(wps, eff_rate, protect)
        if mode == "llmlingua2":
            keeps, stats["llmlingua_rate"] = self._honour_llmlingua2(
                texts, wps, target, rate, protect, hard
            )
            if hard and _rebuilt_tokens(texts, wps, keeps) > target:
                # Below what llmlingua's rule can reach (it keeps every word of probability
                # 1.0 once a threshold is 1.0): one global threshold keeps the ceiling.
                keeps, _ = self._honour_global(
                    texts, wps, force_tokens, target, protect, hard, stats
                )
                stats["fallback"] = "global"
            return keeps
        probs = [_global_scores(t, wp, options) for t, wp in zip(texts, wps, strict=True)]
        keeps, stats["threshold"] = self._honour_global(
            texts, wps, force_tokens, target, protect, hard, stats, probs
        )
        return keeps

    @staticmethod
    def _keep_llmlingua2(wps: list[WordProbs], rate: float, protect: bool) -> list[np.ndarray]:
        keeps = []
        for wp in wps:
            keep = thresholds.keep_llmlingua2(
                wp.probs, wp.tokens, wp.chunk_starts, rate, (wp.flags & FLAG_EXACT_ONE) > 0
            )
            if protect:
                keep |= (wp.flags & FLAG_PROTECTED) > 0
            keeps.append(keep)
        return keeps

    def _honour_llmlingua2(
        self,
        texts: list[str],
        wps: list[WordProbs],
        target: float,
        rate: float,
        protect: bool,
        hard: bool,
    ) -> tuple[list[np.ndarray], float]:
        """Per-chunk thresholds (llmlingua's), at the percentile whose output meets target."""
        if target >= sum(wp.text_tokens for wp in wps):  # everything fits
            return self._keep_llmlingua2(wps, 1.0, protect), 1.0

        def measure(q: int) -> int:
            keeps = self._keep_llmlingua2(wps, thresholds.rate_for_percentile(q), protect)
            return _rebuilt_tokens(texts, wps, keeps)

        eff_rate = thresholds.rate_for_percentile(
            thresholds.search_percentile(measure, target, hard)
        )
        return self._keep_llmlingua2(wps, eff_rate, protect), eff_rate

    def _honour_global(
        self,
        texts: list[str],
        wps: list[WordProbs],
        force_tokens: tuple[str, ...],
        target: float,
        protect: bool,
        hard: bool,
        stats: JSONObject,
        probs: list[np.ndarray] | None = None,
    ) -> tuple[list[np.ndarray], float]:
        """One threshold over all words, with the word-token budget whose output meets target.

        probs: the words' probabilities when not their model's own (names smoothed)."""
        probs = probs if probs is not None else [wp.probs for wp in wps]
        forced = [_force_mask(t, wp, force_tokens) for t, wp in zip(texts, wps, strict=True)]
        protected = [((wp.flags & FLAG_PROTECTED) > 0) & protect for wp in wps]
        total = sum(int(wp.tokens.sum()) for wp in wps)
        original = sum(wp.text_tokens for wp in wps)
        if target >= original:  # everything fits
            return [np.ones(len(wp), dtype=bool) for wp in wps], 0.0

        first = _first_copies(texts)

        def keep_at(budget: float) -> tuple[list[np.ndarray], float]:
            # A repeated text comes out as its first copy does (a budget may fall between them).
            keeps, threshold = self._keep_global(probs, protected, forced, budget, hard, wps)
            return [keeps[j] for j in first], threshold

        def measure(budget: float) -> int:
            return _rebuilt_tokens(texts, wps, keep_at(budget)[0])

        # Words counted alone cost about total/original tokens per text token: start there.
        start = target * total / max(original, 1)
        tolerance = max(1.0, 0.004 * original)
        budget = thresholds.search_budget(measure, target, start, hard, tolerance)
        stats["word_budget"] = budget
        return keep_at(budget)

    def _keep_global(
        self,
        probs: list[np.ndarray],
        protected: list[np.ndarray],
        forced: list[np.ndarray],
        budget: float,
        hard: bool,
        wps: list[WordProbs],
    ) -> tuple[list[np.ndarray], float]:
        sizes = [len(p) for p in probs]
        if sum(sizes) == 0:
            return [np.zeros(0, dtype=bool) for _ in probs], 1.0
        keep, threshold = thresholds.keep_global(
            np.concatenate(probs),
            np.concatenate([wp.tokens for wp in wps]),
            budget,
            np.concatenate(protected),
            np.concatenate(forced),
            hard,
        )
        return np.split(keep, np.cumsum(sizes)[:-1]), threshold


# -- helpers ---------------------------------------------------------------------------------


def _declared_chunk_pieces(config: PretrainedConfig) -> int:
    """Pieces per global-mode window: the model's trained window when it declares one."""
    window = getattr(config, WINDOW_CONFIG_KEY, None)
    if isinstance(window, int) and not isinstance(window, bool) and window > 2:
        return window - 2  # CLS and SEP take two of the positions
    return GLOBAL_CHUNK_PIECES


def _global_scores(text: str, wp: WordProbs, options: dict[str, bool]) -> np.ndarray:
    """Global mode's word scores: the model's probabilities with the span priors on top."""
    if options["span_rules"]:
        protected = ((wp.flags & FLAG_PROTECTED) > 0) & options["protect"]
        return spans.span_scores(
            text, wp.starts, wp.ends, wp.probs, protected, whole_names=options["whole_names"]
        )
    if options["whole_names"]:
        return phrases.smooth_over_groups(wp.probs, phrases.phrase_groups(text, wp.starts, wp.ends))
    return wp.probs


def _empty_word_probs() -> WordProbs:
    z = np.zeros(0, dtype=np.int32)
    return WordProbs(z, z, np.zeros(0, np.float32), z, np.zeros(0, np.uint8), z, 0)


def _first_copies(texts: list[str]) -> list[int]:
    """For each text, the index of its first identical copy in the list."""
    seen: dict[str, int] = {}
    return [seen.setdefault(t, i) for i, t in enumerate(texts)]


def _rebuilt_tokens(texts: list[str], wps: list[WordProbs], keeps: list[np.ndarray]) -> int:
    """cl100k tokens of the text these keep masks rebuild."""
    pieces = [
        wordmap.rebuild(t, wp.starts, wp.ends, k)
        for t, wp, k in zip(texts, wps, keeps, strict=True)
    ]
    return count_tokens(_join(pieces, texts))


def _join(pieces: list[str], texts: list[str]) -> str:
    if len(texts) == 1:
        return pieces[0]
    return "\n\n".join(p for p in pieces if p)


def _force_mask(text: str, wp: WordProbs, force_tokens: tuple[str, ...]) -> np.ndarray:
    """Words whose text is a force token (whitespace ones are kept by rebuild anyway)."""
    mask = np.zeros(len(wp), dtype=bool)
    wanted = [t for t in force_tokens if t.strip()]
    if not wanted or not len(wp):
        return mask
    lengths = wp.ends - wp.starts
    singles = [ord(t) for t in wanted if len(t) == 1]
    if singles:
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
        one = np.flatnonzero(lengths == 1)
        mask[one] = np.isin(codes[wp.starts[one]], singles)
    for t in {t for t in wanted if len(t) > 1}:
        for i in np.flatnonzero(lengths == len(t)).tolist():
            if text[wp.starts[i] : wp.ends[i]] == t:
                mask[i] = True
    return mask


def _check_mode(mode: str) -> str:
    if mode not in MODES:
        raise CompressorError(f"unknown compression mode {mode!r}; use one of {', '.join(MODES)}")
    return mode


def _check_texts(text: object, allow_empty: bool = False) -> list[str]:
    if isinstance(text, str):
        texts = [text]
    elif isinstance(text, Sequence) and all(isinstance(t, str) for t in text):
        texts = list(text)
    else:
        raise CompressorError("compress expects a string or a list of strings")
    if not allow_empty and not any(t.strip() for t in texts):
        raise CompressorError("nothing to compress: the text is empty or only whitespace")
    return texts


def _check_budget(rate: float | None, target_tokens: int | None) -> tuple[float, int | None]:
    if rate is not None and target_tokens is not None:
        raise CompressorError("give either rate or target_tokens, not both")
    if target_tokens is not None:
        if isinstance(target_tokens, bool) or not isinstance(target_tokens, (int, np.integer)):
            raise CompressorError(f"target_tokens must be a whole number, got {target_tokens!r}")
        if target_tokens <= 0:
            raise CompressorError(f"target_tokens must be positive, got {target_tokens}")
        return DEFAULT_RATE, int(target_tokens)
    return thresholds.check_rate(DEFAULT_RATE if rate is None else rate), None


def _default_model_dir() -> Path:
    try:
        from ctxchat.engines.compress.bundle import default_model_dir
    except ImportError as exc:
        raise ModelNotFoundError(
            "the default compressor model is not installed; pass a model folder or run "
            "`ctxchat models pull microsoft/llmlingua-2-xlm-roberta-large-meetingbank`"
        ) from exc
    path = Path(default_model_dir())
    if not (path / "config.json").exists():
        raise ModelNotFoundError(
            f"the default compressor model is missing ({path}); pass a model folder or run "
            "`ctxchat models pull microsoft/llmlingua-2-xlm-roberta-large-meetingbank`"
        )
    return path


def planned_identity(
    model: str | Path | None = None, *, device: str = "auto", precision: str = "auto"
) -> tuple[str, str]:
    """(model_id, precision) of default_compressor(model=..., device=..., precision=...),
    read without loading it: a cached result's key needs them, and on a hit nothing has to
    load (transformers and the weights take ~8 s of a cold `ctxchat compress` here)."""
    path = _default_model_dir() if not model else resolve_model_dir(model)
    return model_fingerprint(path), resolve_precision(torch_device(device), precision)


_DEFAULT: dict[tuple, Compressor] = {}
_DEFAULT_LOCK = threading.Lock()


def default_compressor(
    store: Store | None = None,
    *,
    model: str | Path | None = None,
    device: str = "auto",
    precision: str = "auto",
) -> Compressor:
    """A shared compressor per (store, model, device, precision): the project's bundled model
    when model is None or empty. Loaded once per process; the encoder is shared across stores."""
    model = model or None
    key = (id(store), str(model) if model else None, device, precision)
    with _DEFAULT_LOCK:
        comp = _DEFAULT.get(key)
        if comp is None or comp.store is not store:
            comp = Compressor(model, store=store, device=device, precision=precision)
            _DEFAULT[key] = comp
        return comp
