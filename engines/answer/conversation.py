"""The ask flow, once: select the context -> show the evidence -> fit the prompt in n_ctx ->
stream the answer (recompressing when it does not fit) -> save the KV state -> check the
answer against the context -> record the chat.

`ctxchat ask`, the TUI and `ctxchat.ask` all go through Conversation, so the context a
question gets depends only on the question and the settings, never on the front end. The
rule that decides whether words are pruned for a reader (prune_for_reader) lives here and
nowhere else. Heavy modules (torch, llama.cpp) are imported inside the calls.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ctxchat.engines.answer.followup import Turn, search_for
from ctxchat.engines.answer.grounding import Grounding
from ctxchat.engines.answer.kvstate import KVStateStore
from ctxchat.engines.answer.llm import DEFAULT_KV_TYPE, ChatModel, LocalLLM, Message
from ctxchat.engines.answer.prompt import (
    AnswerStats,
    AnswerStream,
    answer_stream,
    stray_citation_mark,
    stray_citations,
)
from ctxchat.engines.errors import CtxchatError
from ctxchat.engines.results import Compressed
from ctxchat.engines.store.db import Store

if TYPE_CHECKING:
    from ctxchat.engines.answer.evidence import Evidence
    from ctxchat.engines.answer.extract import Span
    from ctxchat.engines.pipeline import CompressorSetup

# Told to the model with the question when the best evidence is weak.
WEAK_NOTE = (
    "The excerpts may not answer this question. If they do not, answer: The document does not say."
)
# Shown to the user in that case, above the evidence: read first, it says how far to trust
# the sentences below it.
WEAK_MESSAGE = "The document may not answer this: the closest sentences below are weak matches."


@dataclass(frozen=True)
class ReaderChoice:
    """The chat model the settings name: a server when url is set, else a GGUF (None is
    the bundled SmolLM2-135M)."""

    model: str | None = None
    url: str | None = None
    n_ctx: int = 4096
    kv_type: str = DEFAULT_KV_TYPE
    server_model: str | None = None  # which of the server's models answers (default: its first)

    @property
    def is_server(self) -> bool:
        return bool(self.url)

    @property
    def label(self) -> str:
        if self.url:
            return self.url
        if self.model:
            return Path(self.model).name
        from ctxchat.engines.models import SMOLLM_FILE

        return SMOLLM_FILE

    def open(self) -> ChatModel:
        from ctxchat.engines.answer.llm import open_llm

        return open_llm(
            self.model,
            url=self.url,
            n_ctx=self.n_ctx,
            kv_type=self.kv_type,
            server_model=self.server_model,
        )


@dataclass(frozen=True)
class AskSettings:
    """Everything that decides a question's context and answer besides the question."""

    reader: ReaderChoice = field(default_factory=ReaderChoice)
    budget: int | None = 1500  # cl100k tokens of context; rate wins when set
    rate: float | None = None
    max_tokens: int | None = None  # the longest answer; None decides by reader (answer_tokens)
    temperature: float = 0.0
    prune: bool | None = None  # None: prune_for_reader decides
    compressor: CompressorSetup | None = None  # None: the bundled compressor, auto device
    weak_evidence: float | None = None  # None: engines.evidence.WEAK_EVIDENCE
    # What the reader reads of the context (the export is always the whole context): None
    # decides by reader (reader_budget), EVIDENCE_ONLY the evidence sentences, N > 0 the
    # question's selection at N cl100k tokens, ALL the whole context.
    reader_budget: int | None = None
    # The answer as a span of the evidence, scored by the reader (extract.py): None decides
    # (a local GGUF reading the evidence only), True / False as set.
    extractive: bool | None = None


