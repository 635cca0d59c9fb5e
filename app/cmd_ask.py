"""`ctxchat ask PATH QUESTION [--model GGUF] [--kv-type T] [--budget N] [--llm-url U] [--json]`.

Ingests the document (or reuses it), compresses it for the question, streams the answer to
stdout, then prints the pages cited and one stats line to stderr. --json prints one object
{"answer", "pages", "stats"} instead. Ctrl-C stops the answer and exits 130; the only thing
ask writes besides the library is a KV state file, which is renamed into place only when
complete.
"""

from __future__ import annotations

import argparse
import sys
import threading
from typing import Any

from ctxchat.app.arg_types import kept_share, positive_int
from ctxchat.app.compressor_flags import add_compressor_flags, compressor_setup
from ctxchat.engines.errors import CtxchatError
from ctxchat.engines.terminal_text import json_safe, terminal_safe

KV_CHOICES = ("q8_0", "q4_0", "f16")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "ask",
        help="answer a question about a document with a local model (or a server)",
        description="Compress a document for a question and answer it with the bundled "
        "SmolLM2-135M model (offline), any GGUF (--model) or an OpenAI-compatible server "
        "(--llm-url). The answer streams to stdout; the pages it cites and a stats line "
        "go to stderr.",
    )
    p.add_argument("path", metavar="PATH", help="a document (PDF, EPUB, HTML, text...)")
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
    p.add_argument("--max-tokens", type=positive_int, metavar="N", help="longest answer, in tokens")
    p.add_argument("--temperature", type=float, metavar="T", help="0 = greedy")
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
    p.add_argument("--password", help="password for an encrypted PDF")
    p.add_argument(
        "--json", action="store_true", help='print one JSON object: {"answer", "pages", "stats"}'
    )
    add_compressor_flags(p)
    p.set_defaults(func=cmd_ask)


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    """Flags over the saved config over the defaults."""
    from ctxchat.app.config import load_config

    config = load_config()
    budget, rate = args.budget, args.rate
    if budget is None and rate is None:
        budget, rate = (None, config.rate) if config.rate else (config.budget, None)
    if budget is not None and budget < 1:
        raise CtxchatError(f"the token budget must be positive, not {budget}")
    max_tokens = args.max_tokens if args.max_tokens is not None else config.max_tokens
    if max_tokens < 1:
        raise CtxchatError(f"--max-tokens must be at least 1, not {max_tokens}")
    n_ctx = args.n_ctx or config.n_ctx
    if n_ctx < 256:
        raise CtxchatError(f"--n-ctx must be at least 256, not {n_ctx}")
    return {
        "model": args.model or config.chat_model or None,
        "url": args.llm_url or config.server_url or None,
        # the saved server's model, unless --llm-url names another server
        "server_model": (config.server_model or None) if not args.llm_url else None,
        "kv_type": args.kv_type or config.kv_type,
        "n_ctx": n_ctx,
        "budget": budget,
        "rate": rate,
        "max_tokens": max_tokens,
        "temperature": args.temperature if args.temperature is not None else config.temperature,
        "compressor_setup": compressor_setup(config, args),
    }


def pages_line(pages: list[int], source: str | None) -> str:
    listed = ", ".join(str(p) for p in pages)
    if source == "citations":
        return f"pages cited: {listed}"
    if source == "matched":
        return f"pages cited: none (the answer matches p. {listed})"
    return "pages cited: none"


def stats_line(stats: dict[str, Any]) -> str:
    parts = [
        f"{stats['doc_tokens']:,} tokens in the document -> {stats['context_tokens']:,} sent "
        f"({stats['ratio']:.1f}x)",
        f"prompt {stats['prompt_tokens']:,} model tokens ({stats['reused_tokens']:,} reused)",
        f"first token {stats['ttft_s']:.2f} s",
        f"{stats['tokens_per_s']:.1f} tokens/s",
    ]
    if stats.get("kv_type"):
        parts.append(f"KV {stats['kv_type']} {stats['kv_mib']:.1f} MiB")
    else:
        parts.append(f"server {stats['model']}")
    return "ctxchat: " + " | ".join(parts)


