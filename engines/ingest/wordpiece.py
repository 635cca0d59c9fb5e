"""MiniLM's WordPiece tokenizer, shared by ingest: segment sizes are counted in its tokens
(the compressor's and the embedder's unit), and its vocabulary tells common words apart."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tokenizers import Tokenizer


@lru_cache(maxsize=1)
def load_wordpiece() -> Tokenizer | None:
    """MiniLM's fast WordPiece tokenizer, or None when it is not installed."""
    try:
        from tokenizers import Tokenizer

        from ctxchat.engines.models import minilm_dir

        tok = Tokenizer.from_file(str(minilm_dir() / "tokenizer.json"))
    except Exception:  # missing package or model: fall back to a safe character bound
        return None
    tok.no_truncation()
    tok.no_padding()
    return tok


@lru_cache(maxsize=1)
def whole_words() -> frozenset[str]:
    """The whole words of MiniLM's WordPiece vocabulary (common English words, lowercase);
    empty when the tokenizer is not installed."""
    tok = load_wordpiece()
    if tok is None:
        return frozenset()
    return frozenset(w for w in tok.get_vocab() if w.isalpha() and not w.startswith("##"))