EVIDENCE_ONLY = 0
ALL = -1
# A local GGUF this small (the bundled SmolLM2-135M is 100 MB) reads SMALL_READER_BUDGET of the
# context. Measured (benchmarks/README.md, ask_flow_bench --reader-budget): on the dev split
# the 135M model answered 7/32 from the evidence sentences and 9/32 from 300 tokens (within
# noise) 1.5x sooner; on the test split 9/50 either way against all 800 tokens, 4.8x sooner.
# Follow-up turns then change the system message, so they gain no KV prefix reuse; the
# evidence is short: reading it again took a median 0.9 s to first token on the test split.
SMALL_READER_BYTES = 400_000_000
SMALL_READER_BUDGET = EVIDENCE_ONLY


# The longest answer of a small local reader: what the ask-flow benchmark measures
# (benchmarks/ask_flow_bench.py). Its written answers to the real-text questions were 27-57
# tokens at the median, and no right one had its answer after token 64 (dev and test, both
# genres); past that it goes on inventing (code for a how-to question on a manual, with the
# evidence scrolled away at 80x24). Other readers may write more.
SMALL_READER_ANSWER_TOKENS = 64
READER_ANSWER_TOKENS = 512


def small_reader(reader: ReaderChoice) -> bool:
    """A local GGUF this small: the bundled one, or a file under SMALL_READER_BYTES."""
    if reader.is_server:
        return False
    if reader.model and Path(reader.model).is_file():
        return Path(reader.model).stat().st_size < SMALL_READER_BYTES
    return not reader.model  # not a file here: open_llm will say so


def reader_budget(settings: AskSettings) -> int:
    """How much of the context the reader reads: as set, else SMALL_READER_BUDGET for a small
    reader (small_reader), else ALL."""
    if settings.reader_budget is not None:
        return settings.reader_budget
    return SMALL_READER_BUDGET if small_reader(settings.reader) else ALL


def answer_tokens(settings: AskSettings) -> int:
    """The longest answer: as set, else SMALL_READER_ANSWER_TOKENS for a small reader, else
    READER_ANSWER_TOKENS."""
    if settings.max_tokens is not None:
        return settings.max_tokens
    return SMALL_READER_ANSWER_TOKENS if small_reader(settings.reader) else READER_ANSWER_TOKENS


def extractive(settings: AskSettings, prepared: PreparedContext, reader: ChatModel) -> bool:
    """Whether the answer may be a span of the evidence chosen by the reader's scores: as
    set, else for a local GGUF that reads the evidence only (the small reader, which on the
    dev split chose the right date more often than it wrote it; extract.EXTRACT_KINDS) when
    the evidence is not weak (then the reader is told to say the document does not answer)."""
    if not isinstance(reader, LocalLLM) or not prepared.evidence:
        return False
    if settings.extractive is not None:
        return settings.extractive
    return reader_budget(settings) == EVIDENCE_ONLY and not prepared.weak


def evidence_text(evidence: Sequence[Evidence], multi_doc: bool = False) -> str:
    """The evidence sentences as excerpts with page markers, in the order given."""
    lines = []
    for e in evidence:
        page = f"p. {e.page}" if e.page else ""
        where = ", ".join(part for part in (e.doc if multi_doc else "", page) if part)
        lines.append(f"[{where}] {e.text}" if where else e.text)
    return "\n".join(lines)


def reader_order(evidence: Sequence[Evidence]) -> list[Evidence]:
    """The evidence in the order the reader reads it: the best sentence last, next to the
    question (the chat shows it first). Measured with the bundled 135M reader
    (benchmarks/README.md, "The best evidence next to the question"): dev, 100 Wikipedia
    questions 36 right against 31 best first, 104 paper questions 23 against 22; only the
    best sentence: 17."""
    return list(reversed(evidence))


