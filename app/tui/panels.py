"""The side panels' keys: Ctrl+L (library) and Ctrl+R (context) open a panel over the chat
on a narrow terminal (ctxchat.tcss) or focus it beside the chat; a citation chosen in an
answer (a click, or Ctrl+G) brings the context panel to that page's excerpt.

A mixin of CtxchatApp, so the app module keeps to flows and workers.
"""

from __future__ import annotations

from textual import on
from textual.app import App
from textual.widget import Widget

from ctxchat.app.tui.widgets.chat import ChatView, CitationChosen
from ctxchat.app.tui.widgets.context import ContextPanel
from ctxchat.app.tui.widgets.library import LibraryTable
from ctxchat.app.tui.widgets.overlay import is_overlay
from ctxchat.app.tui.widgets.prompt import PromptInput


class PanelActions(App[int]):
    """Open, focus and close the library and context panels; follow citations."""

    def say(self, message: str, *, severity: str = "information", title: str = "") -> None:
        raise NotImplementedError  # CtxchatApp's notice, kept for tests and the log

    def _panel_focus_target(self, panel: Widget) -> Widget:
        if panel.id == "library":
            return self.query_one(LibraryTable)
        return panel.query_one("#context-scroll")

    def open_panel(self, panel: Widget) -> None:
        """Show the panel (over the chat where it is an overlay) and focus it."""
        self.close_overlays()
        panel.add_class("-open")
        self._panel_focus_target(panel).focus()

    def action_toggle_panel(self, name: str) -> None:
        """Ctrl+L / Ctrl+R: open the panel, or focus it; pressed again in it, close it (an
        overlay) and go back to the question."""
        panel = self.query_one(f"#{name}")
        if not panel.display or not panel.has_focus_within:
            self.open_panel(panel)
        else:
            self.action_close_panel(panel)

    def action_close_panel(self, panel: Widget) -> None:
        panel.remove_class("-open")
        self.query_one(PromptInput).focus()

    def close_overlays(self) -> None:
        for panel in self.query("#library, #context"):
            panel.remove_class("-open")

    def action_next_citation(self) -> None:
        """Ctrl+G: the next page the newest answer cites, in the context panel."""
        page = self.query_one(ChatView).next_cited_page()
        if page is None:
            self.say("The last answer cites no page", severity="warning")
            return
        self.show_citation(page)

    @on(CitationChosen)
    def on_citation_chosen(self, message: CitationChosen) -> None:
        self.show_citation(message.page)

    def show_citation(self, page: int) -> None:
        """Bring the context panel into view, scrolled to the excerpt from `page`."""
        panel = self.query_one(ContextPanel)
        if not panel.show_page(page):
            self.say(f"p. {page} is not in the context sent", severity="warning")
            return
        if not panel.display or is_overlay(panel):
            self.open_panel(panel)
