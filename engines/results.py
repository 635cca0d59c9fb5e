"""The result types of the public API (ctxchat.compress_text / compress_file)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeAlias, TypedDict

# What the store writes as JSON (stats, options, spans): plain data, never live objects.
JSONValue: TypeAlias = str | int | float | bool | None | list["JSONValue"] | dict[str, "JSONValue"]
JSONObject: TypeAlias = dict[str, JSONValue]


class CacheHits(TypedDict):
    compression: bool  # the whole result came from the compressions table
    embeddings: int  # segment embeddings read from the store instead of computed
    keep_probs: int | None  # keep-probability batches read back (None: no compressor ran)


class CompressionStats(TypedDict, total=False):
    """Compressed.stats: how a result was made. A plain dict at run time (JSON-ready)."""

    seconds: dict[str, float]  # per stage: ingest, select, embed, compress, total
    cache_hits: CacheHits
    options: JSONObject  # everything that decided the result (hashed into the cache key)
    mode: str  # "whole", "select", "select+prune", "prune" or "cached"
    compressor_status: str  # why no compressor ran, where none did
    selection: JSONObject  # the selector's own stats (candidates, timings, index state)
    index: JSONObject  # how far each document's embedding index was when selecting
    compressor: list[JSONObject]  # the compressor's stats, one entry per round
    verbatim_pieces: int  # selected pieces sent whole before pruning the rest
    dropped_fragments: int  # pruned pieces dropped whole for falling under the word floor
    refilled: int  # whole sentences added to the budget the dropped fragments left


@dataclass(frozen=True)
class Span:
    """One kept piece of a document, with where it came from (for citations).

    source is the selected text before the compressor pruned words from it (the sentences
    the span came from), so a viewer can show exactly which words were dropped; None where
    unknown (results cached before it was recorded).
    """

    text: str
    page: int | None
    doc_id: int | None = None
    doc_name: str | None = None
    source: str | None = None
    section: str | None = None  # the heading its sentences sit under


class TokenRatios:
    """ratio and rate from original_tokens and compressed_tokens (shared by every result)."""

    original_tokens: int
    compressed_tokens: int

    @property
    def ratio(self) -> float:
        if self.compressed_tokens <= 0:
            return float(self.original_tokens) if self.original_tokens else 1.0
        return self.original_tokens / self.compressed_tokens

    @property
    def rate(self) -> float:
        """The kept share of tokens (1 / ratio)."""
        if self.original_tokens <= 0:
            return 1.0
        return self.compressed_tokens / self.original_tokens


@dataclass
class Compressed(TokenRatios):
    """A compressed context. Token counts are cl100k_base.

    ratio is original_tokens / compressed_tokens (2.0 means half the tokens remain).
    spans lists the kept pieces in document order with their pages; None for plain text.
    stats holds time per stage (seconds), cache hits and the options used (CompressionStats).
    """

    text: str
    original_tokens: int
    compressed_tokens: int
    spans: list[Span] | None = None
    stats: CompressionStats = field(default_factory=lambda: CompressionStats())