def prune_for_reader(reader: ReaderChoice | None, requested: bool | None = None) -> bool | None:
    """Whether words are pruned inside the selected sentences. The one rule for every
    front end.

    - asked for (--prune / --no-prune): as asked;
    - a local GGUF reader: whole sentences (False). Measured (benchmarks/answer_bench.py):
      the bundled 135M model answers more often from whole sentences than from pruned ones,
      and a sentence keeps all its words or is dropped whole, so the text stays readable;
    - a server's model, or no reader (the prompt is exported for another chat): None, the
      pipeline prunes when its compressor is installed.
    """
    if requested is not None:
        return requested
    if reader is not None and not reader.is_server:
        return False
    return None


@dataclass
class PreparedContext:
    """A question's context, ready before the model says a word."""

    question: str
    compressed: Compressed
    evidence: list[Evidence]
    weak: bool  # the best evidence is below the threshold
    prune: bool | None
    seconds: float
    reader_text: str = ""  # what the reader reads (reader_budget); empty: compressed.text
    # What the documents were searched for: the question, or for a follow-up ("where is it
    # headquartered?") the question with what the chat was about (followup.py).
    query: str = ""
    follows: str | None = None  # the earlier questions a follow-up was read with
    # The query is the whole question meant ("what about Hemmick Tools?" after "where is
    # Corvane Robotics headquartered?"): the reader answers it, not the words typed.
    whole: bool = False

    @property
    def search(self) -> str:
        return self.query or self.question

    @property
    def asks(self) -> str:
        """The question the reader answers: as typed, or the whole one a swap stands for."""
        return self.query if self.whole and self.query else self.question


@dataclass
class AskStats:
    """One question's numbers, typed; as_dict() keeps `ask --json`'s keys."""

    doc_tokens: int
    context_tokens: int
    ratio: float
    compress_seconds: dict[str, float]
    pruned: bool
    answer: AnswerStats
    notes: list[str]
    grounded: bool
    weak_evidence: bool
    # An extractive answer (extract.py): the reader's confidence and the candidates it
    # scored, best first; None for a written answer.
    confidence: float | None = None
    candidates: tuple[tuple[str, float], ...] | None = None

    def as_dict(self) -> dict[str, object]:
        extracted = self.candidates is not None
        return {
            "doc_tokens": self.doc_tokens,
            "context_tokens": self.context_tokens,
            "ratio": round(self.ratio, 2),
            "compress_seconds": self.compress_seconds,
            "pruned": self.pruned,
            **self.answer.as_dict(),
            "notes": self.notes,
            "grounded": self.grounded,
            "weak_evidence": self.weak_evidence,
            "answer_mode": "extractive" if extracted else "generated",
            "confidence": None if self.confidence is None else round(self.confidence, 3),
            "candidates": [list(c) for c in self.candidates or ()] if extracted else None,
        }


@dataclass
class AskResult:
    question: str
    answer: str
    pages: list[int]
    evidence: list[Evidence]
    grounding: Grounding
    weak_evidence: bool
    cancelled: bool
    context: Compressed  # the context selected (after any recompression): the export's
    stats: AskStats
    reader_text: str = ""  # what the reader read of it (reader_budget)
    asks: str = ""  # the whole question a swap ("what about X?") was read as; "" = as typed

    @property
    def mark(self) -> str | None:
        """The warning to show under the answer, or None."""
        if self.cancelled:
            return None
        stray = stray_citations(self.answer, self.reader_text or self.context.text)
        return self.grounding.mark or stray_citation_mark(stray, self.pages)

    @property
    def cut(self) -> str | None:
        """A line saying the answer stopped at its length limit (answer_tokens), or None."""
        generation = self.stats.answer.generation
        if self.cancelled or generation.finish != "length":
            return None
        return f"the answer stopped at its limit of {generation.completion_tokens} tokens"


