"""The library panel: documents with pages, size and status, and ingest progress bars."""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import suppress

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Label, ProgressBar, Static
from textual.widgets.data_table import CellDoesNotExist

from ctxchat.app.tui.widgets.overlay import is_overlay
from ctxchat.engines.store.db import DocumentRow
from ctxchat.engines.terminal_text import terminal_safe

USED = "●"
UNUSED = "○"
NAME_WIDTH = 18


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"  # pragma: no cover


class IngestProgress(Vertical):
    """One file being read: its name, a progress bar in pages, and how to cancel."""

    def __init__(self, name: str, *, again: bool = False, id: str | None = None) -> None:
        super().__init__(id=id, classes="ingest")
        self.file_name = name
        self.again = again

    def compose(self) -> ComposeResult:
        verb = "Reading again" if self.again else "Adding"
        yield Label(f"{verb} {terminal_safe(self.file_name)}", classes="ingest-name", markup=False)
        yield ProgressBar(total=None, show_eta=False)

    def advance_to(self, done: int, total: int | None) -> None:
        bar = self.query_one(ProgressBar)
        bar.update(total=total, progress=done)


class LibraryTable(DataTable):
    """Documents in the library; the ones marked ● are what questions are asked about."""

    BINDINGS = [
        Binding("space", "toggle_use", "Use/skip", show=False),
        Binding("delete", "remove", "Remove", show=False),
    ]

    class ToggleUse(Message):
        def __init__(self, doc_id: int) -> None:
            super().__init__()
            self.doc_id = doc_id

    class Remove(Message):
        def __init__(self, doc_id: int) -> None:
            super().__init__()
            self.doc_id = doc_id

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = False
        self.add_column(" ", key="use", width=1)
        self.add_column("Document", key="name", width=NAME_WIDTH)
        # Fixed widths: auto widths follow the rows as they arrive, so the table's look
        # (and the snapshot tests' pictures) would depend on timing.
        self.add_column("Pages", key="pages", width=5)
        self.add_column("Size", key="size", width=9)  # "1023.9 KB"
        self.add_column("Status", key="status", width=6)

    def show(
        self,
        documents: Iterable[DocumentRow],
        used: set[int],
        statuses: dict[int, str] | None = None,
    ) -> None:
        """statuses: a document's status when not "ready" (e.g. its indexing progress)."""
        statuses = statuses or {}
        cursor = self.cursor_row
        self.clear()
        for doc in documents:
            mark = USED if doc.id in used else UNUSED
            self.add_row(
                mark,
                terminal_safe(doc.name),
                str(doc.pages or "-"),
                human_size(doc.bytes),
                terminal_safe(statuses.get(doc.id, "ready")),
                key=str(doc.id),
            )
        if self.row_count:
            self.move_cursor(row=min(cursor, self.row_count - 1))

    def set_status(self, doc_id: int, status: str) -> None:
        """Update one row's status cell (indexing progress) without redrawing the table."""
        with suppress(CellDoesNotExist):  # the row is not shown (yet, or any more)
            self.update_cell(str(doc_id), "status", terminal_safe(status), update_width=True)

    def _current_doc_id(self) -> int | None:
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        return int(key.value) if key.value is not None else None

    def action_toggle_use(self) -> None:
        doc_id = self._current_doc_id()
        if doc_id is not None:
            self.post_message(self.ToggleUse(doc_id))

    def action_remove(self) -> None:
        doc_id = self._current_doc_id()
        if doc_id is not None:
            self.post_message(self.Remove(doc_id))


class LibraryPanel(Vertical):
    """The library table and how to use it. Ingest progress bars live under the chat, where
    they are seen at any terminal width."""

    BINDINGS = [Binding("escape", "close", "Close", show=False)]

    def compose(self) -> ComposeResult:
        yield Static("Library", classes="panel-title")
        yield LibraryTable(id="library-table")
        yield Static(
            "Drop PDFs here (paste their paths). Space: use/skip, Del: remove.",
            id="library-hint",
        )

    def action_close(self) -> None:
        self.app.action_close_panel(self)  # type: ignore[attr-defined]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return is_overlay(self) if action == "close" else True
