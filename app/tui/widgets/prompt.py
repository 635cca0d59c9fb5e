"""The question box. It takes drops (pasted paths) as well as typed questions."""

from __future__ import annotations

from pathlib import Path

from textual import events
from textual.message import Message
from textual.widgets import Input

from ctxchat.app.tui.paste import parse_paste
from ctxchat.engines.terminal_text import terminal_safe


class FilesDropped(Message):
    """Paths pasted into the app (a drag and drop); the app ingests them."""

    def __init__(self, paths: list[Path]) -> None:
        super().__init__()
        self.paths = paths


class PromptInput(Input):
    """An Input that hands whole pastes to the paste parser.

    Textual's Input keeps only the first line of a paste, which would lose all but one of
    several dropped files; so this widget handles the paste itself.
    """

    def _on_paste(self, event: events.Paste) -> None:
        event.prevent_default()
        event.stop()
        paths = parse_paste(event.text)
        if paths:
            self.post_message(FilesDropped(paths))
            return
        # Plain text: a one-line box, so lines become spaces rather than being dropped.
        text = " ".join(line.strip() for line in event.text.splitlines() if line.strip())
        text = terminal_safe(text)  # pasted controls would be drawn raw by the Input
        if text:
            selection = self.selection
            if selection.is_empty:
                self.insert_text_at_cursor(text)
            else:
                self.replace(text, *selection)