def _prune_default(llm: Any) -> bool | None:
    """Whole sentences for a local GGUF, pruned text for a server's (bigger) model.

    Measured in benchmarks/answer_bench.py: the bundled 135M model answers more questions
    from whole selected sentences than from word-pruned ones at the same budget; pruning
    is made for large readers. None lets the pipeline prune when its model is installed.
    """
    return None if getattr(llm, "kv_type", None) is None else False


def cmd_ask(args: argparse.Namespace) -> int:
    from ctxchat.engines.answer import answer_stream
    from ctxchat.engines.indexing import early_answer_note
    from ctxchat.engines.kvstate import KVStateStore
    from ctxchat.engines.library import ensure_document
    from ctxchat.engines.llm import open_llm
    from ctxchat.engines.pipeline import compress_documents
    from ctxchat.engines.store import Store

    opts = _settings(args)
    if not args.question.strip():
        raise CtxchatError("the question is empty")
    # The model first: a bad --model or --llm-url fails before any compression work.
    llm = open_llm(
        opts["model"],
        url=opts["url"],
        n_ctx=opts["n_ctx"],
        kv_type=opts["kv_type"],
        server_model=opts["server_model"],
    )
    try:
        with Store() as store:
            doc = ensure_document(store, args.path, password=args.password)
            prune = _prune_default(llm) if args.prune is None else args.prune
            compressed = compress_documents(
                store,
                [doc.id],
                query=args.question,
                budget=opts["budget"],
                rate=opts["rate"],
                prune=prune,
                compressor_setup=opts["compressor_setup"],
            )
            latest = {"compressed": compressed}

            def recompress(budget: int) -> str:
                # The prompt did not fit the model: the same question at a smaller budget.
                latest["compressed"] = compress_documents(
                    store,
                    [doc.id],
                    query=args.question,
                    budget=budget,
                    prune=prune,
                    compressor_setup=opts["compressor_setup"],
                )
                return latest["compressed"].text

            cancel = threading.Event()
            stream = answer_stream(
                llm,
                compressed.text,
                args.question,
                max_tokens=opts["max_tokens"],
                temperature=opts["temperature"],
                cancel=cancel,
                recompress=recompress,
                kv_store=KVStateStore(),
            )
            early = early_answer_note(compressed.stats.get("index"))
            for note in [*getattr(llm, "notices", []), *stream.prompt.notes, early]:
                if note:
                    print(terminal_safe(f"ctxchat: {note}"), file=sys.stderr)
            pieces = iter(stream)
            try:
                for piece in pieces:
                    if not args.json:
                        sys.stdout.write(terminal_safe(piece))
                        sys.stdout.flush()
            except KeyboardInterrupt:
                cancel.set()
                pieces.close()  # type: ignore[attr-defined]  # stops llama.cpp now
                if not args.json:
                    sys.stdout.write("\n")
                    sys.stdout.flush()
                print("ctxchat: interrupted", file=sys.stderr)
                return 130
    finally:
        llm.close()

    answer = stream.result
    assert answer is not None
    used = latest["compressed"]
    stats = {
        "doc_tokens": used.original_tokens,
        "context_tokens": used.compressed_tokens,
        "ratio": round(used.ratio, 2),
        "compress_seconds": used.stats.get("seconds", {}),
        "pruned": bool(used.stats.get("options", {}).get("compressor")),
        **answer.stats,
        "notes": [*getattr(llm, "notices", []), *answer.notes],
    }
    if args.json:
        print(json_safe({"answer": answer.text, "pages": answer.pages, "stats": stats}))
        return 0
    sys.stdout.write("\n")
    sys.stdout.flush()
    print(pages_line(answer.pages, answer.stats.get("pages_from")), file=sys.stderr)
    print(terminal_safe(stats_line(stats)), file=sys.stderr)
    return 0
