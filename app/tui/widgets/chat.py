"""The conversation: questions as plain lines, answers streamed in as Markdown.

Page citations in answers are links (app.tui.citations); choosing one posts CitationChosen
and the app scrolls the context panel to that page's excerpt. An empty chat shows how to
start and which model answers.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual import on
from textual.await_complete import AwaitComplete
from textual.containers import VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import Markdown, Static

from ctxchat.app.tui.citations import citation_parser, cited_pages, page_of_href
from ctxchat.engines.terminal_text import terminal_safe


class CitationChosen(Message):
    """A [p. N] in an answer was clicked (or picked with its key)."""

    def __init__(self, page: int) -> None:
        super().__init__()
        self.page = page


class PlainLine(Static):
    """Text shown as it is: no markup, terminal controls escaped (engines/terminal_text.py)."""

    def __init__(self, text: str, *, classes: str | None = None) -> None:
        super().__init__(terminal_safe(text), markup=False, classes=classes)


class Question(PlainLine):
    """What the user asked."""


class Answer(Markdown):
    """The model's answer; filled by a MarkdownStream while it is generated."""

    def __init__(self, markdown: str | None = None) -> None:
        super().__init__(markdown, parser_factory=citation_parser, open_links=False)

    # Every answer (streamed, reopened or whole) enters through these two: the model's text
    # could carry terminal controls, shown escaped (engines/terminal_text.py).
    def update(self, markdown: str) -> AwaitComplete:
        return super().update(terminal_safe(markdown))

    def append(self, markdown: str) -> AwaitComplete:
        return super().append(terminal_safe(markdown))


class Notice(PlainLine):
    """A line from ctxchat itself inside the chat (cancelled, no documents...)."""


class Welcome(Static):
    """The first screen's three steps, and which model answers."""


# Under a small local reader (the bundled 135M one): where better answers come from (the
# bundled one is right on about a quarter of the real-text benchmark's questions).
BETTER_READER_HINT = (
    "[dim]A tiny model: check its answers against the evidence shown. For better ones: "
    "ctxchat models pull qwen2.5-1.5b, or a local Ollama or LM Studio (F2).[/dim]"
)


def reading_line(documents: Sequence[tuple[str, int | None]]) -> str:
    """What the questions will read, once documents are in use: on a narrow terminal the
    library is hidden and the "added" toast gone, and this line is all that says so."""
    if not documents:
        return "Drop a PDF on this window (or paste its path) to add it."
    if len(documents) == 1:
        name, pages = documents[0]
        size = f" ({pages:,} pages)" if pages else ""
        return f"Reading {name}{size}. Drop another PDF to add it."
    names = [name for name, _ in documents[:2]]
    more = len(documents) - len(names)
    listed = ", ".join(names) + (f" and {more} more" if more else "")
    return f"Reading {len(documents)} documents: {listed}. Drop another PDF to add it."


def welcome_text(
    model: str, small_reader: bool = False, documents: Sequence[tuple[str, int | None]] = ()
) -> Content:
    """The empty chat's steps; `documents` (name, pages) are those in use. File and model
    names enter as variables: never read as markup, terminal controls escaped."""
    # The spaces after each number sit inside its bold span: a styled span that starts
    # with a space loses it in some SVG viewers of screenshots.
    template = (
        "[b]1  [/b]$reading\n"
        "[b]2  [/b]Type a question and press Enter; answers cite pages like "
        "[u]\\[p. 3][/u].\n"
        "[b]3  [/b]Ctrl+Y copies the compressed prompt for any other chat.\n"
        "[dim]Answers come from $model.[/dim]" + (f"\n{BETTER_READER_HINT}" if small_reader else "")
    )
    return Content.from_markup(
        template, reading=terminal_safe(reading_line(documents)), model=terminal_safe(model)
    )


class ChatView(VerticalScroll):
    """Scrolls with the newest message; the user can scroll up while an answer streams.

    It takes no focus: Tab from the library must land in the question box, and focus order
    follows screen position (the chat is above the prompt). PgUp/PgDn scroll it instead.
    """

    can_focus = False

    def __init__(self, *, welcome: Content | str = "", id: str | None = None) -> None:
        super().__init__(id=id)
        self.welcome = welcome
        self._cycled: Answer | None = None  # the answer Ctrl+G walks through
        self._cycle_index = 0

    def on_mount(self) -> None:
        self.anchor()
        self.mount(Welcome(self.welcome, id="welcome"))

    def set_welcome(self, text: Content | str) -> None:
        """New welcome text (the model changed); shown while the chat is empty."""
        self.welcome = text
        for widget in self.query(Welcome):
            widget.update(text)

    async def add_question(self, text: str) -> Question:
        await self.query(Welcome).remove()
        widget = Question(text)
        await self.mount(widget)
        return widget

    async def add_answer(self, markdown: str = "") -> Answer:
        widget = Answer(markdown)
        await self.mount(widget)
        return widget

    async def add_notice(self, text: str) -> Notice:
        widget = Notice(text)
        await self.mount(widget)
        return widget

    async def clear(self) -> None:
        await self.remove_children()
        await self.mount(Welcome(self.welcome, id="welcome"))

    def next_cited_page(self) -> int | None:
        """The pages the newest answer cites, one per call, round and round (None: none)."""
        answers = list(self.query(Answer))
        pages = cited_pages(answers[-1].source) if answers else []
        if not pages:
            return None
        if self._cycled is not answers[-1]:
            self._cycled, self._cycle_index = answers[-1], 0
        page = pages[self._cycle_index % len(pages)]
        self._cycle_index += 1
        return page

    @on(Markdown.LinkClicked)
    def on_link_clicked(self, event: Markdown.LinkClicked) -> None:
        page = page_of_href(event.href)
        if page is not None:
            event.stop()
            self.post_message(CitationChosen(page))
