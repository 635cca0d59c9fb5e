"""The ctxchat terminal app: library | chat | context, a status line and a footer.

Every model call runs in a thread worker that reports back with typed messages
(app/tui/messages.py), handled here on the UI thread; a worker that fails ends up in one
handler (on_worker_failed). Keys keep working while documents are read and answers stream.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from textual import events, on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Header, Markdown
from textual.widgets.markdown import MarkdownStream
from textual.worker import Worker, WorkerState, get_current_worker

from ctxchat.app.clipboard import CopyResult, copy_text
from ctxchat.app.config import Config, save_config
from ctxchat.app.tui.citations import matched_pages_note
from ctxchat.app.tui.dropped import ContextPiece
from ctxchat.app.tui.messages import (
    AnswerChunk,
    AnswerDone,
    AnswerStarted,
    ContextReady,
    ContextShown,
    DeviceResolved,
    IndexProgressed,
    IngestAdvanced,
    IngestFinished,
    IngestQueueEmpty,
    IngestStarted,
    ModelLoaded,
    Osc52Copy,
    Say,
    StatusChanged,
)
from ctxchat.app.tui.panels import PanelActions
from ctxchat.app.tui.paste import parse_paste
from ctxchat.app.tui.screens.chats import ChatsScreen
from ctxchat.app.tui.screens.settings import SettingsScreen
from ctxchat.app.tui.session import NO_DOCUMENT, Session
from ctxchat.app.tui.widgets.chat import Answer, ChatView, Notice, welcome_text
from ctxchat.app.tui.widgets.context import ContextPanel
from ctxchat.app.tui.widgets.library import IngestProgress, LibraryPanel, LibraryTable
from ctxchat.app.tui.widgets.prompt import FilesDropped, PromptInput
from ctxchat.app.tui.widgets.status import StatusInfo, StatusLine
from ctxchat.engines.answer.conversation import WEAK_MESSAGE, AskResult, PreparedContext
from ctxchat.engines.answer.evidence import Evidence
from ctxchat.engines.errors import CtxchatError
from ctxchat.engines.paths import data_dir
from ctxchat.engines.results import Compressed
from ctxchat.engines.store.db import DocumentRow, Store
from ctxchat.engines.terminal_text import terminal_safe
from ctxchat.engines.tokens import count_tokens

if TYPE_CHECKING:
    from ctxchat.engines.results import CacheHits
    from ctxchat.engines.select.indexing import IndexProgress


class CtxchatApp(PanelActions, App[int]):
    CSS_PATH = "ctxchat.tcss"
    TITLE = "ctxchat"
    SUB_TITLE = "compress, then chat"

    # The chat keeps the width: below 160 columns the library, below 110 the context panel
    # too, leave the row and open over the chat with their keys (ctxchat.tcss).
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-medium"), (160, "-wide")]

    # In footer order: what a narrow footer must still show comes first.
    BINDINGS = [
        Binding("ctrl+y", "copy_prompt", "Copy prompt", priority=True),
        Binding("ctrl+l", "toggle_panel('library')", "Library", priority=True),
        Binding("ctrl+r", "toggle_panel('context')", "Context", priority=True),
        Binding("ctrl+g", "next_citation", "Cited page", priority=True),
        Binding("ctrl+t", "toggle_dropped", "Dropped words"),
        Binding("f2", "settings", "Settings"),
        Binding("ctrl+o", "open_chat", "Chats"),
        Binding("ctrl+n", "new_chat", "New chat"),
        Binding("ctrl+s", "save_prompt", "Save prompt"),
        Binding("escape", "cancel_answer", "Cancel", show=False),
        Binding("pageup", "scroll_chat(-1)", "Scroll chat", show=False),
        Binding("pagedown", "scroll_chat(1)", "Scroll chat", show=False),
    ]

    def __init__(
        self,
        *,
        config: Config | None = None,
        store: Store | None = None,
        preload: bool = True,
    ) -> None:
        super().__init__()
        self.config = config or Config()
        self.store = store or Store()
        self.session = Session(self.store, self.config)
        self.preload = preload
        self.status_info = StatusInfo(
            device=self.config.device, model=self.session.model_label, kv_type=self.config.kv_type
        )
        self.cancel_event = threading.Event()
        self.notices: list[str] = []  # every notification, for tests and the log
        self.last_copy: CopyResult | None = None
        self.last_export: Path | None = None
        self.progress_log: dict[str, list[tuple[int, int | None]]] = {}
        self._ingest_lock = threading.Lock()
        self._ingest_queue: deque[Path] = deque()
        self._ingesting = False
        self._ingest_idle = threading.Event()
        self._ingest_idle.set()
        # Documents waiting to be indexed (embedded) by the same worker, after any ingest.
        self._index_queue: deque[int] = deque()
        self.index_labels: dict[int, str] = {}  # doc id -> the library row's status
        self.index_log: list[tuple[int, int, str | None]] = []  # (doc, percent, stopped)
        self._stream: MarkdownStream | None = None
        self._answering = False  # a question is being compressed or answered
        self._turn = 0  # the question now shown; answer messages of older turns are stale
        self._answer_text: list[str] = []
        self.last_result: AskResult | None = None  # the last answer, for tests and the log
        self._answer_widget: Answer | None = None
        self._asking: str | None = None
        self._answer_error: str | None = None  # set by on_worker_failed for AnswerDone
        self._ingest_tickets = 0
        self._ingest_bars: dict[int, IngestProgress] = {}

    # -- layout --------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="")
        with Horizontal(id="main"):
            yield LibraryPanel(id="library")
            with Vertical(id="chat-column"):
                yield ChatView(welcome=self.welcome(), id="chat")
                yield Vertical(id="ingests")
                yield PromptInput(
                    placeholder="Ask about your documents, or drop a PDF here", id="prompt"
                )
            yield ContextPanel(id="context")
        yield StatusLine(id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.session.restore_used()
        self.refresh_library()
        self.show_status()
        self.query_one(PromptInput).focus()
        if self.preload:
            # Shortly after the first paint: the loading thread's imports (llama.cpp) take
            # the GIL and would delay the first screen by a second on a busy machine
            # (benchmarks/tui_first_paint.py); nobody has asked a question yet anyway.
            self.call_after_refresh(self.set_timer, 0.5, self.load_models)
            self.index_documents([d.id for d in self.session.documents()])  # resume any
        self.note_older_readings()

    def note_older_readings(self) -> None:
        """Read again, in the background, the documents an older ctxchat read (this
        version's reading fixes reach them without a drop); name those whose file is gone:
        dropping the file again re-reads it."""
        from ctxchat.engines.ingest import older_readings

        here, moved = older_readings(self.session.documents())
        if here:
            self.say(
                f"reading again with this version's fixes: {_names([Path(d.path).name for d in here])}"
            )
            self.add_paths(Path(d.path) for d in here)
        if moved:
            gone = [d.name for d in moved]
            files, them = ("the file", "it") if len(gone) == 1 else ("their files", "them")
            self.say(
                f"read by an older ctxchat: {_names(gone)}, and {files} moved. Drop {files} "
                f"again to read {them} with this version's fixes."
            )

    # -- helpers -------------------------------------------------------------------------

    def say(self, message: str, *, severity: str = "information", title: str = "") -> None:
        """Notify the user (and remember it: tests and the tmux drive read self.notices)."""
        self.notices.append(message)
        # File names, server replies and errors reach the terminal here: shown escaped.
        safe, title = terminal_safe(message), terminal_safe(title)
        self.notify(safe, severity=severity, title=title, markup=False)  # type: ignore[arg-type]

    def show_status(self, state: str | None = None) -> None:
        if state is not None:
            self.status_info.state = state
        self.query_one(StatusLine).show(self.status_info)

    def refresh_library(self) -> None:
        documents = self.session.documents()
        self.query_one(LibraryTable).show(documents, self.session.used, self.index_labels)
        self.query_one(ChatView).set_welcome(self.welcome(documents))

    def welcome(self, documents: Sequence[DocumentRow] | None = None) -> Content:
        """The empty chat's text: the steps, the documents in use, which model answers."""
        if documents is None:
            documents = self.session.documents() if self.session.used else []
        reading = [(d.name, d.pages) for d in documents if d.id in self.session.used]
        return welcome_text(self.model_description(), self.small_reader, reading)

    # -- drops and ingest ----------------------------------------------------------------

    @on(FilesDropped)
    def on_files_dropped(self, message: FilesDropped) -> None:
        self.add_paths(message.paths)

    def on_paste(self, event: events.Paste) -> None:
        # A drop while focus is outside the prompt (library, chat): still ingest it.
        from ctxchat.app.tui.paste import parse_paste

        paths = parse_paste(event.text)
        if paths:
            event.stop()
            self.add_paths(paths)

    def add_paths(self, paths: Iterable[Path]) -> None:
        """Queue files for ingest; one worker reads them in drop order, one at a time
        (two CPU-bound ingests only slow each other down)."""
        files = [file for path in paths for file in self.session.expand(path)]
        with self._ingest_lock:
            self._ingest_queue.extend(files)
            if files:
                self._ingest_idle.clear()
            if self._ingesting:
                return
            self._ingesting = True
        self.ingest_queue_worker()

    def index_documents(self, doc_ids: Iterable[int]) -> None:
        """Queue documents for background indexing (a complete one costs one query)."""
        with self._ingest_lock:
            self._index_queue.extend(d for d in doc_ids if d not in self._index_queue)
            if self._ingesting:
                return
            self._ingesting = True
        self.ingest_queue_worker()

    @work(thread=True, group="ingest", exit_on_error=False)
    def ingest_queue_worker(self) -> None:
        """Files first, in drop order; then the index of each added document. A new drop
        stops the indexing run after its current chunk (nothing is lost) and goes first."""
        ingested = False
        while True:
            with self._ingest_lock:
                path = self._ingest_queue.popleft() if self._ingest_queue else None
                doc_id = None
                if path is None and self._index_queue:
                    doc_id = self._index_queue.popleft()
                if path is None:
                    self._ingest_idle.set()
                if path is None and doc_id is None:
                    self._ingesting = False
                    break
            if path is not None:
                ingested = True
                self.ingest_one(path)
                continue
            if ingested:
                ingested = False
                self.post_message(IngestQueueEmpty())
            if doc_id is not None:
                self.index_one(doc_id)
        if ingested:
            self.post_message(IngestQueueEmpty())

    def index_one(self, doc_id: int) -> None:
        """Embed one document's sentences; runs in the ingest worker. Pauses while a
        question is answered, stops when the document is removed or the app quits."""
        from ctxchat.engines.select.indexing import index_document

        worker = get_current_worker()
        doc = self.store.document(doc_id)
        if doc is None:
            return

        def show(progress: IndexProgress, stopped: str | None = None) -> None:
            self.post_message(IndexProgressed(doc.id, doc.name, progress, stopped))

        try:
            report = index_document(
                self.store,
                doc_id,
                on_progress=show,
                should_stop=lambda: worker.is_cancelled or bool(self._ingest_queue),
                should_pause=lambda: self._answering,
            )
        except Exception as exc:  # noqa: BLE001 - questions still work from the early path
            self.post_message(IndexProgressed(doc.id, doc.name, None, f"failed: {exc}"))
            return
        if report.stopped == "cancelled" and not worker.is_cancelled:
            with self._ingest_lock:  # a drop came first: resume after it
                self._index_queue.appendleft(doc_id)
        show(report.progress, report.stopped)

    @on(IndexProgressed)
    def show_index_progress(self, message: IndexProgressed) -> None:
        """Progress and time left in the document's library row and the status line."""
        from ctxchat.engines.select.indexing import format_eta

        progress = message.progress
        percent = progress.percent if progress is not None else -1
        self.index_log.append((message.doc_id, percent, message.stopped))
        if progress is None or message.stopped == "removed":
            self.index_labels.pop(message.doc_id, None)
            self.status_info.indexing = None
            if progress is None:
                self.say(str(message.stopped), severity="error", title="indexing")
            self.show_status()
            return
        if progress.complete:
            label = "ready"
            self.status_info.indexing = None
            self.note_index_ready(message.name)
        else:
            label = f"{progress.percent}% {_short_eta(progress.eta_s)}".rstrip()
            self.status_info.indexing = (
                None
                if message.stopped
                else f"indexing {message.name} {progress.percent}%"
                + (f" · {format_eta(progress.eta_s)}" if progress.eta_s is not None else "")
            )
        self.index_labels[message.doc_id] = label
        self.query_one(LibraryTable).set_status(message.doc_id, label)
        self.show_status()

    def read_by_older(self, path: Path) -> bool:
        """Whether the library holds this file as an older ctxchat read it (the same path;
        a renamed copy is found by its content only once it is read)."""
        from ctxchat.engines.ingest import read_by_older_reader

        where = str(path.resolve())
        docs = self.session.documents()
        return any(d.path == where and read_by_older_reader(d) for d in docs)

    def note_index_ready(self, name: str) -> None:
        """The last answer read a part-built index: once the index is whole, say that asking
        again reads all of it (the status line's "early answer" note goes)."""
        if self.status_info.early_index is not None:
            self.status_info.early_index = None
            self.say(f"{name} is fully indexed: ask again for an answer from all of it")

    def ingest_one(self, path: Path) -> None:
        """Read one file into the library, with a progress bar; runs in the ingest worker.
        A file ctxchat cannot read is reported and the queue goes on."""
        self._ingest_tickets += 1
        ticket = self._ingest_tickets
        self.post_message(IngestStarted(ticket, path, again=self.read_by_older(path)))
        steps = self.progress_log.setdefault(path.name, [])

        def on_progress(done: int, total: int | None) -> None:
            steps.append((done, total))
            self.post_message(IngestAdvanced(ticket, done, total))

        try:
            result = self.session.ingest(path, on_progress=on_progress)
        except CtxchatError as exc:
            self.post_message(IngestFinished(ticket, path, error=str(exc)))
        except Exception as exc:  # noqa: BLE001 - a bad file must never stop the queue
            self.post_message(IngestFinished(ticket, path, error=describe_error(exc)))
        else:
            with self._ingest_lock:
                if result.document.id not in self._index_queue:
                    self._index_queue.append(result.document.id)
            self.post_message(IngestFinished(ticket, path, result=result))

    @on(IngestStarted)
    async def on_ingest_started(self, message: IngestStarted) -> None:
        progress = IngestProgress(message.path.name, again=message.again)
        self._ingest_bars[message.ticket] = progress
        await self.query_one("#ingests").mount(progress)

    @on(IngestAdvanced)
    def on_ingest_advanced(self, message: IngestAdvanced) -> None:
        bar = self._ingest_bars.get(message.ticket)
        if bar is not None:
            bar.advance_to(message.done, message.total)

    @on(IngestFinished)
    async def on_ingest_finished(self, message: IngestFinished) -> None:
        bar = self._ingest_bars.pop(message.ticket, None)
        if bar is not None:
            await bar.remove()
        if message.error is not None or message.result is None:
            self.say(message.error or "not added", severity="error", title=message.path.name)
            return
        doc = message.result.document
        result = message.result
        what = "added" if result.created else "already in the library"
        if result.reread:
            what = "read again (an older ctxchat had read it)"
        pages = f", {doc.pages} pages" if doc.pages else ""
        self.say(f"{doc.name}: {what}{pages}")
        self.refresh_library()

    @on(IngestQueueEmpty)
    def focus_prompt(self) -> None:
        """After a drop is read, the next thing to do is to ask: focus the question box
        (unless a dialog is open on top of the main screen)."""
        if self.screen is self.screen_stack[0]:
            self.query_one(PromptInput).focus()

    @on(LibraryTable.ToggleUse)
    def on_toggle_use(self, message: LibraryTable.ToggleUse) -> None:
        in_use = self.session.toggle_used(message.doc_id)
        self.session.last_compressed = None
        self.refresh_library()
        if in_use and self.preload:
            self.preload_documents()

    @on(LibraryTable.Remove)
    def on_remove(self, message: LibraryTable.Remove) -> None:
        self.session.remove(message.doc_id)  # a run indexing it stops after its chunk
        with self._ingest_lock:
            if message.doc_id in self._index_queue:
                self._index_queue.remove(message.doc_id)
        self.index_labels.pop(message.doc_id, None)
        self.session.last_compressed = None
        self.refresh_library()

    # -- models --------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="preload", exit_on_error=False)
    def preload_documents(self) -> None:
        """Read a document just put in use into memory before it is asked about."""
        self.session.preload_documents()

    @work(thread=True, exclusive=True, group="models", exit_on_error=False)
    def load_models(self) -> None:
        """Load the chat model in the background while the user reads or drops files.
        A failure is shown by on_worker_failed, and asked again on the next question."""
        self.post_message(StatusChanged("loading model…"))
        self.resolve_device()
        self.session.llm()
        self.post_message(ModelLoaded())
        # A large index takes seconds to read: not inside the first question.
        self.session.preload_documents()

    @on(ModelLoaded)
    def _model_loaded(self) -> None:
        # A question may already be compressing or streaming: its state wins over "ready".
        if not self._answering:
            self.show_status("ready")

    def resolve_device(self) -> None:
        """Show the device the models really use ("auto" -> cuda/mps/cpu). Called from workers
        only: resolving "auto" imports torch, which must not slow the first paint."""
        from ctxchat.engines.models import torch_device

        device = torch_device(self.config.device)
        if device != self.status_info.device:
            self.post_message(DeviceResolved(device))

    @on(DeviceResolved)
    def on_device_resolved(self, message: DeviceResolved) -> None:
        self.status_info.device = message.device
        self.show_status()

    @work(thread=True, exclusive=True, group="device", exit_on_error=False)
    def resolve_device_worker(self) -> None:
        self.resolve_device()

    # -- worker reports ------------------------------------------------------------------

    @on(StatusChanged)
    def on_status_changed(self, message: StatusChanged) -> None:
        self.show_status(message.state)

    @on(Say)
    def on_say(self, message: Say) -> None:
        self.say(message.text, severity=message.severity, title=message.title)

    @on(Worker.StateChanged)
    async def on_worker_failed(self, event: Worker.StateChanged) -> None:
        """The one place a worker's exception ends up: a notice, and the state it leaves."""
        if event.state != WorkerState.ERROR:
            return
        worker = event.worker
        message = describe_error(worker.error)
        if worker.group == "answer":  # AnswerDone shows it in the chat
            self._answer_error = message
            self.post_message(
                AnswerDone(self._asking or "", None, {}, cancelled=False, turn=self._turn)
            )
        elif worker.group == "models":
            self.say(message, severity="error", title="chat model")
            self.show_status("model not loaded")
        else:
            self.say(message, severity="error", title=worker.group or "error")
            if worker.group == "ingest":  # the queue worker died: let a new drop restart it
                with self._ingest_lock:
                    self._ingest_queue.clear()
                    self._ingesting = False
                    self._ingest_idle.set()
            if worker.group == "export":
                self.show_status("ready")

    # -- asking --------------------------------------------------------------------------

    @on(PromptInput.Submitted)
    def on_prompt_submitted(self, event: PromptInput.Submitted) -> None:
        question = event.value.strip()
        if not question:
            return
        paths = parse_paste(question)
        if paths:  # a typed path, or a drop from a terminal without bracketed paste
            event.input.clear()
            self.post_message(FilesDropped(paths))
            return
        if not self.session.used and self._ingest_idle.is_set():
            # Without a document the model would answer from nothing: keep the question typed.
            self.say(NO_DOCUMENT, severity="warning")
            return
        event.input.clear()
        self.ask(question)

    def ask(self, question: str) -> None:
        self.cancel_event.set()  # an answer still streaming gives way to the new question
        self._turn += 1
        self._answering = True
        self._asking = question
        self._answer_error = None
        self.cancel_event = threading.Event()
        self.run_worker(self._begin_question(question, self._turn), exclusive=True, group="ui")

    async def _begin_question(self, question: str, turn: int) -> None:
        chat = self.query_one(ChatView)
        if self._stream is not None:  # the superseded answer's stream ends here
            await self._stream.stop()
            self._stream = None
            await chat.add_notice("Stopped for the next question.")
        await chat.add_question(question)
        self._answer_widget = await chat.add_answer()
        self._stream = Markdown.get_stream(self._answer_widget)
        self._answer_text = []
        self.answer_worker(question, self.cancel_event, turn)

    def _stale(self, turn: int) -> bool:
        """A message of an answer that a newer question superseded."""
        return turn != self._turn

    @work(thread=True, exclusive=True, group="answer", exit_on_error=False)
    def answer_worker(self, question: str, cancel: threading.Event, turn: int = 0) -> None:
        """compress -> evidence -> answer, reported by messages; an exception ends up in
        on_worker_failed."""
        worker = get_current_worker()
        stages: dict[str, float] = {}
        if not self._ingest_idle.is_set():
            # Asked while a dropped file is still being read: it belongs in the answer.
            self.post_message(StatusChanged("waiting for the files being added…"))
            while not self._ingest_idle.wait(0.2):
                if cancel.is_set() or worker.is_cancelled:
                    break
        self.post_message(StatusChanged("compressing…"))
        self.resolve_device()
        start = time.perf_counter()
        prepared = self.session.prepare(question)
        stages["compress"] = time.perf_counter() - start
        pieces = self.session.context_pieces(prepared.compressed)
        self.post_message(ContextReady(prepared, pieces, dict(stages), turn))
        if cancel.is_set():
            self.post_message(AnswerDone(question, None, stages, cancelled=True, turn=turn))
            return
        if not self.session.llm_loaded:
            self.post_message(StatusChanged("loading model…"))
        run = self.session.answer(prepared, cancel)
        self.post_message(AnswerStarted(run.notes, turn))
        start = time.perf_counter()
        for chunk in run:
            self.post_message(AnswerChunk(chunk, turn))
            if cancel.is_set() or worker.is_cancelled:
                cancel.set()
                break
        stages["answer"] = time.perf_counter() - start
        self.post_message(AnswerDone(question, run.result, stages, cancel.is_set(), turn))

    @on(ContextReady)
    async def on_context_ready(self, message: ContextReady) -> None:
        if self._stale(message.turn):
            return
        prepared = message.prepared
        # A small local reader reads only the evidence; the panel (and Ctrl+Y) keep it all.
        evidence_only = (
            bool(prepared.reader_text) and prepared.reader_text != prepared.compressed.text
        )
        self.show_context(prepared.compressed, message.stages, message.pieces, evidence_only)
        await self._show_evidence(prepared)

    async def _show_evidence(self, prepared: PreparedContext) -> None:
        """The best sentences, verbatim, above the answer: what to check it by."""
        chat = self.query_one(ChatView)
        lines = [evidence_line(e) for e in prepared.evidence]
        if prepared.weak:
            lines.insert(0, WEAK_MESSAGE)
        if not lines:
            return
        # How a follow-up was read (engines/answer/followup.py): say it, the words differ.
        if prepared.whole:
            lines.insert(0, f"Read as: {prepared.asks}")
        elif prepared.follows:
            lines.insert(0, f"Read with: {prepared.follows}")
        notice = Notice("\n".join(lines), classes="evidence")
        if self._answer_widget is not None and self._answer_widget.parent is chat:
            await chat.mount(notice, before=self._answer_widget)
        else:
            await chat.mount(notice)

    @on(AnswerStarted)
    def on_answer_started(self, message: AnswerStarted) -> None:
        if self._stale(message.turn):
            return
        for note in message.notes:
            self.say(note, severity="warning")
        self.show_status("answering… (Esc cancels)")

    @on(AnswerChunk)
    async def on_answer_chunk(self, message: AnswerChunk) -> None:
        if self._stale(message.turn):
            return
        self._answer_text.append(message.text)
        if self._stream is not None:
            await self._stream.write(message.text)

    @on(AnswerDone)
    async def on_answer_done(self, message: AnswerDone) -> None:
        if self._stale(message.turn):
            return  # superseded by a newer question, whose own answer is under way
        if self._stream is not None:
            await self._stream.stop()
            self._stream = None
        self._answering = False
        self.status_info.stages = {**self.status_info.stages, **message.stages}
        chat = self.query_one(ChatView)
        problem = self._answer_error
        self._answer_error = None
        if message.cancelled:
            await chat.add_notice("Answer cancelled (Esc).")
            self.show_status("cancelled")
            self._restore_question(message.question)
        elif problem:
            await chat.add_notice(f"No answer: {problem}")
            self.say(problem, severity="error", title="answer")
            self.show_status("error")
            return
        else:
            self.show_status("ready")
        result = message.result
        if result is None:
            return
        self.last_result = result
        self.status_info.model = result.stats.answer.model
        matched = matched_pages_note(result.pages, result.stats.answer.pages_from, result.evidence)
        if result.mark:
            await chat.add_notice(f"⚠ {result.mark}")
        elif matched and not message.cancelled:
            await chat.add_notice(matched)
        if result.cut:
            await chat.add_notice(f"{result.cut} (F2: Max answer tokens)")
        if result.answer:
            self.session.record_turn(result, message.stages)

    def _restore_question(self, question: str) -> None:
        """A cancelled question goes back into the input (as oterm does), unless the user
        has typed something new meanwhile."""
        prompt = self.query_one(PromptInput)
        if not prompt.value.strip():
            prompt.value = question
            prompt.cursor_position = len(question)

    def show_context(
        self,
        compressed: Compressed | None,
        stages: dict[str, float],
        pieces: list[ContextPiece] | None = None,
        evidence_only: bool = False,
    ) -> None:
        panel = self.query_one(ContextPanel)
        info = self.status_info
        info.stages = dict(stages)
        if compressed is None:
            info.original_tokens = info.compressed_tokens = None
            panel.set_context([], title="No documents in use", plain_text="")
        else:
            info.original_tokens = compressed.original_tokens
            info.compressed_tokens = compressed.compressed_tokens
            info.cache_hits = describe_cache_hits(compressed.stats.get("cache_hits"))
            index = compressed.stats.get("index") or {}
            info.early_index = index.get("percent") if index.get("early") else None
            for key, value in (compressed.stats.get("seconds") or {}).items():
                if key != "total" and value:
                    info.stages[key] = float(value)
            n = f"{compressed.compressed_tokens:,}"
            # Short enough for the panel's 40 columns at full size.
            title = f"Context · {n} tok · model read evidence"
            if not evidence_only:
                title = f"Context sent · {n} tokens"
            panel.set_context(pieces or [], title=title, plain_text=compressed.text)
        self.show_status()

    def action_cancel_answer(self) -> None:
        if self.workers and any(w.group == "answer" and w.is_running for w in self.workers):
            self.cancel_event.set()

    # -- export --------------------------------------------------------------------------

    def action_copy_prompt(self) -> None:
        self.export_prompt(self.query_one(PromptInput).value.strip(), to_file=False)

    def action_save_prompt(self) -> None:
        self.export_prompt(self.query_one(PromptInput).value.strip(), to_file=True)

    @work(thread=True, exclusive=True, group="export", exit_on_error=False)
    def export_prompt(self, typed: str, to_file: bool) -> None:
        question = typed or self.session.last_question
        if not self.session.used:
            self.post_message(Say(NO_DOCUMENT, severity="warning", title="export"))
            return
        if self.session.last_compressed is None or question != self.session.last_question:
            self.post_message(StatusChanged("compressing…"))
            compressed = self.session.compress(question)
            pieces = self.session.context_pieces(compressed) if compressed else None
            self.post_message(ContextShown(compressed, pieces))
        text = self.session.export_prompt(question)
        self.post_message(StatusChanged("ready"))
        tokens = count_tokens(text)
        if to_file:
            folder = data_dir() / "exports"
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / time.strftime("prompt-%Y%m%d-%H%M%S.txt")
            path.write_text(text, encoding="utf-8")
            self.last_export = path
            self.post_message(Say(f"Saved the prompt ({tokens:,} tokens) to {path}"))
            return
        result = copy_text(text, osc52=lambda t: self.post_message(Osc52Copy(t)))
        self.last_copy = result
        self.post_message(
            Say(f"Copied the prompt: {tokens:,} tokens, {result.bytes:,} bytes {result.describe()}")
        )

    @on(ContextShown)
    def on_context_shown(self, message: ContextShown) -> None:
        self.show_context(message.compressed, {}, message.pieces)

    @on(Osc52Copy)
    def on_osc52_copy(self, message: Osc52Copy) -> None:
        self.copy_to_clipboard(message.text)

    # -- chats, settings, toggles --------------------------------------------------------

    def action_new_chat(self) -> None:
        self.session.new_chat()
        self.run_worker(self.query_one(ChatView).clear(), group="ui")
        self.query_one(ContextPanel).set_context(
            [], title="Context sent to the model", plain_text=""
        )

    def action_open_chat(self) -> None:
        def opened(chat_id: int | None) -> None:
            if chat_id is not None:
                self.run_worker(self._show_chat(chat_id), group="ui", exclusive=True)

        self.push_screen(ChatsScreen(self.store.chats()), opened)

    async def _show_chat(self, chat_id: int) -> None:
        messages = self.session.open_chat(chat_id)
        chat = self.query_one(ChatView)
        await chat.clear()
        context = None
        for msg in messages:
            if msg.role == "user":
                await chat.add_question(msg.content)
            else:
                await chat.add_answer(msg.content)
                context = msg.context
        self.query_one(ContextPanel).set_context(
            [], title="Context sent (saved chat)", plain_text=context or ""
        )
        self.refresh_library()

    def action_settings(self) -> None:
        def saved(config: Config | None) -> None:
            if config is not None:
                self.apply_config(config)

        self.push_screen(SettingsScreen(self.config), saved)

    def apply_config(self, config: Config) -> None:
        model_changed = (
            config.chat_model,
            config.server_url,
            config.kv_type,
            config.n_ctx,
        ) != (
            self.config.chat_model,
            self.config.server_url,
            self.config.kv_type,
            self.config.n_ctx,
        )
        self.config = config
        self.session.config = config
        self.session.last_compressed = None
        save_config(config)
        if model_changed:
            self.session.drop_llm()
        self.status_info.model = self.session.model_label
        self.query_one(ChatView).set_welcome(self.welcome())
        self.status_info.kv_type = config.kv_type
        self.status_info.device = config.device
        self.show_status()
        self.resolve_device_worker()
        self.say("Settings saved")

    def action_toggle_dropped(self) -> None:
        shown = self.query_one(ContextPanel).toggle_dropped()
        self.say("Showing dropped words" if shown else "Hiding dropped words")

    def action_scroll_chat(self, direction: int) -> None:
        # The chat takes no focus (Tab goes library -> prompt -> context), so the page keys
        # scroll it from the prompt.
        chat = self.query_one(ChatView)
        if direction < 0:
            chat.scroll_page_up()
        else:
            chat.scroll_page_down()

    @property
    def small_reader(self) -> bool:
        """A small local model answers (the bundled 135M one, or a GGUF under 400 MB): the
        same rule that gives it the evidence only and short answers."""
        from ctxchat.app.ask_settings import reader_choice
        from ctxchat.engines.answer.conversation import small_reader

        return small_reader(reader_choice(self.config))

    def model_description(self) -> str:
        """Which model answers, for the first screen."""
        label = self.session.model_label
        if self.config.server_url:
            return f"the server at {label}"
        return f"{label} (local, llama.cpp)"

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand(
            "Copy prompt", "Copy the compressed prompt (Ctrl+Y)", self.action_copy_prompt
        )
        yield SystemCommand(
            "Save prompt", "Write the compressed prompt to a file", self.action_save_prompt
        )
        yield SystemCommand(
            "Settings", "Rate, budget, models, KV type, device", self.action_settings
        )
        yield SystemCommand("Open chat", "Reopen a saved chat", self.action_open_chat)
        yield SystemCommand("New chat", "Start a new conversation", self.action_new_chat)
        yield SystemCommand(
            "Library",
            "Open or focus the library (Ctrl+L)",
            lambda: self.action_toggle_panel("library"),
        )
        yield SystemCommand(
            "Context",
            "Open or focus the context sent to the model (Ctrl+R)",
            lambda: self.action_toggle_panel("context"),
        )
        yield SystemCommand(
            "Cited page",
            "Show the next page the last answer cites (Ctrl+G)",
            self.action_next_citation,
        )
        yield SystemCommand(
            "Toggle dropped words",
            "Show or hide what the compressor dropped",
            self.action_toggle_dropped,
        )
        yield SystemCommand(
            "Cancel answer", "Stop the answer being generated", self.action_cancel_answer
        )
        yield SystemCommand("Load model", "Load the chat model now", self.load_models)


def _short_eta(seconds: float | None) -> str:
    """Minutes left, rounded up ("1m"): the library's status column has six characters
    ("34% 1m"); the status line gives the seconds."""
    if seconds is None:
        return ""
    return f"{max(1, math.ceil(seconds / 60))}m"


def describe_error(exc: BaseException | None) -> str:
    """One line for the user: ctxchat's own errors as they are, others with their type."""
    if isinstance(exc, CtxchatError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}" if exc is not None else "unknown error"


def _names(names: list[str]) -> str:
    """'a.pdf, b.pdf, c.pdf and 2 more'."""
    return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def evidence_line(evidence: Evidence) -> str:
    return f"Evidence ({evidence.where}): “{evidence.text}”"


def describe_cache_hits(hits: CacheHits | None) -> str | None:
    """The pipeline's cache_hits as a few words for the status line."""
    if hits is None:
        return None
    if hits.get("compression"):
        return "hit (whole result)"
    parts = [
        f"{name} {n}" for name, n in hits.items() if isinstance(n, int) and not isinstance(n, bool)
    ]
    return ", ".join(parts) or "cold"