class AnswerRun:
    """Iterate for the answer's pieces; .result holds the AskResult afterwards.

    notes: what had to give way to fit the prompt, and what the reader wants said (KV
    fallback), for the front end to show before the answer.
    """

    def __init__(
        self,
        prepared: PreparedContext,
        stream: AnswerStream,
        reader: ChatModel,
        release: Callable[[], None] | None = None,
    ):
        self.prepared = prepared
        self._release = release  # ends the reader's hold (Conversation._hold_reader)
        self.stream = stream
        self.notes = [*reader.notices, *stream.prompt.notes]
        self.context = prepared.compressed  # replaced when the prompt was recompressed
        self.result: AskResult | None = None

    def __iter__(self) -> Iterator[str]:
        pieces = iter(self.stream)
        try:
            yield from pieces
        finally:
            pieces.close()  # type: ignore[attr-defined]  # a generator: stops llama.cpp now
            try:
                self.result = self._result()
            finally:
                if self._release is not None:
                    self._release()
                    self._release = None

    def run(self) -> AskResult:
        for _ in self:
            pass
        assert self.result is not None
        return self.result

    def _result(self) -> AskResult:
        answer = self.stream.result
        assert answer is not None
        used, prepared = self.context, self.prepared
        grounding = self.stream.grounding(self.prepared.asks)
        stats = AskStats(
            doc_tokens=used.original_tokens,
            context_tokens=used.compressed_tokens,
            ratio=used.ratio,
            compress_seconds=dict(used.stats.get("seconds", {})),
            pruned=bool(used.stats.get("options", {}).get("compressor")),
            answer=answer.stats,
            notes=list(self.notes),
            grounded=grounding.supported,
            weak_evidence=prepared.weak,
        )
        extracted = getattr(self.stream, "extracted", None)
        if extracted is not None:
            stats.confidence, stats.candidates = extracted.confidence, extracted.candidates
        return AskResult(
            prepared.question,
            answer.text,
            answer.pages,
            prepared.evidence,
            grounding,
            prepared.weak,
            answer.cancelled,
            used,
            stats,
            self.stream.prompt.context,
            asks=prepared.asks if prepared.whole else "",
        )


