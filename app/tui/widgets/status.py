"""The status line: tokens before -> after, ratio, cache hits, time per stage, model facts."""

from __future__ import annotations

from dataclasses import dataclass, field

from textual.widgets import Static


@dataclass
class StatusInfo:
    """Everything the status line shows; each part is optional until known."""

    original_tokens: int | None = None
    compressed_tokens: int | None = None
    cache_hits: str | None = None
    stages: dict[str, float] = field(default_factory=dict)  # stage -> seconds
    device: str = "auto"
    model: str = "-"
    kv_type: str = "-"
    state: str = "idle"
    indexing: str | None = None  # background indexing: document, percent, time left
    early_index: int | None = None  # the last context came from an N% index (early path)

    def render_line(self) -> str:
        # The state first: it must stay visible on a narrow terminal.
        parts: list[str] = [self.state]
        if self.indexing:
            parts.append(self.indexing)
        if self.early_index is not None:
            parts.append(f"early answer: index {self.early_index}% done")
        if self.original_tokens is not None and self.compressed_tokens is not None:
            ratio = self.original_tokens / max(self.compressed_tokens, 1)
            parts.append(
                f"tokens {self.original_tokens:,} -> {self.compressed_tokens:,} ({ratio:.1f}x)"
            )
        else:
            parts.append("tokens -")
        if self.cache_hits is not None:
            parts.append(f"cache {self.cache_hits}")
        if self.stages:
            parts.append(" ".join(f"{k} {v:.1f}s" for k, v in self.stages.items()))
        parts.append(f"{self.device} · {self.model} · KV {self.kv_type}")
        return " | ".join(parts)


class StatusLine(Static):
    """One line; the app updates it from StatusInfo after each stage."""

    def show(self, info: StatusInfo) -> None:
        self.update(info.render_line())
