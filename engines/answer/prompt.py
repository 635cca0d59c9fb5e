"""Answer a question from a compressed context: lay the prompt out within n_ctx, stream the
answer, collect stats and the pages it cites.

Prompt layout: system (instructions + the context with page markers), then history, then the
question. The context lives in the system message so it stays byte-identical at the start of
the prompt across turns, which is what lets llama.cpp reuse its KV cache for follow-ups (and
what kvstate.py saves to disk so the reuse survives a restart).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from ctxchat.engines.answer.grounding import Grounding, check_grounding
from ctxchat.engines.answer.kvstate import KVStateStore, state_key
from ctxchat.engines.answer.llm import (
    ChatModel,
    GenerationStats,
    LocalLLM,
    Message,
    common_prefix_len,
)
from ctxchat.engines.answer.loopguard import LoopGuard
from ctxchat.engines.errors import LLMError
from ctxchat.engines.tokens import count_tokens as count_cl100k

# Written for small local models: short, direct, the format to copy shown once.
SYSTEM_PROMPT = (
    "You answer questions about a document using only the excerpts below. "
    "Each excerpt starts with its page number, like [p. 3]. "
    "Answer in one short sentence and cite the page, like [p. 3]. "
    "If the excerpts do not say, answer: I don't know."
)
DEFAULT_ANSWER_TOKENS = 256
# Below this many cl100k tokens a harder compression is not worth asking for.
MIN_CONTEXT_BUDGET = 32

# A page list, then an optional section title: "[p. 12, 3.2 Results]" cites page 12 only.
_CITATION = re.compile(
    r"\[(?:[^\[\]]*?,\s*)?pp?\.\s*(\d+(?:\s*(?:[-\u2013,;]|and)\s*\d+(?![\w.]))*)"
    r"(?:\s*,\s*[^\[\]\n]*?[^\W\d_][^\[\]\n]*)?\s*\]",
    re.IGNORECASE,
)
_NUMBER_RANGE = re.compile(r"(\d+)(?:\s*[-\u2013]\s*(\d+))?")


def parse_citations(text: str, valid_pages: Sequence[int] | None = None) -> list[int]:
    """Pages cited like [p. 3], [p. 3, 7], [pp. 3-4] or [name.pdf, p. 3], in order of first
    citation. With valid_pages, pages that are not in the context are left out."""
    pages: list[int] = []
    for match in _CITATION.finditer(text):
        for lo, hi in _NUMBER_RANGE.findall(match.group(1)):
            first, last = int(lo), int(hi or lo)
            if last < first or last - first > 50:
                last = first
            pages.extend(range(first, last + 1))
    allowed = set(valid_pages) if valid_pages is not None else None
    seen: list[int] = []
    for page in pages:
        if page not in seen and (allowed is None or page in allowed):
            seen.append(page)
    return seen


_MARKER = re.compile(r"\[(?:[^\[\]\n]*?,\s*)?p\.\s*(\d+)(?:,\s*[^\[\]\n]*)?\]")
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_STOPWORDS = frozenset(
    "the a an and or of in on at to for by with from is are was were be been it its this that "
    "these those as which who whom what when where why how not no yes i you he she they we "
    "there their his her our your do does did has have had can could would should will about "
    "know don't excerpts excerpt page document".split()
)


def _content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOPWORDS and len(w) > 1}


def matched_pages(answer: str, context: str, min_share: float = 0.5) -> list[int]:
    """Pages whose excerpts hold most of the answer's content words (at least `min_share`).

    Small models often answer right but forget the [p. N]; this finds where the answer
    came from, so the user still gets a page to check.
    """
    words = _content_words(_CITATION.sub(" ", answer))
    if not words:
        return []
    blocks: dict[int, set[str]] = {}
    marks = list(_MARKER.finditer(context))
    for i, mark in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(context)
        page = int(mark.group(1))
        blocks.setdefault(page, set()).update(_content_words(context[mark.end() : end]))
    scores = {page: len(words & found) / len(words) for page, found in blocks.items()}
    best = max(scores.values(), default=0.0)
    if best < min_share:
        return []
    return sorted(page for page, score in scores.items() if score == best)[:3]


def context_pages(context: str) -> list[int]:
    """The pages whose markers appear in a context."""
    return sorted(set(parse_citations(context)))


def stray_citations(answer: str, read: str) -> list[int]:
    """Pages the answer cites that the text the model read does not hold: a small model
    copies "[p. 1]" from an earlier turn, and the citation would send the user there."""
    held = set(context_pages(read))
    return [page for page in parse_citations(answer) if page not in held]


def stray_citation_mark(stray: Sequence[int], pages: Sequence[int]) -> str | None:
    """The warning for citations of pages the model never read, pointing to the right ones."""
    if not stray:
        return None
    where = f"the answer matches p. {', '.join(map(str, pages))}" if pages else "check the evidence"
    return f"p. {', '.join(map(str, stray))} is not in the text the model read: {where}"


def system_message(context: str) -> str:
    if not context.strip():
        return SYSTEM_PROMPT
    return f"{SYSTEM_PROMPT}\n\nExcerpts:\n{context.strip()}"


def build_messages(
    context: str, question: str, history: Sequence[Message] = (), note: str | None = None
) -> list[Message]:
    """System (instructions + context), history, then the question. A note (weak evidence)
    goes with the question, not the system message, which must stay the same across turns
    for the KV cache to be reused."""
    asked = f"{question}\n\n({note})" if note else question
    return [
        {"role": "system", "content": system_message(context)},
        *({"role": m["role"], "content": m["content"]} for m in history),
        {"role": "user", "content": asked},
    ]


@dataclass
class Prompt:
    """A prompt that fits: messages plus what had to give way to make it fit."""

    messages: list[Message]
    context: str
    prompt_tokens: int
    answer_tokens: int  # room reserved for the answer
    dropped_turns: int = 0
    notes: list[str] = field(default_factory=list)


def fit_prompt(
    llm: ChatModel,
    context: str,
    question: str,
    history: Sequence[Message] = (),
    *,
    answer_tokens: int = DEFAULT_ANSWER_TOKENS,
    recompress: Callable[[int], str] | None = None,
    note: str | None = None,
) -> Prompt:
    """Lay the prompt out within llm.n_ctx with `answer_tokens` left for the answer.

    Too long: first compress the context harder (recompress(cl100k budget) -> new context),
    then cut it, then drop the oldest history turns. Every step is reported in notes.
    """
    answer_tokens = min(answer_tokens, max(16, llm.n_ctx // 4))
    room = llm.n_ctx - answer_tokens
    notes: list[str] = []
    question = f"{question}\n\n({note})" if note else question
    bare = llm.count_prompt_tokens(build_messages("", question))
    if bare > room:
        raise LLMError(
            f"the question alone needs {bare} tokens; the model's context holds {llm.n_ctx}"
        )

    size = llm.count_prompt_tokens(build_messages(context, question))
    for _ in range(3):
        if size <= room or recompress is None:
            break
        budget = _smaller_budget(llm, context, over=size - room)
        if budget < MIN_CONTEXT_BUDGET:
            break
        context = recompress(budget)
        size = llm.count_prompt_tokens(build_messages(context, question))
        notes.append(f"compressed the context harder (to {budget} tokens) to fit the model")
    if size > room:
        keep = max(0, llm.count_tokens(context) - (size - room) - 8)
        context = llm.truncate(context, keep)
        size = llm.count_prompt_tokens(build_messages(context, question))
        notes.append(f"cut the context to {keep} model tokens to fit n_ctx={llm.n_ctx}")

    # Oldest turns go first, a user/assistant pair at a time.
    history = list(history)
    dropped = 0
    size = llm.count_prompt_tokens(build_messages(context, question, history))
    while history and size > room:
        cut = 2 if len(history) >= 2 else 1
        history = history[cut:]
        dropped += 1
        size = llm.count_prompt_tokens(build_messages(context, question, history))
    if dropped:
        notes.append(f"left out the {dropped} oldest turn(s) of the chat to fit the model")
    # The note already rides on the question from here on.
    return Prompt(
        build_messages(context, question, history), context, size, answer_tokens, dropped, notes
    )


def _smaller_budget(llm: ChatModel, context: str, over: int) -> int:
    """A cl100k budget for the context that should shed `over` model tokens (5% margin)."""
    model_tokens = max(1, llm.count_tokens(context))
    cl100k = count_cl100k(context)
    target_model = max(0, model_tokens - over)
    return int(cl100k * target_model / model_tokens * 0.95)


@dataclass
class AnswerStats:
    """What one answer cost and how it ended (as_dict() for JSON and the chat store)."""

    generation: GenerationStats
    model: str
    n_ctx: int
    kv_type: str | None
    kv_mib: float | None
    kv_restored: bool = False
    kv_saved: bool = False
    dropped_turns: int = 0
    pages_from: str | None = None  # "citations", "matched" or None
    loop_stopped: bool = False  # the loop guard ended a repeating answer

    def as_dict(self) -> dict[str, str | int | float | bool | None]:
        return {
            **self.generation.as_dict(),
            "model": self.model,
            "n_ctx": self.n_ctx,
            "kv_type": self.kv_type,
            "kv_mib": round(self.kv_mib, 2) if self.kv_mib is not None else None,
            "kv_restored": self.kv_restored,
            "kv_saved": self.kv_saved,
            "dropped_turns": self.dropped_turns,
            "pages_from": self.pages_from,
            "loop_stopped": self.loop_stopped,
        }


@dataclass
class Answer:
    text: str
    pages: list[int]  # cited by the answer, else matched to the excerpts (see stats.pages_from)
    stats: AnswerStats
    notes: list[str]
    cancelled: bool


class AnswerStream:
    """Iterate for the answer's pieces as they arrive; .result holds the Answer afterwards.

    Every reader's answer passes the loop guard (engines.loopguard): a repeating answer ends
    there. With a kv_store (local models), the KV state of this context is loaded from disk
    when the model does not hold it yet, and saved after the first complete answer.
    """

    def __init__(
        self,
        llm: ChatModel,
        prompt: Prompt,
        *,
        temperature: float = 0.0,
        stop: Sequence[str] | None = None,
        cancel: threading.Event | None = None,
        kv_store: KVStateStore | None = None,
    ) -> None:
        self.llm = llm
        self.prompt = prompt
        self.temperature = temperature
        self.stop = stop
        self.cancel = cancel or threading.Event()
        self.kv_store = kv_store
        self.result: Answer | None = None
        self.guard = LoopGuard()
        self._kv_restored = False
        self._kv_saved = False

    def __iter__(self) -> Iterator[str]:
        key = self._restore_state()
        pieces: list[str] = []
        completed = False  # False too when the consumer stops early (Ctrl-C closes us)
        try:
            stream = self.llm.stream(
                self.prompt.messages,
                max_tokens=self.prompt.answer_tokens,
                temperature=self.temperature,
                stop=self.stop,
                cancel=self.cancel,
            )
            for piece in stream:
                pieces.append(piece)
                yield piece
                if self.guard.feed(piece):
                    stream.close()  # type: ignore[attr-defined]  # a generator: stops llama.cpp
                    break
            completed = True
        finally:
            self.result = self._finish("".join(pieces).strip(), completed, key)

    def _finish(self, text: str, completed: bool, key: str | None) -> Answer:
        cancelled = (
            not completed or self.cancel.is_set() or self.llm.last_stats.finish == "cancelled"
        )
        if self.guard.looping:
            self.llm.last_stats.finish = "loop"
        if key is not None and not cancelled and text:
            self._save_state(key)
        pages = parse_citations(text, context_pages(self.prompt.context) or None)
        stats = self._stats()
        stats.pages_from = "citations" if pages else None
        if not pages and not cancelled:
            pages = matched_pages(text, self.prompt.context)
            stats.pages_from = "matched" if pages else None
        return Answer(text, pages, stats, list(self.prompt.notes), cancelled)

    def grounding(self, question: str) -> Grounding:
        """The check of the answer against the context the model read (grounding.py)."""
        assert self.result is not None
        return check_grounding(self.result.text, self.prompt.context, question)

    def run(self) -> Answer:
        """Consume the whole stream; return the Answer."""
        for _ in self:
            pass
        assert self.result is not None
        return self.result

    # -- KV state on disk (local models only)

    def _context_key(self) -> str | None:
        if self.kv_store is None or not isinstance(self.llm, LocalLLM) or not self.prompt.context:
            return None
        model_id, kv_type, n_ctx = self.llm.state_key_parts
        return state_key(model_id, kv_type, n_ctx, self.prompt.messages[0]["content"])

    def _restore_state(self) -> str | None:
        key = self._context_key()
        llm = self.llm
        if key is None or not isinstance(llm, LocalLLM):
            return None
        tokens = llm.prompt_tokens(self.prompt.messages)
        # The system message's tokens: what any question about this context shares.
        other = llm.prompt_tokens([self.prompt.messages[0], {"role": "user", "content": ""}])
        shared = common_prefix_len(tokens, other)
        if llm.cached_prefix(tokens) >= shared:
            return key  # the model holds this context already
        saved = self.kv_store.load(key) if self.kv_store else None
        if saved is not None:
            try:
                llm.import_state(saved.tokens, saved.blob)
                self._kv_restored = True
            except LLMError:
                pass  # unusable state: read the context afresh
        return key

    def _save_state(self, key: str) -> None:
        llm = self.llm
        if self.kv_store is None or key in self.kv_store or not isinstance(llm, LocalLLM):
            return
        tokens, blob = llm.export_state()
        self._kv_saved = self.kv_store.save(key, tokens, blob, {"model": llm.name}) is not None

    def _stats(self) -> AnswerStats:
        return AnswerStats(
            generation=self.llm.last_stats,
            model=self.llm.name,
            n_ctx=self.llm.n_ctx,
            kv_type=self.llm.kv_type,
            kv_mib=self.llm.kv_cache_mib,
            kv_restored=self._kv_restored,
            kv_saved=self._kv_saved,
            dropped_turns=self.prompt.dropped_turns,
            loop_stopped=self.guard.looping,
        )


def answer_stream(
    llm: ChatModel,
    context: str,
    question: str,
    history: Sequence[Message] = (),
    *,
    max_tokens: int = DEFAULT_ANSWER_TOKENS,
    temperature: float = 0.0,
    cancel: threading.Event | None = None,
    recompress: Callable[[int], str] | None = None,
    kv_store: KVStateStore | None = None,
    note: str | None = None,
) -> AnswerStream:
    """Fit the prompt, then stream the answer (engines.conversation drives the whole ask)."""
    prompt = fit_prompt(
        llm, context, question, history, answer_tokens=max_tokens, recompress=recompress, note=note
    )
    return AnswerStream(llm, prompt, temperature=temperature, cancel=cancel, kv_store=kv_store)
