"""The TUI's state between engine calls, free of Textual so it can run in worker threads.

Each flow is one call into an engine's public function: ingest (engines.library),
compress (engines.pipeline), answer (engines.answer). Heavy modules (torch, llama_cpp)
are imported inside the calls, never at app start, so the first screen paints at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ctxchat.app.config import Config
from ctxchat.app.tui.dropped import ContextPiece, align_kept, piece_from_source
from ctxchat.engines.errors import CtxchatError
from ctxchat.engines.results import Compressed
from ctxchat.engines.store import DocumentRow, Store

NO_DOCUMENT = "No document in use: drop a PDF or press Space on one in the library"


class NoDocumentInUse(CtxchatError):
    """Asked or exported with no document marked in use."""


@dataclass
class Turn:
    question: str
    answer: str


@dataclass
class Session:
    """The library, the chosen documents, the current chat and the loaded chat model."""

    store: Store
    config: Config
    used: set[int] = field(default_factory=set)
    chat_id: int | None = None
    turns: list[Turn] = field(default_factory=list)
    last_compressed: Compressed | None = None
    last_question: str | None = None
    _llm: Any = None
    _llm_lock: threading.Lock = field(default_factory=threading.Lock)

    # -- library -------------------------------------------------------------------------

    def documents(self) -> list[DocumentRow]:
        return self.store.documents()

    def expand(self, path: Path) -> list[Path]:
        """A dropped folder stands for the supported files in it."""
        if path.is_dir():
            from ctxchat.engines.ingest import supported_files

            return supported_files(path)
        return [path]

    def ingest(self, path: Path, on_progress: Callable[..., None] | None = None) -> Any:
        from ctxchat.engines.library import add_path

        result = add_path(self.store, path, on_progress=on_progress)
        self.used.add(_document_of(result).id)
        return result

    def use_latest(self) -> None:
        """Mark the most recently added document in use when none is, so a user who just ran
        `ctxchat add x.pdf` and opens the app can ask right away."""
        docs = self.store.documents()
        if not self.used and docs:
            self.used = {max(docs, key=lambda d: (d.added_at, d.id)).id}

    def remove(self, doc_id: int) -> None:
        self.store.remove_document(doc_id)
        self.used.discard(doc_id)

    # -- compress ------------------------------------------------------------------------

    def compress(self, question: str | None) -> Compressed | None:
        """The context for `question` from the documents in use (None when there are none)."""
        if not self.used:
            return None
        from ctxchat.engines.pipeline import compress_documents

        cfg = self.config
        compressed = compress_documents(
            self.store,
            sorted(self.used),
            query=question or None,
            budget=None if cfg.rate is not None else cfg.budget,
            rate=cfg.rate,
            compressor_setup=self.compressor_setup(),
        )
        self.last_compressed = compressed
        self.last_question = question
        return compressed

    def compressor_setup(self) -> Any:
        """The word compressor the settings name (model, device, precision)."""
        from ctxchat.app.compressor_flags import compressor_setup

        return compressor_setup(self.config)

    def context_pieces(self, compressed: Compressed) -> list[ContextPiece]:
        """The spans sent, each with the source words the compressor dropped in between."""
        pages: dict[tuple[int | None, int | None], list[str]] = {}
        pieces: list[ContextPiece] = []
        for span in compressed.spans or []:
            kept = span.text.split()
            if span.source is not None:  # exact: the text the span was pruned from
                pieces.append(piece_from_source(span.text, span.source, span.page, span.doc_name))
                continue
            key = (span.doc_id, span.page)
            if key not in pages:
                pages[key] = self._page_words(span.doc_id, span.page)
            words, flags = (
                align_kept(kept, pages[key]) if pages[key] else (kept, [True] * len(kept))
            )
            pieces.append(ContextPiece(words, flags, span.page, span.doc_name))
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
        if self.config.server_url:
            return self.config.server_url
        if self.config.chat_model:
            return Path(self.config.chat_model).name
        from ctxchat.engines.models import SMOLLM_FILE

        return SMOLLM_FILE

    def llm(self) -> Any:
        """The chat model, loaded on first use (in a worker thread)."""
        with self._llm_lock:
            if self._llm is None:
                self._llm = _load_llm(self.config)
            return self._llm

    def drop_llm(self) -> None:
        """Forget the loaded model (settings changed); the next question loads the new one."""
        with self._llm_lock:
            self._llm = None

    def answer(self, question: str, compressed: Compressed | None, cancel: threading.Event) -> Any:
        """An AnswerStream (engines.answer): iterate for the pieces, then read .result."""
        from ctxchat.engines.answer import answer_stream
        from ctxchat.engines.kvstate import KVStateStore

        history = [
            {"role": role, "content": text}
            for turn in self.turns
            for role, text in (("user", turn.question), ("assistant", turn.answer))
        ]
        return answer_stream(
            self.llm(),
            compressed.text if compressed else "",
            question,
            history,
            max_tokens=self.config.max_tokens,
            temperature=self.config.temperature,
            cancel=cancel,
            recompress=self._recompress(question) if compressed else None,
            kv_store=KVStateStore(),
        )

    def _recompress(self, question: str) -> Callable[[int], str]:
        def recompress(budget: int) -> str:
            # The prompt did not fit the model: the same question at a smaller budget.
            from ctxchat.engines.pipeline import compress_documents

            smaller = compress_documents(
                self.store,
                sorted(self.used),
                query=question,
                budget=budget,
                compressor_setup=self.compressor_setup(),
            )
            self.last_compressed = smaller
            return smaller.text

        return recompress

    def export_prompt(self, question: str | None) -> str:
        """The prompt another chat can take as is (the same text as `ctxchat compress --copy`)."""
        from ctxchat.engines.export import export_prompt

        if self.last_compressed is None:
            raise NoDocumentInUse(NO_DOCUMENT)
        return export_prompt(self.last_compressed, question)

    # -- chats ---------------------------------------------------------------------------

    def record_turn(
        self, question: str, answer: str, compressed: Compressed | None, stats: dict[str, Any]
    ) -> None:
        """Save the question and the answer in the store (a new chat on the first turn)."""
        if self.chat_id is None:
            self.chat_id = self.store.new_chat(
                question[:80], sorted(self.used), model=self.model_label
            )
        self.store.add_message(self.chat_id, "user", question)
        self.store.add_message(
            self.chat_id,
            "assistant",
            answer,
            context=compressed.text if compressed else None,
            stats=stats,
        )
        self.turns.append(Turn(question, answer))

    def open_chat(self, chat_id: int) -> list[dict[str, Any]]:
        chat = next((c for c in self.store.chats() if c["id"] == chat_id), None)
        messages = self.store.messages(chat_id)
        self.chat_id = chat_id
        if chat:
            present = {d.id for d in self.store.documents()}
            self.used = {d for d in chat["doc_ids"] if d in present}
        self.turns = []
        question = None
        for msg in messages:
            if msg["role"] == "user":
                question = msg["content"]
            elif msg["role"] == "assistant" and question is not None:
                self.turns.append(Turn(question, msg["content"]))
                question = None
        self.last_compressed = None
        return messages

    def new_chat(self) -> None:
        self.chat_id = None
        self.turns = []
        self.last_compressed = None
        self.last_question = None


def _document_of(result: Any) -> DocumentRow:
    return result.document


def _load_llm(config: Config) -> Any:
    from ctxchat.engines.llm import open_llm

    return open_llm(
        config.chat_model or None,
        url=config.server_url or None,
        n_ctx=config.n_ctx,
        kv_type=config.kv_type,
        server_model=config.server_model or None,
    )
