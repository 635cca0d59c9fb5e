"""The status line: tokens before -> after, ratio, cache hits, time per stage, model facts."""

from __future__ import annotations

from dataclasses import dataclass, field

from textual.widgets import Static

from ctxchat.engines.terminal_text import terminal_safe


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

    def render_line(self, width: int | None = None) -> str:
        """The parts joined by " | "; with a width, the least needed parts (cache, then
        stage times, then device and KV type) give way so the rest fits."""
        parts = self._parts()
        if width is None:
            return " | ".join(parts.values())
        for drop in ("cache", "stages", "setup"):
            if len(" | ".join(parts.values())) <= width:
                break
            if drop == "setup":
                parts["setup"] = self.model
            else:
                parts.pop(drop, None)
        return " | ".join(parts.values())

    def _parts(self) -> dict[str, str]:
        # The state first: it must stay visible on a narrow terminal.
        parts = {"state": self.state}
        if self.indexing:
            parts["indexing"] = self.indexing
        if self.early_index is not None:
            parts["early"] = f"early answer: index {self.early_index}% done"
        parts["tokens"] = "tokens -"
        if self.original_tokens is not None and self.compressed_tokens is not None:
            ratio = self.original_tokens / max(self.compressed_tokens, 1)
            parts["tokens"] = (
                f"tokens {self.original_tokens:,} -> {self.compressed_tokens:,} ({ratio:.1f}x)"
            )
        if self.cache_hits is not None:
            parts["cache"] = f"cache {self.cache_hits}"
        if self.stages:
            parts["stages"] = " ".join(f"{k} {v:.1f}s" for k, v in self.stages.items())
        parts["setup"] = f"{self.device} · {self.model} · KV {self.kv_type}"
        return parts


class StatusLine(Static):
    """One line; the app updates it from StatusInfo after each stage. On a narrow terminal
    it leaves out what does not fit rather than cutting the line off."""

    info: StatusInfo | None = None

    def show(self, info: StatusInfo) -> None:
        self.info = info
        self.update(terminal_safe(info.render_line(self._width())))

    def _width(self) -> int | None:
        width = self.content_region.width
        return width if width > 0 else None

    def on_resize(self) -> None:
        if self.info is not None:
            self.update(terminal_safe(self.info.render_line(self._width())))
