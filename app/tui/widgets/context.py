"""The context panel: exactly what was sent to the model.

Kept words are plain; words the compressor dropped can be shown dimmed and struck through
(toggle), so the user sees what the model never read. Each page's excerpt is its own
widget, so a citation in an answer can scroll the panel to it (show_page).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from ctxchat.app.tui.dropped import ContextPiece
from ctxchat.app.tui.widgets.overlay import is_overlay
from ctxchat.engines.terminal_text import terminal_safe

DROPPED_STYLE = "dim strike"
# The space after a dropped word: dim but not struck, so the strike stops at the word.
# A space styled apart from its neighbours is also drawn as a gap (never glued to the
# next word) by SVG viewers of screenshots.
DROPPED_GAP_STYLE = "dim"


@dataclass
class ExcerptGroup:
    """Consecutive pieces from one page of one document, under one heading: sentences of
    two passages that share a page are two excerpts, as the exported prompt marks them."""

    doc_name: str | None
    page: int | None
    pieces: list[ContextPiece] = field(default_factory=list)
    section: str | None = None

    @property
    def label(self) -> str:
        label = self.doc_name or ""
        if self.page is not None:
            label = f"{label} p.{self.page}".strip()
        if self.section:
            label = f"{label} · {' '.join(self.section.split())}".strip(" ·")
        return label


def group_pieces(pieces: Sequence[ContextPiece]) -> list[ExcerptGroup]:
    groups: list[ExcerptGroup] = []
    for piece in pieces:
        where = (piece.doc_name, piece.page, piece.section)
        if not groups or (groups[-1].doc_name, groups[-1].page, groups[-1].section) != where:
            groups.append(ExcerptGroup(piece.doc_name, piece.page, section=piece.section))
        groups[-1].pieces.append(piece)
    return groups


def render_words(text: Text, piece: ContextPiece, *, show_dropped: bool) -> None:
    """Append a piece's words with the source's spacing between them."""
    gap_style = ""
    wrote = False
    for index, (word, kept) in enumerate(zip(piece.words, piece.keep, strict=False)):
        if not kept and not show_dropped:
            continue
        if wrote:
            # Hidden dropped words leave one space, not none ("time." keeps its stop).
            gap = piece.gap(index) if show_dropped else (piece.gap(index) or " ")
            text.append(terminal_safe(gap), style=gap_style)
        text.append(terminal_safe(word), style="" if kept else DROPPED_STYLE)
        gap_style = "" if kept else DROPPED_GAP_STYLE
        wrote = True


def render_group(group: ExcerptGroup, *, show_dropped: bool) -> Text:
    text = Text()
    if group.label:
        text.append(f"[{terminal_safe(group.label)}]\n", style="bold cyan")
    for n, piece in enumerate(group.pieces):
        if n:  # a code example has lines of its own: no sentence runs on from its last one
            text.append("\n" if _is_code(piece) or _is_code(group.pieces[n - 1]) else " ")
        render_words(text, piece, show_dropped=show_dropped)
    return text


def _is_code(piece: ContextPiece) -> bool:
    """Only a code example's words are set apart by line breaks (ingest keeps its lines)."""
    return piece.gaps is not None and any("\n" in gap for gap in piece.gaps)


def render_pieces(pieces: Sequence[ContextPiece], *, show_dropped: bool) -> Text:
    """The whole context as one text (the excerpts one after another)."""
    groups = [render_group(g, show_dropped=show_dropped) for g in group_pieces(pieces)]
    return Text("\n\n").join(groups)


# Page markers in a context saved as plain text: "[p. 3]" or "[report.pdf, p. 3]".
_MARKER = re.compile(r"\[(?:[^\[\]\n]*?,\s*)?p\.\s*(\d+)\]")


def split_plain_context(text: str) -> list[tuple[int | None, str]]:
    """A plain context cut at its page markers: (page, text) per excerpt."""
    marks = list(_MARKER.finditer(text))
    parts: list[tuple[int | None, str]] = []
    if not marks or marks[0].start() > 0:
        head = text[: marks[0].start()] if marks else text
        if head.strip():
            parts.append((None, head.strip()))
    for i, mark in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        parts.append((int(mark.group(1)), text[mark.start() : end].strip()))
    return parts


class Excerpt(Static):
    """One page's excerpt; `-cited` while a chosen citation points at it."""

    def __init__(self, text: Text, page: int | None) -> None:
        super().__init__(text, classes="excerpt")
        self.text = text
        self.page = page


class ContextPanel(Vertical):
    """Title with the token count, then the context itself, scrollable."""

    BINDINGS = [Binding("escape", "close", "Close", show=False)]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.pieces: list[ContextPiece] = []
        self.plain_text: str | None = None
        self.show_dropped = True
        self.cited_page: int | None = None  # marked until the context changes

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
        self.cited_page = None
        self.query_one("#context-title", Static).update(terminal_safe(title))
        self._refresh_body()

    def toggle_dropped(self) -> bool:
        self.show_dropped = not self.show_dropped
        self._refresh_body()
        return self.show_dropped

    def rendered(self) -> Text:
        """The body as shown, excerpts joined by blank lines."""
        return Text("\n\n").join(e.text for e in self.query(Excerpt))

    def _refresh_body(self) -> None:
        body = self.query_one("#context-body", Static)
        scroll = self.query_one("#context-scroll", VerticalScroll)
        scroll.query(Excerpt).remove()
        if self.pieces:
            excerpts = [
                Excerpt(render_group(g, show_dropped=self.show_dropped), g.page)
                for g in group_pieces(self.pieces)
            ]
        elif self.plain_text:
            excerpts = [
                Excerpt(Text(terminal_safe(t)), p) for p, t in split_plain_context(self.plain_text)
            ]
        else:
            excerpts = []
        for excerpt in excerpts:  # the first excerpt of a cited page stays marked
            if excerpt.page == self.cited_page:
                excerpt.add_class("-cited")
                break
        body.display = not excerpts  # the hint "Ask a question to see what is sent."
        scroll.mount_all(excerpts)

    def show_page(self, page: int) -> bool:
        """Scroll to the first excerpt from `page` and mark it; False when none is shown."""
        target = next((e for e in self.query(Excerpt) if e.page == page), None)
        self.cited_page = page if target is not None else None
        for excerpt in self.query(Excerpt):
            excerpt.set_class(excerpt is target, "-cited")
        if target is None:
            return False
        scroll = self.query_one("#context-scroll", VerticalScroll)
        # After the next refresh: the excerpts may have been mounted a moment ago.
        self.call_after_refresh(scroll.scroll_to_widget, target, top=True, animate=False)
        return True

    def action_close(self) -> None:
        self.app.action_close_panel(self)  # type: ignore[attr-defined]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return is_overlay(self) if action == "close" else True
