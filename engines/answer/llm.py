"""Chat models behind one streaming interface: llama.cpp in-process or an OpenAI-compatible server.

Both LocalLLM and RemoteLLM offer .stream(messages, ...) -> Iterator[str], .count_tokens(text),
.n_ctx and .kv_cache_mib, so the CLI and the TUI never care which one answers. After each
stream, .last_stats holds what it cost (prompt tokens read vs reused, time to first token,
tokens/s).
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import hashlib
import http.client
import json
import os
import threading
import time
import urllib.parse
from collections.abc import Generator, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TextIO

from ctxchat.engines.answer.cpu_threads import default_threads, free_core_threads
from ctxchat.engines.errors import LLMError
from ctxchat.engines.paths import data_dir
from ctxchat.engines.results import JSONObject, JSONValue
from ctxchat.engines.tokens import count_tokens as count_cl100k
from ctxchat.engines.tokens import truncate_to_tokens

if TYPE_CHECKING:
    import llama_cpp
    import numpy as np
    from llama_cpp import llama_chat_format

Message = dict[str, str]

# GGML type ids llama.cpp takes for type_k / type_v.
KV_TYPE_IDS = {"f16": 1, "q4_0": 2, "q8_0": 8}
# Bytes per block and values per block of each GGML type (ggml's block layout).
_KV_BLOCKS = {"f16": (2, 1), "q8_0": (34, 32), "q4_0": (18, 32)}
DEFAULT_KV_TYPE = "q8_0"
# kv_type -> (V cache type, flash attention when V is f16). kv_type names the K cache;
# a quantized V needs flash attention. Chosen in benchmarks/llm_speed_bench.py (CPU, 1,470
# prompt tokens): K q8_0 / V f16 with flash attention read the prompt fastest of the layouts
# with a quantized cache (1.6x K and V q8_0, 1.06x an all-f16 cache), and keeps K quantized.
KV_LAYOUTS: dict[str, tuple[str, bool]] = {
    "q8_0": ("f16", True),
    "q4_0": ("f16", False),  # measured without flash attention only (1.09x the old default)
    "f16": ("f16", True),
}
# Room for the default context budget (app.config) in model tokens, the question and an
# answer: what the bundled reader uses well (benchmarks/README.md, "Answers in seconds").
DEFAULT_N_CTX = 2048
GGUF_MAGIC = b"GGUF"
# Penalises tokens of the last 64 (llama.cpp's default window): small models loop without it.
REPEAT_PENALTY = 1.1


def kv_cache_bytes(n_ctx: int, n_layer: int, n_embd_k: int, n_embd_v: int, kv_type: str) -> int:
    """Bytes of a llama.cpp KV cache: n_ctx cells x layers x (K row + V row) in kv_type."""
    block_bytes, block_values = _KV_BLOCKS[kv_type]
    row = (n_embd_k + n_embd_v) * block_bytes // block_values
    return n_ctx * n_layer * row


def common_prefix_len(a: Sequence[int], b: Sequence[int]) -> int:
    """How many leading tokens two sequences share."""
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def check_kv_type(kv_type: str) -> str:
    if kv_type not in KV_TYPE_IDS:
        raise LLMError(f"unknown KV cache type {kv_type!r}: use one of {', '.join(KV_TYPE_IDS)}")
    return kv_type


@dataclass
class GenerationStats:
    """What one streamed answer cost. Token counts are the model's own tokens."""

    prompt_tokens: int = 0  # tokens in the whole prompt
    reused_tokens: int = 0  # prompt tokens already in the KV cache (prefix reuse)
    evaluated_tokens: int = 0  # prompt tokens the model had to read now
    completion_tokens: int = 0
    threads: int = 0  # llama.cpp threads used (fewer while other programs keep cores busy)
    ttft_s: float = 0.0  # time to first token
    seconds: float = 0.0  # whole generation
    finish: str = ""  # "stop", "length" or "cancelled"

    @property
    def tokens_per_s(self) -> float:
        decode = self.seconds - self.ttft_s
        if self.completion_tokens <= 1 or decode <= 0:
            return 0.0
        return (self.completion_tokens - 1) / decode

    def as_dict(self) -> dict[str, float | int | str]:
        data: dict[str, float | int | str] = asdict(self)
        data["tokens_per_s"] = round(self.tokens_per_s, 2)
        return data


class ChatModel(Protocol):
    """What answer.py, `ctxchat ask` and the TUI use; LocalLLM and RemoteLLM implement it."""

    name: str
    n_ctx: int
    kv_type: str | None  # None for a server, which owns its cache
    notices: list[str]  # things the user should hear about (a KV type fallback)
    last_stats: GenerationStats

    @property
    def kv_cache_mib(self) -> float | None: ...

    def count_tokens(self, text: str) -> int: ...

    def count_prompt_tokens(self, messages: Sequence[Message]) -> int: ...

    def truncate(self, text: str, max_tokens: int) -> str: ...

    def stream(
        self,
        messages: Sequence[Message],
        max_tokens: int = 256,
        temperature: float = 0.0,
        stop: Sequence[str] | None = None,
        cancel: threading.Event | None = None,
    ) -> Iterator[str]: ...

    def close(self) -> None: ...


