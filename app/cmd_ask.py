"""`ctxchat ask PATH QUESTION [--model GGUF] [--kv-type T] [--budget N] [--llm-url U] [--json]`.

Ingests the document (or reuses it), compresses it for the question (engines.conversation,
the flow the TUI uses too), prints the best evidence sentences to stderr, streams the answer
to stdout, then prints a "not found in the document" mark when the answer's content is not
in the context, the pages cited and one stats line to stderr. --json prints one object
{"answer", "pages", "evidence", "grounded", "mark", "stats"} instead. Ctrl-C stops the answer and exits 130; the only thing
ask writes besides the library is a KV state file, which is renamed into place only when
complete.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import TYPE_CHECKING

from ctxchat.app.arg_types import kept_share, positive_int
from ctxchat.app.compressor_flags import add_compressor_flags, compressor_setup
from ctxchat.engines.errors import CtxchatError
from ctxchat.engines.terminal_text import json_safe, terminal_safe

if TYPE_CHECKING:
    from ctxchat.engines.answer.conversation import AnswerRun, AskResult, AskSettings, AskStats
    from ctxchat.engines.answer.evidence import Evidence

KV_CHOICES = ("q8_0", "q4_0", "f16")
PATH_HELP = "a document (PDF, EPUB, HTML, text...), or a library id or name (ctxchat docs)"


MAX_TOKENS_HELP = (
    "longest answer, in tokens (default: 64 for the bundled or another small local model, "
    "whose longer answers invent; 512 for others)"
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "ask",
        help="answer a question about a document with a local model (or a server)",
        description="Compress a document for a question and answer it with the bundled "
        "SmolLM2-135M model (offline), any GGUF (--model) or an OpenAI-compatible server "
        "(--llm-url). The answer streams to stdout; the pages it cites and a stats line "
        "go to stderr.",
    )
    p.add_argument("path", metavar="PATH", help=PATH_HELP)
    p.add_argument("question", metavar="QUESTION", help="what to ask about it")
    p.add_argument("-m", "--model", metavar="GGUF", help="a GGUF chat model file")
    p.add_argument("--kv-type", choices=KV_CHOICES, help="KV cache type (default q8_0)")
    size = p.add_mutually_exclusive_group()
    size.add_argument(
        "-b",
        "--budget",
        type=positive_int,
        metavar="N",
        help="compressed context of at most N tokens",
    )
    size.add_argument(
        "-r", "--rate", type=kept_share, metavar="R", help="keep this share of the document (0-1]"
    )
    p.add_argument(
        "--llm-url",
        metavar="URL",
        help="an OpenAI-compatible server (llama.cpp server, vLLM, Ollama)",
    )
    p.add_argument("--n-ctx", type=int, metavar="N", help="the model's context size")
    p.add_argument("--max-tokens", type=positive_int, metavar="N", help=MAX_TOKENS_HELP)
    p.add_argument("--temperature", type=float, metavar="T", help="0 = greedy (the default)")
    prune = p.add_mutually_exclusive_group()
    prune.add_argument(
        "--prune",
        dest="prune",
        action="store_true",
        default=None,
        help="also prune words inside the selected sentences",
    )
    prune.add_argument(
        "--no-prune", dest="prune", action="store_false", help="whole selected sentences only"
    )
    p.add_argument(
        "--reader-context",
        type=reader_context,
        metavar="WHAT",
        help="what the model reads of the context: 'evidence' (the 1-3 evidence sentences; "
        "the default for small local models), 'all', or N tokens",
    )
    p.add_argument("--password", help="password for an encrypted PDF")
    p.add_argument(
        "--json",
        action="store_true",
        help='print one JSON object: {"answer", "pages", "evidence", "grounded", "mark", "stats"}',
    )
    add_compressor_flags(p)
    p.set_defaults(func=cmd_ask)


def _settings(args: argparse.Namespace) -> AskSettings:
    """Flags over the saved config over the defaults."""
    from ctxchat.app.ask_settings import ask_settings
    from ctxchat.app.config import load_config

    config = load_config()
    return ask_settings(
        config,
        budget=args.budget,
        rate=args.rate,
        model=args.model,
        url=args.llm_url,
        kv_type=args.kv_type,
        n_ctx=args.n_ctx,
        max_tokens=args.max_tokens,
        temperature=args.temperature,
        prune=args.prune,
        setup=compressor_setup(config, args),
        reader_budget=args.reader_context,
    )


def reader_context(value: str) -> int:
    """--reader-context: evidence, all or a positive token count."""
    from ctxchat.app.ask_settings import parse_reader_context

    try:
        return parse_reader_context(value)
    except CtxchatError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def pages_line(pages: list[int], source: str | None) -> str:
    listed = ", ".join(str(p) for p in pages)
    if source == "citations":
        return f"pages cited: {listed}"
    if source == "matched":
        return f"pages cited: none (the answer matches p. {listed})"
    return "pages cited: none"


def stats_line(stats: AskStats) -> str:
    gen, answer = stats.answer.generation, stats.answer
    parts = [
        # Selected: the context exported; a small local model reads only the evidence of it.
        f"{stats.doc_tokens:,} tokens in the document -> {stats.context_tokens:,} selected "
        f"({stats.ratio:.1f}x)",
        f"prompt {gen.prompt_tokens:,} model tokens ({gen.reused_tokens:,} reused)",
        f"first token {gen.ttft_s:.2f} s",
        f"{gen.tokens_per_s:.1f} tokens/s",
    ]
    if answer.kv_type:
        parts.append(f"KV {answer.kv_type} {answer.kv_mib or 0:.1f} MiB")
    else:
        parts.append(f"server {answer.model}")
    return "ctxchat: " + " | ".join(parts)


def evidence_lines(evidence: list[Evidence]) -> list[str]:
    """The best sentences, verbatim, with document, page and section: what to check the answer by."""
    lines = []
    for item in evidence:
        lines.append(f"evidence [{item.where}] {item.text}")
    return lines


def cmd_ask(args: argparse.Namespace) -> int:
    from ctxchat.engines.answer.conversation import WEAK_MESSAGE, Conversation
    from ctxchat.engines.ingest.library import ensure_document
    from ctxchat.engines.select.indexing import early_answer_note
    from ctxchat.engines.store.db import Store

    settings = _settings(args)
    if not args.question.strip():
        raise CtxchatError("the question is empty")
    # The model first: a bad --model or --llm-url fails before any compression work.
    reader = settings.reader.open()
    with Store() as store:
        conversation = Conversation(store, settings=settings, reader=reader)
        try:
            conversation.doc_ids = [ensure_document(store, args.path, password=args.password).id]
            prepared = conversation.prepare(args.question)
            if not args.json:
                if prepared.weak:
                    print(f"ctxchat: {WEAK_MESSAGE}", file=sys.stderr)
                for line in evidence_lines(prepared.evidence):
                    print(terminal_safe(f"ctxchat: {line}"), file=sys.stderr)
            cancel = threading.Event()
            run = conversation.answer(prepared, cancel)
            early = early_answer_note(prepared.compressed.stats.get("index"))
            for note in [*run.notes, early]:
                if note:
                    print(terminal_safe(f"ctxchat: {note}"), file=sys.stderr)
            if not _stream(run, cancel, echo=not args.json):
                return 130
            result = run.result
            assert result is not None
            conversation.record(result)
        finally:
            conversation.close()
    if args.json:
        print(json_safe(_json(result)))
        return 0
    sys.stdout.write("\n")
    sys.stdout.flush()
    if result.mark:
        print(f"ctxchat: {result.mark}", file=sys.stderr)
    if result.cut:
        print(f"ctxchat: {result.cut} (--max-tokens N for longer ones)", file=sys.stderr)
    print(pages_line(result.pages, result.stats.answer.pages_from), file=sys.stderr)
    print(terminal_safe(stats_line(result.stats)), file=sys.stderr)
    return 0


def _stream(run: AnswerRun, cancel: threading.Event, *, echo: bool) -> bool:
    """Write the answer as it comes; False when Ctrl-C stopped it.

    While the answer streams, Ctrl-C sets `cancel` instead of raising: llama.cpp calls back
    into Python for every token (the sampler's logits processor), and a KeyboardInterrupt
    raised inside that callback is swallowed by ctypes ("Exception ignored ..."), so the
    answer used to run on to its end and exit 0."""
    interrupted = threading.Event()

    def on_sigint(signum: int, frame: object) -> None:
        interrupted.set()
        cancel.set()  # the generation loop stops at its next token

    handler = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, on_sigint) if handler else None
    pieces = iter(run)
    try:
        for piece in pieces:
            if echo and not interrupted.is_set():
                sys.stdout.write(terminal_safe(piece))
                sys.stdout.flush()
    except KeyboardInterrupt:  # Ctrl-C where no handler could be set (not the main thread)
        interrupted.set()
        cancel.set()
        pieces.close()  # type: ignore[attr-defined]  # stops llama.cpp now
    finally:
        if handler:
            signal.signal(signal.SIGINT, previous)
    if not interrupted.is_set():
        return True
    if echo:
        sys.stdout.write("\n")
        sys.stdout.flush()
    print("ctxchat: interrupted", file=sys.stderr)
    return False


def _json(result: AskResult) -> dict[str, object]:
    return {
        "answer": result.answer,
        "pages": result.pages,
        "evidence": [e.as_dict() for e in result.evidence],
        "grounded": result.grounding.supported,
        "mark": result.mark,
        "stats": result.stats.as_dict(),
    }
