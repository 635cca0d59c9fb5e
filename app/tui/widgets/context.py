"""The context panel: exactly what was sent to the model.

Kept words are plain; words the compressor dropped can be shown dimmed and struck through
(toggle), so the user sees what the model never read.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from ctxchat.app.tui.dropped import ContextPiece


def render_pieces(pieces: Sequence[ContextPiece], *, show_dropped: bool) -> Text:
    text = Text()
    last_source: tuple[str | None, int | None] | None = None
    for piece in pieces:
        source = (piece.doc_name, piece.page)
        if source != last_source and (piece.page is not None or piece.doc_name):
            if text:
                text.append("\n\n")
            label = piece.doc_name or ""
            if piece.page is not None:
                label = f"{label} p.{piece.page}".strip()
            text.append(f"[{label}]\n", style="bold cyan")
            last_source = source
        elif text:
            text.append(" ")
        first = True
        for word, kept in zip(piece.words, piece.keep, strict=False):
            if not kept and not show_dropped:
                continue
            if not first:
                text.append(" ")
            first = False
            text.append(word, style="" if kept else "dim strike")
    return text


class ContextPanel(Vertical):
    """Title with the token count, then the context itself, scrollable."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.pieces: list[ContextPiece] = []
        self.plain_text: str | None = None
        self.show_dropped = True

    def compose(self) -> ComposeResult:
        yield Static("Context sent to the model", classes="panel-title", id="context-title")
        with VerticalScroll(id="context-scroll"):
            yield Static("Ask a question to see what is sent.", id="context-body")

    def set_context(
        self, pieces: Sequence[ContextPiece], *, title: str, plain_text: str | None = None
    ) -> None:
        """Show the pieces (with keep flags) or, when none are known, the plain text."""
        self.pieces = list(pieces)
        self.plain_text = plain_text
        self.query_one("#context-title", Static).update(title)
        self._refresh_body()

    def toggle_dropped(self) -> bool:
        self.show_dropped = not self.show_dropped
        self._refresh_body()
        return self.show_dropped

    def _refresh_body(self) -> None:
        body = self.query_one("#context-body", Static)
        if self.pieces:
            body.update(render_pieces(self.pieces, show_dropped=self.show_dropped))
        elif self.plain_text is not None:
            body.update(Text(self.plain_text))