class Conversation:
    """One chat about some documents: their context per question, the reader, the turns.

    The reader is opened on first use (reader()), or given. Thread-safe enough for the TUI:
    one question at a time, the reader loaded under a lock.
    """

    def __init__(
        self,
        store: Store,
        doc_ids: Sequence[int] = (),
        settings: AskSettings | None = None,
        *,
        reader: ChatModel | None = None,
        kv_store: KVStateStore | None = None,
    ) -> None:
        self.store = store
        self.doc_ids: list[int] = list(doc_ids)
        self.settings = settings or AskSettings()
        self.turns: list[Turn] = []
        self.chat_id: int | None = None
        self._reader = reader
        self._reader_lock = threading.Lock()
        # Answers in progress per reader, and dropped readers still reading one: a dropped
        # model is closed when its last answer ends, never freed under a running answer nor
        # left to the garbage collector (freeing a llama.cpp model on whichever thread the
        # collector runs, while another thread loads the next one, crashed the process).
        self._answering: dict[int, int] = {}
        self._retired: list[ChatModel] = []
        self._kv_store = kv_store

    # -- the reader

    def reader(self) -> ChatModel:
        with self._reader_lock:
            return self._open_reader()

    def _open_reader(self) -> ChatModel:
        # Called under _reader_lock.
        if self._reader is None:
            self._reader = self.settings.reader.open()
        return self._reader

    @property
    def reader_loaded(self) -> bool:
        return self._reader is not None

    def drop_reader(self) -> None:
        """Forget the reader (settings changed): the next question opens the new one. The old
        one is closed now, or when the answer it is writing ends."""
        with self._reader_lock:
            if self._reader is not None:
                self._retire(self._reader)
            self._reader = None

    def close(self) -> None:
        with self._reader_lock:
            for reader in [*self._retired, *([self._reader] if self._reader else [])]:
                reader.close()
            self._retired.clear()
            self._answering.clear()
            self._reader = None

    def _retire(self, reader: ChatModel) -> None:
        # Called under _reader_lock.
        if self._answering.get(id(reader)):
            self._retired.append(reader)
        else:
            reader.close()

    def _hold_reader(self) -> tuple[ChatModel, Callable[[], None]]:
        """The reader, counted as writing an answer until the returned function is called."""
        with self._reader_lock:
            reader = self._open_reader()
            self._answering[id(reader)] = self._answering.get(id(reader), 0) + 1

        def release() -> None:
            with self._reader_lock:
                left = self._answering.get(id(reader), 0) - 1
                if left > 0:
                    self._answering[id(reader)] = left
                    return
                self._answering.pop(id(reader), None)
                if any(r is reader for r in self._retired):
                    self._retired = [r for r in self._retired if r is not reader]
                    reader.close()

        return reader, release

    # -- the context

    def compress(
        self, question: str | None, *, for_reader: bool = True, budget: int | None = None
    ) -> Compressed:
        """The context for `question` from the documents: for the reader (its pruning
        rule), or for export (for_reader=False). budget overrides the settings' size."""
        from ctxchat.engines.pipeline import compress_documents

        if not self.doc_ids:
            raise CtxchatError("no documents to ask about")
        s = self.settings
        reader = s.reader if for_reader else None
        size = (
            (budget, None) if budget is not None else (s.budget if s.rate is None else None, s.rate)
        )
        return compress_documents(
            self.store,
            sorted(self.doc_ids),
            query=question or None,
            budget=size[0],
            rate=size[1],
            prune=prune_for_reader(reader, s.prune),
            compressor_setup=s.compressor,
        )

    def prepare(self, question: str) -> PreparedContext:
        """Select the context and its best evidence (before the model is even loaded)."""
        from ctxchat.engines.answer.evidence import WEAK_EVIDENCE, find_evidence

        question = question.strip()
        if not question:
            raise CtxchatError("the question is empty")
        start = time.perf_counter()
        search = search_for(question, self.turns)
        compressed = self.compress(search.query)
        sent = "\n".join(s.source or s.text for s in compressed.spans or []) or compressed.text
        # A swap's query is a whole question: the evidence is picked for it alone.
        asks = search.query if search.whole else question
        found = find_evidence(
            self.store, sorted(self.doc_ids), asks, within=sent, query=search.query
        )
        evidence = found.shown
        threshold = self.settings.weak_evidence
        weak = found.weak(WEAK_EVIDENCE if threshold is None else threshold)
        prune = prune_for_reader(self.settings.reader, self.settings.prune)
        size = reader_budget(self.settings)
        if size == EVIDENCE_ONLY and evidence:
            reader_text = evidence_text(reader_order(evidence), multi_doc=len(self.doc_ids) > 1)
        elif size > 0 and size < compressed.compressed_tokens:
            reader_text = self.compress(search.query, budget=size).text
        else:
            reader_text = compressed.text
        seconds = time.perf_counter() - start
        query = search.query if search.follows else ""
        return PreparedContext(
            question,
            compressed,
            evidence,
            weak,
            prune,
            seconds,
            reader_text,
            query,
            search.follows,
            search.whole,
        )

    # -- the answer

    def answer(self, prepared: PreparedContext, cancel: threading.Event | None = None) -> AnswerRun:
        """Fit the prompt (recompressing when too long) and start the answer."""
        reader, release = self._hold_reader()
        try:
            return self._start_answer(prepared, reader, release, cancel)
        except BaseException:
            release()
            raise

    def _start_answer(
        self,
        prepared: PreparedContext,
        reader: ChatModel,
        release: Callable[[], None],
        cancel: threading.Event | None,
    ) -> AnswerRun:
        smaller: list[Compressed] = []

        def recompress(budget: int) -> str:
            # The prompt did not fit the model: the same question at a smaller budget.
            smaller.append(self.compress(prepared.search, budget=budget))
            return smaller[-1].text

        stream = answer_stream(
            reader,
            prepared.reader_text or prepared.compressed.text,
            prepared.asks,
            self.reader_history(),
            max_tokens=answer_tokens(self.settings),
            temperature=self.settings.temperature,
            cancel=cancel,
            recompress=recompress,
            kv_store=self._kv_store if self._kv_store is not None else KVStateStore(),
            note=WEAK_NOTE if prepared.weak else None,
        )
        spans = self._spans(prepared, reader) if not smaller else []
        if spans and isinstance(reader, LocalLLM):
            from ctxchat.engines.answer.extract import ExtractStream

            pages = [e.page for e in prepared.evidence]
            stream = ExtractStream(
                reader, stream.prompt, spans, pages, cancel=cancel, kv_store=stream.kv_store
            )
        run = AnswerRun(prepared, stream, reader, release)
        if smaller:  # fit_prompt recompressed: the model reads the last one
            run.context = smaller[-1]
        return run

    def _spans(self, prepared: PreparedContext, reader: ChatModel) -> list[Span]:
        """The candidate answers when this question gets an extractive answer (extractive()),
        else none: the reader writes its answer."""
        from ctxchat.engines.answer.extract import candidate_spans, extractive_kind

        if not extractive(self.settings, prepared, reader):
            return []
        if self.settings.extractive is None and not extractive_kind(prepared.asks):
            return []
        sentences = [e.text for e in prepared.evidence]
        return candidate_spans(
            prepared.asks, sentences, text=prepared.compressed.text, named=prepared.query
        )

    def ask(self, question: str, cancel: threading.Event | None = None) -> AnswerRun:
        """prepare() then answer(): the CLI's and the Python API's path."""
        return self.answer(self.prepare(question), cancel)

    def reader_history(self) -> list[Message]:
        """The earlier turns the reader is shown. A small reader that reads only the evidence
        gets none (the chat still keeps them): on the real-text benchmark the 135M model
        answered 27/100 dev questions asked afresh and 19/100 asked after the article's
        earlier questions (test split 8/50 and 5/50; ask_flow_bench --follow-up), copying
        earlier answers and their pages."""
        if reader_budget(self.settings) == EVIDENCE_ONLY:
            return []
        return self.history()

    def history(self) -> list[Message]:
        return [
            {"role": role, "content": text}
            for turn in self.turns
            for role, text in (("user", turn.question), ("assistant", turn.answer))
        ]

    # -- the chat record

    def record(self, result: AskResult, stages: dict[str, float] | None = None) -> None:
        """Save the question and the answer in the store (a new chat on the first turn)."""
        if not result.answer:
            return
        if self.chat_id is None:
            self.chat_id = self.store.new_chat(
                result.question[:80], sorted(self.doc_ids), model=result.stats.answer.model
            )
        stats = {**result.stats.as_dict(), "pages": result.pages}
        if stages:
            stats["stages"] = stages
        # What a reopened chat's next follow-up leans on (followup.py).
        stats["marked"] = result.mark is not None
        if result.asks:
            stats["read_as"] = result.asks
        self.store.add_message(self.chat_id, "user", result.question)
        self.store.add_message(
            self.chat_id, "assistant", result.answer, context=result.context.text, stats=stats
        )
        self.turns.append(
            Turn(result.question, result.answer, result.asks, supported=result.mark is None)
        )

    def new_chat(self) -> None:
        self.chat_id = None
        self.turns = []


def ask_file(
    path: str | Path,
    question: str,
    settings: AskSettings | None = None,
    *,
    store: Store | None = None,
    password: str | None = None,
) -> AskResult:
    """ctxchat.ask: add a document (or reuse it), ask a question, return the AskResult."""
    from ctxchat.engines.ingest.library import ensure_document

    own = store is None
    db = store or Store()
    try:
        doc = ensure_document(db, path, password=password)
        conversation = Conversation(db, [doc.id], settings)
        try:
            result = conversation.ask(question).run()
            conversation.record(result)
            return result
        finally:
            conversation.close()
    finally:
        if own:
            db.close()
