"""The conversation: questions as plain lines, answers streamed in as Markdown."""

from __future__ import annotations

from textual.containers import VerticalScroll
from textual.widgets import Markdown, Static


class Question(Static):
    """What the user asked."""


class Answer(Markdown):
    """The model's answer; filled by a MarkdownStream while it is generated."""


class Notice(Static):
    """A line from ctxchat itself inside the chat (cancelled, no documents...)."""


class ChatView(VerticalScroll):
    """Scrolls with the newest message; the user can scroll up while an answer streams.

    It takes no focus: Tab from the library must land in the question box, and focus order
    follows screen position (the chat is above the prompt). PgUp/PgDn scroll it instead.
    """

    can_focus = False

    def on_mount(self) -> None:
        self.anchor()

    async def add_question(self, text: str) -> Question:
        widget = Question(text, markup=False)
        await self.mount(widget)
        return widget

    async def add_answer(self, markdown: str = "") -> Answer:
        widget = Answer(markdown)
        await self.mount(widget)
        return widget

    async def add_notice(self, text: str) -> Notice:
        widget = Notice(text, markup=False)
        await self.mount(widget)
        return widget

    async def clear(self) -> None:
        await self.remove_children()
