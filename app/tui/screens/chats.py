"""Pick a saved chat to reopen."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from ctxchat.engines.store.db import ChatRow
from ctxchat.engines.terminal_text import terminal_safe


class ChatsScreen(ModalScreen[int | None]):
    BINDINGS = [Binding("escape", "dismiss_none", "Close")]

    def __init__(self, chats: list[ChatRow]) -> None:
        super().__init__()
        self.chats = chats

    def compose(self) -> ComposeResult:
        with Vertical(id="chats-dialog", classes="dialog"):
            yield Static("Saved chats (Enter opens, Esc closes)", classes="panel-title")
            if self.chats:
                yield OptionList(
                    *(
                        Option(terminal_safe(f"#{c.id}  {c.title}"), id=str(c.id))
                        for c in self.chats
                    ),
                    id="chats-list",
                )
            else:
                yield Static("No saved chats yet: ask a question first.")

    @staticmethod
    def _chosen(option: Option) -> int:
        return int(option.id or 0)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self._chosen(event.option))

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
