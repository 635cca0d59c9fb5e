"""The TUI's state between engine calls, free of Textual so it can run in worker threads.

Each flow is one call into an engine's public function: ingest (engines.library), ask
(engines.conversation, the same flow as `ctxchat ask`), export (engines.export). Heavy modules (torch, llama_cpp)
are imported inside the calls, never at app start, so the first screen paints at once.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ctxchat.app.ask_settings import ask_settings, compressor_setup, reader_choice
from ctxchat.app.config import Config
from ctxchat.app.tui.dropped import ContextPiece, align_kept, piece_from_source
from ctxchat.app.tui.in_use import InUse, load_in_use, save_in_use
from ctxchat.engines.answer.conversation import (
    AnswerRun,
    AskResult,
    Conversation,
    PreparedContext,
    Turn,
)
from ctxchat.engines.answer.followup import search_for
from ctxchat.engines.answer.llm import ChatModel
from ctxchat.engines.errors import CtxchatError
from ctxchat.engines.results import Compressed
from ctxchat.engines.store.db import DocumentRow, MessageRow, Store

if TYPE_CHECKING:
    from ctxchat.engines.ingest.library import AddResult, ProgressFn
    from ctxchat.engines.pipeline import CompressorSetup

NO_DOCUMENT = "No document in use: drop a PDF or press Space on one in the library"


class NoDocumentInUse(CtxchatError):
    """Asked or exported with no document marked in use."""


@dataclass
class Session:
    """The library, the chosen documents and the current chat (an engines Conversation,
    which owns the ask flow the CLI runs too)."""

    store: Store
    config: Config
    used: set[int] = field(default_factory=set)
    last_compressed: Compressed | None = None
    last_question: str | None = None
    last_follows: str | None = None  # the earlier questions the last one leaned on
    conversation: Conversation = field(init=False)

    def __post_init__(self) -> None:
        # Settings are applied on each use (_sync): building them imports the pipeline,
        # which must not slow the first paint.
        self.conversation = Conversation(self.store)

    @property
    def chat_id(self) -> int | None:
        return self.conversation.chat_id

    @property
    def turns(self) -> list[Turn]:
        return self.conversation.turns

    # -- library -------------------------------------------------------------------------

    def documents(self) -> list[DocumentRow]:
        return self.store.documents()

    def expand(self, path: Path) -> list[Path]:
        """A dropped folder stands for the supported files in it."""
        if path.is_dir():
            from ctxchat.engines.ingest.readers import supported_files

            return supported_files(path)
        return [path]

    def ingest(self, path: Path, on_progress: ProgressFn | None = None) -> AddResult:
        from ctxchat.engines.ingest.library import add_path

        result = add_path(self.store, path, on_progress=on_progress)
        self.used.add(result.document.id)
        self.save_used()
        return result

    def restore_used(self) -> None:
        """The documents in use when the app last ran; when a document was added since
        (`ctxchat add x.pdf`, then the app) or none is left, the newest alone, so the user
        can ask about it right away."""
        docs = self.store.documents()
        saved = load_in_use(self.store.path)
        if saved is not None and not any(d.id > saved.newest for d in docs):
            self.used = {d.id for d in docs if d.id in saved.doc_ids}
        if not self.used and docs:
            self.used = {max(docs, key=lambda d: (d.added_at, d.id)).id}

    def toggle_used(self, doc_id: int) -> bool:
        """Put a document in use or leave it out; True when it is now in use."""
        self.used.symmetric_difference_update({doc_id})
        self.save_used()
        return doc_id in self.used

    def save_used(self) -> None:
        newest = max((d.id for d in self.store.documents()), default=0)
        save_in_use(self.store.path, InUse(frozenset(self.used), newest))

    def preload_documents(self) -> None:
        """Read the documents in use into memory before the first question (worker thread)."""
        from ctxchat.engines.select.selector import preload_documents

        preload_documents(self.store, sorted(self.used))

    def remove(self, doc_id: int) -> None:
        self.store.remove_document(doc_id)
        self.used.discard(doc_id)
        self.save_used()

    # -- compress ------------------------------------------------------------------------

    def _sync(self) -> Conversation:
        """The conversation, with the documents in use and the current settings."""
        conversation = self.conversation
        conversation.doc_ids = sorted(self.used)
        conversation.settings = ask_settings(self.config)
        return conversation

    def compress(self, question: str | None) -> Compressed | None:
        """The context to export for `question` (None when no document is in use)."""
        if not self.used:
            return None
        conversation = self._sync()
        # A follow-up typed but not asked yet is read with the chat, as asking would.
        search = search_for(question, conversation.turns) if question else None
        compressed = conversation.compress(search.query if search else None, for_reader=False)
        self.last_compressed = compressed
        self.last_question, self.last_follows = question, search.follows if search else None
        return compressed

    def prepare(self, question: str) -> PreparedContext:
        """The context the reader gets for `question`, and its best evidence."""
        if not self.used:
            raise NoDocumentInUse(NO_DOCUMENT)
        prepared = self._sync().prepare(question)
        self.last_compressed = prepared.compressed
        self.last_question, self.last_follows = question, prepared.follows
        return prepared

    def compressor_setup(self) -> CompressorSetup:
        """The word compressor the settings name (model, device, precision)."""
        return compressor_setup(self.config)

    def context_pieces(self, compressed: Compressed) -> list[ContextPiece]:
        """The spans sent, each with the source words the compressor dropped in between."""
        pages: dict[tuple[int | None, int | None], list[str]] = {}
        pieces: list[ContextPiece] = []
        for span in compressed.spans or []:
            kept = span.text.split()
            if span.source is not None:  # exact: the text the span was pruned from
                pieces.append(
                    piece_from_source(
                        span.text, span.source, span.page, span.doc_name, span.section
                    )
                )
                continue
            key = (span.doc_id, span.page)
            if key not in pages:
                pages[key] = self._page_words(span.doc_id, span.page)
            words, flags = (
                align_kept(kept, pages[key]) if pages[key] else (kept, [True] * len(kept))
            )
            pieces.append(
                ContextPiece(words, flags, span.page, span.doc_name, section=span.section)
            )
        return pieces

    def _page_words(self, doc_id: int | None, page: int | None) -> list[str]:
        if doc_id is None:
            return []
        return [
            word
            for seg in self.store.iter_segments(doc_id)
            if seg.page == page
            for word in seg.text.split()
        ]

    # -- chat model ----------------------------------------------------------------------

    @property
    def model_label(self) -> str:
        return reader_choice(self.config).label

    def llm(self) -> ChatModel:
        """The chat model, loaded on first use (in a worker thread)."""
        return self._sync().reader()

    @property
    def llm_loaded(self) -> bool:
        return self.conversation.reader_loaded

    def drop_llm(self) -> None:
        """Forget the loaded model (settings changed); the next question loads the new one."""
        self.conversation.drop_reader()

    def answer(self, prepared: PreparedContext, cancel: threading.Event) -> AnswerRun:
        """An AnswerRun (engines.conversation): iterate for the pieces, then read .result."""
        return self._sync().answer(prepared, cancel)

    def export_prompt(self, question: str | None) -> str:
        """The prompt another chat can take as is (the same text as `ctxchat compress --copy`)."""
        from ctxchat.engines.answer.export import export_prompt

        if self.last_compressed is None:
            raise NoDocumentInUse(NO_DOCUMENT)
        follows = self.last_follows if question == self.last_question else None
        return export_prompt(self.last_compressed, question, follows)

    # -- chats ---------------------------------------------------------------------------

    def record_turn(self, result: AskResult, stages: dict[str, float]) -> None:
        """Save the question and the answer in the store (a new chat on the first turn)."""
        self.last_compressed = result.context
        self.conversation.record(result, stages)

    def open_chat(self, chat_id: int) -> list[MessageRow]:
        chat = self.store.chat(chat_id)
        messages = self.store.messages(chat_id)
        conversation = self.conversation
        conversation.new_chat()
        conversation.chat_id = chat_id
        if chat:
            present = {d.id for d in self.store.documents()}
            self.used = {d for d in chat.doc_ids if d in present}
            self.save_used()
        question = None
        for msg in messages:
            if msg.role == "user":
                question = msg.content
            elif msg.role == "assistant" and question is not None:
                conversation.turns.append(_turn(question, msg))
                question = None
        self.last_compressed = None
        return messages

    def new_chat(self) -> None:
        self.conversation.new_chat()
        self.last_compressed = None
        self.last_question = self.last_follows = None


def _turn(question: str, answer: MessageRow) -> Turn:
    """A saved question and answer as a turn, with how the question was read (followup.py)."""
    stats = answer.stats or {}
    read_as = stats.get("read_as")
    return Turn(
        question,
        answer.content,
        stands_for=read_as if isinstance(read_as, str) else "",
        supported=not stats.get("marked", False),
    )
