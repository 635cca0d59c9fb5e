"""What the TUI's thread workers report back: typed Textual messages, handled in app.py.

Workers never touch widgets: they post one of these (post_message is thread-safe) and the
app's handlers, on the UI thread, update the screen. A worker that raises is turned into
one error notice by the app's single Worker.StateChanged handler (as Harlequin does).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from textual.message import Message

from ctxchat.app.tui.dropped import ContextPiece
from ctxchat.engines.answer.conversation import AskResult, PreparedContext
from ctxchat.engines.ingest.library import AddResult
from ctxchat.engines.results import Compressed
from ctxchat.engines.select.indexing import IndexProgress


@dataclass
class StatusChanged(Message):
    """The status line's state ("compressing…", "ready"); None redraws it as it is."""

    state: str | None = None


@dataclass
class Say(Message):
    """A notification for the user."""

    text: str
    severity: str = "information"
    title: str = ""


@dataclass
class DeviceResolved(Message):
    device: str


@dataclass
class ModelLoaded(Message):
    """The chat model is in memory."""


@dataclass
class IngestStarted(Message):
    ticket: int
    path: Path
    again: bool = False  # an older ctxchat read this file: it is read again in place


@dataclass
class IngestAdvanced(Message):
    ticket: int
    done: int
    total: int | None


@dataclass
class IngestFinished(Message):
    """One file read (result) or refused (error, a one-line reason)."""

    ticket: int
    path: Path
    result: AddResult | None = None
    error: str | None = None


@dataclass
class IngestQueueEmpty(Message):
    """Every dropped file is read: the next thing to do is to ask."""


@dataclass
class ContextShown(Message):
    """A context to show in the panel (an export compressed it; no answer follows)."""

    compressed: Compressed | None
    pieces: list[ContextPiece] | None


# The answer messages carry their question's turn: a question asked while an answer still
# streams supersedes it, and the old answer's late messages must not reach the new one's view.


@dataclass
class ContextReady(Message):
    """The question's context and best evidence, before the model says a word."""

    prepared: PreparedContext
    pieces: list[ContextPiece]
    stages: dict[str, float] = field(default_factory=dict)
    turn: int = 0


@dataclass
class AnswerStarted(Message):
    """The model starts answering; notes say what had to give way to fit it."""

    notes: list[str]
    turn: int = 0


@dataclass
class AnswerChunk(Message):
    text: str
    turn: int = 0


@dataclass
class AnswerDone(Message):
    """The answer ended: complete, stopped by the loop guard, or cancelled."""

    question: str
    result: AskResult | None
    stages: dict[str, float]
    cancelled: bool
    turn: int = 0


@dataclass
class PromptExported(Message):
    """The prompt was copied or saved; the text says how."""

    text: str


@dataclass
class Osc52Copy(Message):
    """Text for the terminal's clipboard (OSC 52), which only the UI thread may write."""

    text: str


@dataclass
class IndexProgressed(Message):
    """The indexing worker committed a chunk of vectors (or stopped: stopped says why;
    progress is None when indexing failed)."""

    doc_id: int
    name: str
    progress: IndexProgress | None
    stopped: str | None = None