# ---------------------------------------------------------------- llama.cpp's log


class _LlamaLog:
    """Routes llama.cpp's native log to a file in the data dir.

    llama.cpp would print to fd 2, which the TUI draws on; verbose=False is no cure because
    it dup2()s fds 1/2 to /dev/null while loading, blanking a running Textual screen.
    """

    def __init__(self) -> None:
        self.path: Path | None = None
        self._file: TextIO | None = None
        self._callback: ctypes._CFuncPtr | None = (
            None  # kept alive: llama.cpp holds a raw pointer to it
        )
        self.lines: list[str] = []  # the last lines, for error messages
        self._lock = threading.Lock()

    def install(self) -> Path:
        import llama_cpp

        path = data_dir() / "logs" / "llama.log"
        if self._callback is not None and self.path == path:
            return path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            if self._file is not None:
                self._file.close()
            self._file = open(path, "a", encoding="utf-8")  # noqa: SIM115 - lives with the process
            self.path = path

        @llama_cpp.llama_log_callback
        def callback(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
            self.write(text.decode("utf-8", "replace"))

        self._callback = callback
        llama_cpp.llama_log_set(callback, ctypes.c_void_p(0))
        return path

    def write(self, text: str) -> None:
        with self._lock:
            self.lines = (self.lines + text.splitlines())[-50:]
            if self._file is not None and not self._file.closed:
                with contextlib.suppress(ValueError, OSError):  # at interpreter exit
                    self._file.write(text)
                    self._file.flush()

    def tail(self, pattern: str) -> list[str]:
        return [line for line in self.lines if pattern in line]


LLAMA_LOG = _LlamaLog()


@contextlib.contextmanager
def _python_stderr_to_log() -> Iterator[None]:
    """llama-cpp-python's own verbose prints (model metadata...) go to the log too.

    Only Python's sys.stderr is swapped; fd 2, where Textual draws, is never touched.
    """
    path = LLAMA_LOG.path
    if path is None:
        yield
        return
    with open(path, "a", encoding="utf-8") as log, contextlib.redirect_stderr(log):
        yield


# ---------------------------------------------------------------- memory and files


def available_memory_bytes() -> int | None:
    """MemAvailable from /proc/meminfo (Linux), else free pages from sysconf; None if unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def model_fingerprint(path: Path) -> str:
    """A content id for a GGUF (size + first and last MiB): survives renames, cheap on 10 GB."""
    size = path.stat().st_size
    h = hashlib.sha1(str(size).encode())
    with open(path, "rb") as f:
        h.update(f.read(1 << 20))
        if size > 2 << 20:
            f.seek(-(1 << 20), os.SEEK_END)
            h.update(f.read(1 << 20))
    return h.hexdigest()[:16]


def _check_model_file(path: Path, gpu: bool) -> None:
    if not path.is_file():
        raise LLMError(f"cannot load model {path}: no such file")
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic != GGUF_MAGIC:
        raise LLMError(f"cannot load model {path}: not a GGUF file (corrupt or wrong format)")
    if gpu:
        return  # weights go to VRAM, which /proc/meminfo does not describe
    need = path.stat().st_size
    free = available_memory_bytes()
    if free is not None and need > free:
        raise LLMError(
            f"cannot load model {path}: it needs about {need / 2**30:.1f} GiB of memory "
            f"but only {free / 2**30:.1f} GiB is free; pick a smaller model or use --llm-url"
        )


# ---------------------------------------------------------------- llama.cpp in process


def _relay_chunks(
    chunks: Generator[llama_cpp.CreateCompletionStreamResponse, None, None],
    stats: GenerationStats,
    start: float,
    first_sample: list[float],
    cancel: threading.Event | None,
) -> Iterator[str]:
    """Yield llama.cpp's streamed text, recording timing and why generation ended."""
    try:
        for chunk in chunks:
            if cancel is not None and cancel.is_set():
                stats.finish = "cancelled"
                break
            choice = chunk["choices"][0]
            if choice.get("text"):
                if not stats.ttft_s:
                    stats.ttft_s = time.perf_counter() - start
                yield choice["text"]
            if choice.get("finish_reason"):
                stats.finish = choice["finish_reason"]
    finally:
        chunks.close()
        stats.seconds = time.perf_counter() - start
        if not stats.ttft_s and first_sample:
            stats.ttft_s = first_sample[0] - start
        if cancel is not None and cancel.is_set() and stats.finish != "stop":
            stats.finish = "cancelled"


class _WholeAnswer:
    """complete() for any model that streams: the pieces joined (benchmarks, scripts)."""

    def stream(
        self,
        messages: Sequence[Message],
        max_tokens: int = 256,
        temperature: float = 0.0,
        stop: Sequence[str] | None = None,
        cancel: threading.Event | None = None,
    ) -> Iterator[str]:
        raise NotImplementedError

    def complete(
        self,
        messages: Sequence[Message],
        max_tokens: int = 256,
        temperature: float = 0.0,
        stop: Sequence[str] | None = None,
    ) -> str:
        """The whole answer at once (benchmarks, scripts)."""
        return "".join(self.stream(messages, max_tokens, temperature, stop))


class LocalLLM(_WholeAnswer):
    """A GGUF chat model in llama.cpp with a quantized KV cache.

    One generation at a time. Prefix reuse comes from llama.cpp: a prompt that starts with
    the same tokens as the last one only evaluates the new tail.
    """

    repeat_penalty = REPEAT_PENALTY
    _cancel: threading.Event | None = None  # what the abort callback reads during prefill
    _abort: ctypes._CFuncPtr | None = None  # the abort callback, made on first use

    def __init__(
        self,
        model_path: str | Path | None = None,
        n_ctx: int = DEFAULT_N_CTX,
        kv_type: str = DEFAULT_KV_TYPE,
        *,
        type_v: str | None = None,
        flash_attn: bool | None = None,
        n_threads: int | None = None,
        decode_threads: int | None = None,
        n_batch: int = 512,
        gpu: bool | None = None,
        seed: int = 0,
    ) -> None:
        import llama_cpp

        from ctxchat.engines.models import smollm_gguf

        # kv_type is the K cache's type; the V cache and flash attention follow KV_LAYOUTS
        # unless given (benchmarks/llm_speed_bench.py measured the layouts).
        self.kv_type = check_kv_type(kv_type)
        layout_v, layout_fa = KV_LAYOUTS[self.kv_type]
        self.type_v = check_kv_type(type_v or layout_v)
        self.model_path = Path(model_path).expanduser() if model_path else smollm_gguf()
        self.name = self.model_path.name
        self.gpu_offload = llama_cpp.llama_supports_gpu_offload() if gpu is None else gpu
        # Fail before llama.cpp does: a clear message instead of a crash or swapping.
        _check_model_file(self.model_path, self.gpu_offload)
        self.model_id = model_fingerprint(self.model_path)
        LLAMA_LOG.install()
        threads = n_threads or default_threads()  # one per physical core (cpu_threads.py)
        self.notices: list[str] = []  # things the user should hear about (KV fallback)
        options = {
            "model_path": str(self.model_path),
            "n_ctx": n_ctx,
            "n_batch": min(n_batch, n_ctx),
            "n_gpu_layers": -1 if self.gpu_offload else 0,
            "n_threads": decode_threads or threads,  # one token at a time
            "n_threads_batch": threads,  # the prompt, 512 tokens at a time
            # A quantized V cache needs flash attention; a quantized K alone does not.
            "flash_attn": self.type_v != "f16" or (layout_fa if flash_attn is None else flash_attn),
            "seed": seed,
            "verbose": True,  # verbose=False would dup2 fds 1/2 (see _LlamaLog)
        }
        self._llama = self._load_with_fallback(options)
        # Unless the caller chose, each answer uses the cores other programs leave free.
        self.threads = threads
        self._adapt_threads = n_threads is None and decode_threads is None
        self._max_threads = threads
        self._llama.verbose = False  # no more Python-side chatter on stderr after loading
        self.n_ctx = self._llama.n_ctx()
        self._shape = self._kv_shape()
        self._format = self._chat_formatter()
        self._lock = threading.Lock()
        self._evaluated = 0
        self._wrap_eval()
        self.last_stats = GenerationStats()

    @staticmethod
    def _load(options: dict[str, object], type_k: str, type_v: str) -> llama_cpp.Llama:
        import llama_cpp

        with _python_stderr_to_log():
            return llama_cpp.Llama(
                **options, type_k=KV_TYPE_IDS[type_k], type_v=KV_TYPE_IDS[type_v]
            )

    def _load_with_fallback(self, options: dict[str, object]) -> llama_cpp.Llama:
        try:
            return self._load(options, self.kv_type, self.type_v)
        except ValueError as exc:
            # Some builds (CUDA by default) lack kernels for some quantized KV types: the
            # model loads but its context does not. f16 always works.
            quantized = (self.kv_type, self.type_v) != ("f16", "f16")
            if not quantized or "llama_context" not in str(exc):
                raise self._load_error(exc) from None
            try:
                llama = self._load(options, "f16", "f16")
            except (ValueError, RuntimeError, OSError) as again:
                raise self._load_error(again) from None
            self.notices.append(
                f"this llama.cpp build cannot use a {self.kv_layout} KV cache here; using f16"
            )
            self.kv_type = self.type_v = "f16"
            return llama
        except (RuntimeError, OSError) as exc:
            raise self._load_error(exc) from None

    @property
    def kv_layout(self) -> str:
        """The cache's types as K/V, e.g. q8_0/f16 (one name when both are alike)."""
        if self.kv_type == self.type_v:
            return self.kv_type
        return f"{self.kv_type}/{self.type_v}"

    def _load_error(self, exc: BaseException) -> LLMError:
        detail = "; ".join(LLAMA_LOG.tail("error")[-2:]) or str(exc)
        return LLMError(f"cannot load model {self.model_path}: {detail}")

    # -- model facts

    def _kv_shape(self) -> tuple[int, int, int]:
        import llama_cpp

        model = self._llama.model
        n_layer = llama_cpp.llama_model_n_layer(model)
        n_head = llama_cpp.llama_model_n_head(model)
        n_head_kv = llama_cpp.llama_model_n_head_kv(model)
        n_embd = llama_cpp.llama_model_n_embd(model)
        arch = self._llama.metadata.get("general.architecture", "")
        key_len = int(self._llama.metadata.get(f"{arch}.attention.key_length", n_embd // n_head))
        value_len = int(self._llama.metadata.get(f"{arch}.attention.value_length", key_len))
        return n_layer, key_len * n_head_kv, value_len * n_head_kv

    @property
    def kv_cache_mib(self) -> float:
        """Size of the KV cache for this n_ctx and KV type, in MiB (as llama.cpp allocates it)."""
        n_layer, k, v = self._shape
        keys = kv_cache_bytes(self.n_ctx, n_layer, k, 0, self.kv_type)
        values = kv_cache_bytes(self.n_ctx, n_layer, 0, v, self.type_v)
        return (keys + values) / 2**20

    def _chat_formatter(self) -> llama_chat_format.ChatFormatter:
        """The GGUF's own chat template; llama-2 format when the file carries none."""
        from llama_cpp import llama_chat_format

        meta = self._llama.metadata
        template = meta.get("tokenizer.chat_template")
        if not template:
            return llama_chat_format.format_llama2
        llama = self._llama
        eos = llama.token_eos()
        bos = llama.token_bos()
        return llama_chat_format.Jinja2ChatFormatter(
            template=template,
            eos_token=llama._model.token_get_text(eos) if eos != -1 else "",
            bos_token=llama._model.token_get_text(bos) if bos != -1 else "",
            stop_token_ids=[eos],
        )

    def _wrap_eval(self) -> None:
        # Count the tokens llama.cpp really evaluates, so prefix reuse is measured, not guessed.
        original = self._llama.eval

        def counting_eval(tokens: Sequence[int]) -> None:
            self._evaluated += len(tokens)
            original(tokens)

        self._llama.eval = counting_eval  # type: ignore[method-assign]

    def _abort_callback(self) -> ctypes._CFuncPtr:
        """llama.cpp asks this between the steps of a decode: True stops prompt reading
        within a fraction of a second of a cancel, not at the end of a 512-token batch."""
        import llama_cpp

        @llama_cpp.ggml_abort_callback
        def abort(_data: ctypes.c_void_p) -> bool:
            cancel = self._cancel
            return cancel is not None and cancel.is_set()

        return abort  # kept alive on self: llama.cpp holds a raw pointer to it

    def _prefill(self, tokens: Sequence[int], cancel: threading.Event | None) -> bool:
        """Read the prompt (all but its last token, which generation reads) batch by batch,
        with the abort callback on. False when a cancel stopped it. Tokens the KV cache
        already holds are kept; create_completion then finds them as a cached prefix."""
        import llama_cpp

        llama = self._llama
        keep = common_prefix_len(llama.input_ids[: llama.n_tokens], tokens)
        llama.n_tokens = keep  # eval() drops the cache past this point
        rest = list(tokens[keep:])
        if not rest:
            return True
        ctx = llama._ctx.ctx
        self._cancel = cancel
        self._abort = self._abort or self._abort_callback()
        llama_cpp.llama_set_abort_callback(ctx, self._abort, None)
        try:
            for i in range(0, len(rest), llama.n_batch):
                if cancel is not None and cancel.is_set():
                    return False
                llama.eval(rest[i : i + llama.n_batch])
        except RuntimeError:
            if cancel is not None and cancel.is_set():
                return False  # llama_decode returned "aborted"
            raise
        finally:
            # No callback while generating: each call takes the GIL, many times a token.
            llama_cpp.llama_set_abort_callback(ctx, llama_cpp.ggml_abort_callback(), None)
            self._cancel = None
        return not (cancel is not None and cancel.is_set())

    # -- tokens

    def _fit_threads(self) -> int:
        """Set llama.cpp's threads to the cores free now (CPU only); the count used."""
        if self._adapt_threads and not self.gpu_offload:
            threads = free_core_threads(self._max_threads)
            if threads != self.threads:
                import llama_cpp

                llama_cpp.llama_set_n_threads(self._llama.ctx, threads, threads)
                self.threads = threads
        return self.threads

    def count_tokens(self, text: str) -> int:
        if not text:
            return 0
        return len(self._llama.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def truncate(self, text: str, max_tokens: int) -> str:
        ids = self._llama.tokenize(text.encode("utf-8"), add_bos=False, special=False)
        if len(ids) <= max_tokens:
            return text
        return self._llama.detokenize(ids[: max(0, max_tokens)]).decode("utf-8", "ignore")

    def prompt_tokens(self, messages: Sequence[Message]) -> list[int]:
        """The chat-formatted prompt as the model will read it."""
        result = self._format(messages=list(messages))
        return self._llama.tokenize(
            result.prompt.encode("utf-8"), add_bos=not result.added_special, special=True
        )

    def count_prompt_tokens(self, messages: Sequence[Message]) -> int:
        return len(self.prompt_tokens(messages))

    def cached_prefix(self, tokens: Sequence[int]) -> int:
        """How many leading tokens of `tokens` are already in the KV cache."""
        return common_prefix_len(self._llama.input_ids[: self._llama.n_tokens], tokens)

    # -- generation

    def stream(
        self,
        messages: Sequence[Message],
        max_tokens: int = 256,
        temperature: float = 0.0,
        stop: Sequence[str] | None = None,
        cancel: threading.Event | None = None,
    ) -> Iterator[str]:
        """Yield the answer piece by piece; stop early when `cancel` is set."""
        tokens = self.prompt_tokens(messages)
        if len(tokens) >= self.n_ctx:
            raise LLMError(
                f"the prompt has {len(tokens)} tokens but the model's context holds {self.n_ctx}"
            )
        max_tokens = max(1, min(max_tokens, self.n_ctx - len(tokens)))
        stats = GenerationStats(prompt_tokens=len(tokens))
        self.last_stats = stats
        start = time.perf_counter()
        first_sample: list[float] = []

        with self._lock:
            stats.threads = self._fit_threads()
            evaluated_before = self._evaluated
            if not self._prefill(tokens[:-1], cancel):  # Esc while reading the prompt
                stats.finish, stats.seconds = "cancelled", time.perf_counter() - start
                stats.evaluated_tokens = self._evaluated - evaluated_before
                return
            chunks = self._llama.create_completion(
                prompt=tokens,
                max_tokens=max_tokens,
                temperature=temperature,
                repeat_penalty=self.repeat_penalty,
                stop=list(stop or []),
                stream=True,
                logits_processor=self._sample_counter(stats, evaluated_before, first_sample),
            )
            yield from _relay_chunks(chunks, stats, start, first_sample, cancel)

    def continuation_logprobs(
        self,
        messages: Sequence[Message],
        continuations: Sequence[str],
        lead: str = "",
        cancel: threading.Event | None = None,
    ) -> list[list[float]]:
        """The log-probability of each token of each continuation, as the reply to
        `messages` after `lead` (e.g. "Answer:"). The prompt is read once (its cached
        prefix reused); each continuation is then one short decode on top of it, removed
        from the KV cache afterwards. last_stats: the prompt read, finish "extracted"."""
        tokens = self.prompt_tokens(messages)
        if lead:
            tokens += self._llama.tokenize(lead.encode("utf-8"), add_bos=False, special=False)
        space = " " if lead and not lead.endswith((" ", "\n")) else ""
        stats = GenerationStats(prompt_tokens=len(tokens))
        self.last_stats = stats
        start = time.perf_counter()
        scored: list[list[float]] = []
        with self._lock:
            stats.threads = self._fit_threads()
            before = self._evaluated
            if not self._prefill(tokens[:-1], cancel):
                stats.finish, stats.seconds = "cancelled", time.perf_counter() - start
                return scored
            stats.evaluated_tokens = self._evaluated - before
            stats.reused_tokens = stats.prompt_tokens - stats.evaluated_tokens
            base = self._llama.n_tokens
            try:
                for text in continuations:
                    if cancel is not None and cancel.is_set():
                        break
                    ids = self._llama.tokenize((space + text).encode("utf-8"), False, False)
                    scored.append(self._token_logprobs(base, tokens[-1], ids))
            finally:
                self._llama._ctx.kv_cache_seq_rm(-1, base, -1)
                self._llama.n_tokens = base
        stats.seconds = stats.ttft_s = time.perf_counter() - start
        stats.finish = "cancelled" if cancel is not None and cancel.is_set() else "extracted"
        return scored

    def _token_logprobs(self, base: int, last: int, ids: Sequence[int]) -> list[float]:
        """Decode `last` + `ids` at position `base` (one batch, logits for every row): the
        log-probability of each of ids. The KV cache past `base` is overwritten."""
        import numpy as np

        llama = self._llama
        if not ids or base + len(ids) + 1 >= self.n_ctx or len(ids) + 1 > llama.n_batch:
            return [-1e9]
        batch = [last, *ids]
        llama._ctx.kv_cache_seq_rm(-1, base, -1)
        llama._batch.set_batch(batch=batch, n_past=base, logits_all=True)
        llama._ctx.decode(llama._batch)
        self._evaluated += len(batch)
        shape = (len(batch), llama.n_vocab())
        rows = np.ctypeslib.as_array(llama._ctx.get_logits(), shape=shape)[:-1].astype(np.float64)
        top = rows.max(axis=1, keepdims=True)
        norm = top[:, 0] + np.log(np.exp(rows - top).sum(axis=1))
        return [float(rows[i, t] - norm[i]) for i, t in enumerate(ids)]

    def _sample_counter(
        self, stats: GenerationStats, evaluated_before: int, first_sample: list[float]
    ) -> llama_cpp.LogitsProcessorList:
        """A logits processor that counts sampled tokens into stats (it is called once per
        sampled token)."""
        import llama_cpp

        def on_sample(input_ids: np.ndarray, scores: np.ndarray) -> np.ndarray:
            # Called once per sampled token: the first call marks the end of prompt reading.
            if not first_sample:
                first_sample.append(time.perf_counter())
                stats.evaluated_tokens = self._evaluated - evaluated_before
                stats.reused_tokens = stats.prompt_tokens - stats.evaluated_tokens
            stats.completion_tokens += 1
            return scores

        return llama_cpp.LogitsProcessorList([on_sample])

    # -- KV state (prefix reuse across restarts; see kvstate.py)

    @property
    def state_key_parts(self) -> tuple[str, str, int]:
        return self.model_id, self.kv_layout, self.n_ctx

    def export_state(self) -> tuple[list[int], bytes]:
        """The tokens in the KV cache and llama.cpp's serialized state (KV + last logits)."""
        with self._lock:
            state = self._llama.save_state()
            return [int(t) for t in state.input_ids[: state.n_tokens]], bytes(state.llama_state)

    def import_state(self, tokens: Sequence[int], blob: bytes) -> None:
        """Restore a state from export_state(): the next prompt sharing its prefix reuses it."""
        import numpy as np
        from llama_cpp.llama import LlamaState

        if len(tokens) >= self.n_ctx:
            raise LLMError("saved KV state is larger than this context")
        input_ids = np.zeros(self.n_ctx, dtype=np.intc)
        input_ids[: len(tokens)] = tokens
        # The logits rows are not needed: a restored state re-reads its last token before
        # sampling (llama-cpp-python sets _requires_eval), so one zero row broadcasts.
        scores = np.zeros((1, self._llama.n_vocab()), dtype=np.single)
        state = LlamaState(
            input_ids=input_ids,
            scores=scores,
            n_tokens=len(tokens),
            llama_state=blob,
            llama_state_size=len(blob),
            seed=self._llama._seed,
        )
        with self._lock:
            try:
                self._llama.load_state(state)
            except RuntimeError as exc:
                self._llama.reset()
                raise LLMError(f"cannot restore the saved KV state: {exc}") from None

    def reset(self) -> None:
        """Forget the KV cache (the next prompt is read from scratch)."""
        with self._lock:
            self._llama.reset()

    def close(self) -> None:
        llama = getattr(self, "_llama", None)
        if llama is not None:
            llama.close()
            self._llama = None  # type: ignore[assignment]


# ---------------------------------------------------------------- OpenAI-compatible server


CONNECT_TIMEOUT_S = 10.0
# Longest silence while waiting for a reply or between streamed chunks.
READ_TIMEOUT_S = 120.0
MAX_REDIRECTS = 3


class RemoteLLM(_WholeAnswer):
    """Any OpenAI-compatible chat server (llama.cpp's server, vLLM, Ollama) over HTTP.

    Token counts are cl100k estimates: servers do not share their tokenizer. The client
    keeps its own limits: connect and read timeouts, max_tokens counted on what arrives
    (a server that streams without end is cut off), and any reply of the wrong shape is
    one LLMError line. Credentials (CTXCHAT_LLM_API_KEY, or user:password@ in the URL) go
    only to the server's own origin, never along a redirect elsewhere, and the URL shown
    in messages never carries them.
    """

    kv_type: str | None = None

    def __init__(
        self,
        url: str,
        model: str | None = None,
        *,
        n_ctx: int = 8192,
        api_key: str | None = None,
        timeout: float = READ_TIMEOUT_S,
        connect_timeout: float = CONNECT_TIMEOUT_S,
    ) -> None:
        self.target = ServerURL.parse(url)
        self.url = self.target.shown  # for messages: never holds a password
        self.base = self.target.api_base
        self.model = model
        self.name = model or self.url
        self.n_ctx = n_ctx
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self._api_key = api_key or os.environ.get("CTXCHAT_LLM_API_KEY")
        self.notices: list[str] = []
        self.last_stats = GenerationStats()

    @property
    def kv_cache_mib(self) -> float | None:
        return None  # the server owns its cache

    def _auth_headers(self) -> dict[str, str]:
        if self._api_key:
            return {"Authorization": f"Bearer {self._api_key}"}
        return self.target.basic_auth()

    def _open(self, path: str, body: JSONObject | None, read_timeout: float) -> _Reply:
        return _http_open(
            self.base + path,
            body,
            auth_origin=self.target.origin,
            auth=self._auth_headers(),
            shown=self.url,
            connect_timeout=self.connect_timeout,
            read_timeout=read_timeout,
        )

    def check(self, timeout: float = 10.0) -> list[str]:
        """The server's model ids; LLMError 'cannot reach URL' when it does not answer."""
        with self._open("/models", None, timeout) as reply:
            data = reply.json()
        items = data.get("data") if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise LLMError(
                f"{self.url} is not an OpenAI-compatible server: /models did not return "
                "an object with a 'data' list"
            )
        ids = [m["id"] for m in items if isinstance(m, dict) and isinstance(m.get("id"), str)]
        if self.model is None and ids:
            self.model = ids[0]
            self.name = ids[0]
        return ids

    def count_tokens(self, text: str) -> int:
        return count_cl100k(text)

    def count_prompt_tokens(self, messages: Sequence[Message]) -> int:
        # ~4 tokens of chat markup per message in most templates
        return sum(count_cl100k(m["content"]) + 4 for m in messages) + 2

    def truncate(self, text: str, max_tokens: int) -> str:
        return truncate_to_tokens(text, max_tokens)

    def stream(
        self,
        messages: Sequence[Message],
        max_tokens: int = 256,
        temperature: float = 0.0,
        stop: Sequence[str] | None = None,
        cancel: threading.Event | None = None,
    ) -> Iterator[str]:
        body: JSONObject = {
            "messages": [dict(m) for m in messages],
            "max_tokens": max_tokens,
            "temperature": temperature,
            "stream": True,
        }
        if self.model:
            body["model"] = self.model
        if stop:
            body["stop"] = list(stop)
        stats = GenerationStats(prompt_tokens=self.count_prompt_tokens(messages))
        stats.evaluated_tokens = stats.prompt_tokens
        self.last_stats = stats
        start = time.perf_counter()
        with self._open("/chat/completions", body, self.timeout) as reply:
            try:
                for event in reply.events():
                    if cancel is not None and cancel.is_set():
                        stats.finish = "cancelled"
                        break
                    if event == "[DONE]":
                        break
                    text = self._read_chunk(event, stats)
                    if text:
                        # Counted here, not trusted to the server: the limit always holds.
                        left = max_tokens - stats.completion_tokens
                        text = truncate_to_tokens(text, left)
                        stats.completion_tokens += max(1, count_cl100k(text))
                        if not stats.ttft_s:
                            stats.ttft_s = time.perf_counter() - start
                        yield text
                        if stats.completion_tokens >= max_tokens:
                            stats.finish = "length"
                            break
            finally:
                stats.seconds = time.perf_counter() - start

    def _read_chunk(self, event: str, stats: GenerationStats) -> str:
        """The text in one streamed chunk; LLMError for any shape but the OpenAI one."""
        try:
            chunk = json.loads(event)
        except ValueError:
            raise LLMError(f"{self.url} sent a chunk that is not JSON: {event[:80]!r}") from None
        if not isinstance(chunk, dict):
            raise self._malformed("a chunk that is not a JSON object")
        if "error" in chunk:
            error = chunk["error"]
            detail = error.get("message", error) if isinstance(error, dict) else error
            raise LLMError(f"{self.url}: {str(detail)[:200]}")
        choices = chunk.get("choices", [])
        if not isinstance(choices, list) or not all(isinstance(c, dict) for c in choices):
            raise self._malformed("'choices' that is not a list of objects")
        pieces: list[str] = []
        for choice in choices:
            delta = choice.get("delta") or {}
            content = delta.get("content") if isinstance(delta, dict) else None
            if content is not None and not isinstance(content, str):
                raise self._malformed("a 'content' that is not text")
            pieces.append(content or "")
            reason = choice.get("finish_reason")
            if isinstance(reason, str) and reason:
                stats.finish = reason
        usage = chunk.get("usage")
        if isinstance(usage, dict) and isinstance(usage.get("prompt_tokens"), int):
            stats.prompt_tokens = stats.evaluated_tokens = usage["prompt_tokens"]
        return "".join(pieces)

    def _malformed(self, what: str) -> LLMError:
        return LLMError(f"{self.url} sent {what}; is it an OpenAI-compatible chat server?")

    def close(self) -> None:
        pass


# ---------------------------------------------------------------- HTTP for RemoteLLM


@dataclass(frozen=True)
class ServerURL:
    """A server URL split into what is sent where: credentials apart from what is shown."""

    scheme: str
    netloc: str  # host[:port], without user:password@
    path: str
    username: str | None
    password: str | None

    @classmethod
    def parse(cls, url: str) -> ServerURL:
        parts = urllib.parse.urlsplit(url.strip())
        netloc = parts.netloc.rpartition("@")[2]
        if parts.scheme not in ("http", "https") or not netloc:
            shown = urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))
            raise LLMError(f"cannot reach {shown or 'the server'}: not an http(s) URL")
        user = urllib.parse.unquote(parts.username) if parts.username else None
        password = urllib.parse.unquote(parts.password) if parts.password else None
        return cls(parts.scheme, netloc, parts.path.rstrip("/"), user, password)

    @property
    def shown(self) -> str:
        return f"{self.scheme}://{self.netloc}{self.path}"

    @property
    def api_base(self) -> str:
        return self.shown if self.path.endswith("/v1") else self.shown + "/v1"

    @property
    def origin(self) -> tuple[str, str]:
        return _origin(self.shown)

    def basic_auth(self) -> dict[str, str]:
        if self.username is None:
            return {}
        pair = f"{self.username}:{self.password or ''}".encode()
        return {"Authorization": "Basic " + base64.b64encode(pair).decode("ascii")}


def _origin(url: str) -> tuple[str, str]:
    parts = urllib.parse.urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.scheme, f"{(parts.hostname or '').lower()}:{port}"


class _Reply:
    """An HTTP response and its connection, closed together."""

    def __init__(self, conn: http.client.HTTPConnection, resp: http.client.HTTPResponse,
                 shown: str, read_timeout: float) -> None:  # fmt: skip
        self.conn, self.resp, self.shown, self.read_timeout = conn, resp, shown, read_timeout

    def __enter__(self) -> _Reply:
        return self

    def __exit__(self, *exc: object) -> None:
        self.resp.close()
        self.conn.close()

    def json(self) -> JSONValue:
        try:
            return json.loads(self.resp.read(MAX_JSON_BYTES + 1)[:MAX_JSON_BYTES])
        except TimeoutError:
            raise LLMError(f"{self.shown} sent nothing for {self.read_timeout:g} s") from None
        except (OSError, http.client.HTTPException) as exc:
            raise LLMError(f"the answer from {self.shown} broke off: {exc}") from None
        except ValueError:
            raise LLMError(f"{self.shown} did not answer with JSON") from None

    def events(self) -> Iterator[str]:
        try:
            yield from _sse_events(self.resp)
        except TimeoutError:
            raise LLMError(f"{self.shown} sent nothing for {self.read_timeout:g} s") from None
        except (OSError, http.client.HTTPException) as exc:
            raise LLMError(f"the answer from {self.shown} broke off: {exc}") from None


MAX_JSON_BYTES = 4 << 20


def _http_open(
    url: str,
    body: JSONObject | None,
    *,
    auth_origin: tuple[str, str],
    auth: dict[str, str],
    shown: str,
    connect_timeout: float,
    read_timeout: float,
) -> _Reply:
    """GET (or POST `body` as JSON) with separate connect and read timeouts, following
    up to MAX_REDIRECTS redirects; `auth` headers go only to `auth_origin`."""
    data = json.dumps(body).encode() if body is not None else None
    for _ in range(MAX_REDIRECTS + 1):
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if _origin(url) == auth_origin:
            headers.update(auth)
        conn, resp = _http_request(url, data, headers, shown, connect_timeout, read_timeout)
        location = resp.getheader("Location")
        if resp.status in (301, 302, 303, 307, 308) and location:
            resp.close()
            conn.close()
            url = urllib.parse.urljoin(url, location)
            if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
                raise LLMError(f"{shown} redirected to a non-http(s) address")
            if resp.status == 303:
                data = None
            continue
        if resp.status >= 400:
            detail = resp.read(2000).decode("utf-8", "replace")[:200]
            resp.close()
            conn.close()
            raise LLMError(f"{shown} refused the request ({resp.status}): {detail}")
        return _Reply(conn, resp, shown, read_timeout)
    raise LLMError(f"{shown} redirected more than {MAX_REDIRECTS} times")


def _http_request(
    url: str,
    data: bytes | None,
    headers: dict[str, str],
    shown: str,
    connect_timeout: float,
    read_timeout: float,
) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
    parts = urllib.parse.urlsplit(url)
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = kind(parts.hostname or "", parts.port, timeout=connect_timeout)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        conn.connect()
        assert conn.sock is not None
        conn.sock.settimeout(read_timeout)
        conn.request("POST" if data is not None else "GET", target, body=data, headers=headers)
        return conn, conn.getresponse()
    except TimeoutError:
        conn.close()
        raise LLMError(f"{shown} did not answer within the timeout") from None
    except (OSError, http.client.HTTPException) as exc:
        conn.close()
        reason = getattr(exc, "strerror", None) or exc
        raise LLMError(f"cannot reach {shown}: {reason}") from None


def _sse_events(resp: Iterable[bytes]) -> Iterator[str]:
    """The data payloads of a server-sent-events stream."""
    data: list[str] = []
    for raw in resp:
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        if not line:
            if data:
                yield "\n".join(data)
                data = []
        elif line.startswith("data:"):
            data.append(line[5:].lstrip())
    if data:
        yield "\n".join(data)


def open_llm(
    model: str | Path | None = None,
    *,
    url: str | None = None,
    n_ctx: int = DEFAULT_N_CTX,
    kv_type: str = DEFAULT_KV_TYPE,
    server_model: str | None = None,
) -> ChatModel:
    """The model the user picked: a server when `url` is given, else a GGUF (bundled default).

    server_model names one of the server's models (default: the first it lists).
    """
    if url:
        remote = RemoteLLM(url, model=server_model or None, n_ctx=n_ctx)
        remote.check()
        return remote
    return LocalLLM(model, n_ctx=n_ctx, kv_type=kv_type)
