"""Word surprisal from the bundled SmolLM2-135M GGUF (llama.cpp), the teacher's LM signal.

A word's surprisal is the sum of -log p(token | preceding text) over its llama tokens: how much
information the word carries that the context did not already predict. LLMLingua-2 distilled
GPT-4; offline, a small causal LM's surprisal is the closest thing to "what a reader needs".
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ctxchat.engines.models import smollm_gguf

# Tokens of context carried into the next window, so a window's first words are not scored blind.
WINDOW_OVERLAP = 32


class SurprisalModel:
    """Scores words of a text with a llama.cpp model; one instance reuses one context."""

    def __init__(
        self, model_path: str | Path | None = None, n_ctx: int = 512, n_threads: int | None = None
    ) -> None:
        from llama_cpp import Llama

        threads = n_threads or min(os.cpu_count() or 2, 4)
        self.n_ctx = n_ctx
        self.llm = Llama(
            model_path=str(model_path or smollm_gguf()),
            n_ctx=n_ctx,
            n_batch=n_ctx,
            logits_all=True,
            verbose=False,
            n_threads=threads,
            n_threads_batch=threads,
            seed=0,
        )
        self.tokens_scored = 0

    def token_surprisal(self, tokens: list[int]) -> np.ndarray:
        """-log p of each token given the ones before it (nats), in overlapping windows."""
        out = np.zeros(len(tokens), dtype=np.float32)
        width = self.n_ctx - 1  # one slot for BOS
        bos = self.llm.token_bos()
        start = 0
        while start < len(tokens):
            window = tokens[start : start + width]
            seq = [bos, *window]
            self.llm.reset()
            self.llm.eval(seq)
            logits = np.asarray(self.llm.scores[: len(seq) - 1], dtype=np.float32)
            peak = logits.max(axis=1)
            lse = peak + np.log(np.exp(logits - peak[:, None]).sum(axis=1))
            target = np.asarray(window)
            surprisal = lse - logits[np.arange(len(window)), target]
            first = 0 if start == 0 else WINDOW_OVERLAP
            out[start + first : start + len(window)] = surprisal[first:]
            self.tokens_scored += len(seq)
            if start + width >= len(tokens):
                break
            start += width - WINDOW_OVERLAP
        return out

    def word_surprisal(self, text: str, spans: list[tuple[int, int]]) -> np.ndarray:
        """Surprisal of each word span (sum over the llama tokens that start inside it)."""
        data = text.encode("utf-8")
        tokens = self.llm.tokenize(data, add_bos=False, special=False)
        token_bytes = [self.llm.detokenize([t]) for t in tokens]
        per_token = self.token_surprisal(tokens)

        # byte offset -> char offset, then char -> word index (-1 for whitespace).
        char_of_byte = np.repeat(
            np.arange(len(text)), [len(c.encode("utf-8")) for c in text]
        ).astype(np.int64)
        word_of_char = np.full(len(text) + 1, -1, dtype=np.int64)
        for i, (a, b) in enumerate(spans):
            word_of_char[a:b] = i
        scores = np.zeros(len(spans), dtype=np.float32)
        offset = 0
        for t, piece in enumerate(token_bytes):
            # A token such as " word" belongs to the word of its first non-space byte.
            lead = len(piece) - len(piece.lstrip())
            pos = offset + lead
            offset += len(piece)
            if pos >= len(data) or lead == len(piece):
                continue
            w = word_of_char[char_of_byte[pos]]
            if w >= 0:
                scores[w] += per_token[t]
        return scores
