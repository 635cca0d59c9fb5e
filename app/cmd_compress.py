"""`ctxchat compress PATH [--query Q] [--budget N | --rate R] [--copy] [--output FILE] [--json]
[--compressor MODEL] [--device D] [--precision P]`.

The compressed context goes to stdout, a one-line summary to stderr, so
`ctxchat compress doc.pdf -q "..." > context.txt` stays clean. --copy and --output take the
ready-to-paste prompt (engines.export) when there is a question, else the context alone.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ctxchat.app.arg_types import kept_share, positive_int
from ctxchat.app.compressor_flags import add_compressor_flags, compressor_setup
from ctxchat.engines.errors import CtxchatError
from ctxchat.engines.terminal_text import json_safe, terminal_safe

if TYPE_CHECKING:
    from ctxchat.engines.results import Compressed, JSONObject


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "compress",
        help="compress a document (for a question, or query-agnostic) to a token budget",
        description="Compress a document to a token budget or rate. With --query the "
        "sentences that answer it are selected, then pruned; without, the whole document is "
        "pruned query-agnostically. Counts are cl100k_base tokens. PATH '-' reads text "
        "from stdin. With neither --budget nor --rate, a third of the tokens is kept.",
    )
    p.add_argument(
        "path",
        metavar="PATH",
        help="a document (PDF, EPUB, HTML, text...), a library id or name (ctxchat docs), or -",
    )
    p.add_argument("-q", "--query", help="the question the context must answer")
    size = p.add_mutually_exclusive_group()
    size.add_argument("-b", "--budget", type=positive_int, metavar="N", help="at most N tokens")
    size.add_argument("-r", "--rate", type=kept_share, metavar="R", help="keep this share (0-1]")
    p.add_argument(
        "--copy",
        action="store_true",
        help="copy the prompt (with --query: instruction, context, question) to the clipboard",
    )
    p.add_argument("-o", "--output", metavar="FILE", help="write the prompt (as --copy) to FILE")
    p.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object: text, counts, ratio, spans, stats",
    )
    p.add_argument(
        "--no-prune", action="store_true", help="select sentences only (skip the token compressor)"
    )
    p.add_argument("--password", help="password for an encrypted PDF")
    add_compressor_flags(p)
    p.set_defaults(func=cmd_compress)


def _summary(result: Compressed) -> str:
    stats = result.stats
    secs = stats.get("seconds", {})
    stages = ", ".join(
        f"{name} {secs[name]:.2f} s"
        for name in ("ingest", "select", "embed", "compress")
        if secs.get(name)
    )
    hits = stats.get("cache_hits", {})
    cache = (
        "cached result"
        if hits.get("compression")
        else (f"{hits.get('embeddings', 0)} cached embeddings")
    )
    parts = [
        f"{result.original_tokens:,} -> {result.compressed_tokens:,} tokens "
        f"({result.ratio:.1f}x, {stats.get('mode', '?')})",
        stages or "no work",
        cache,
    ]
    if str(stats.get("compressor_status", "")).startswith("unavailable"):
        parts.append("no compressor model: selection only")
    return "ctxchat: " + " | ".join(parts)


def _as_json(result: Compressed) -> JSONObject:
    return {
        "text": result.text,
        "original_tokens": result.original_tokens,
        "compressed_tokens": result.compressed_tokens,
        "ratio": round(result.ratio, 3),
        "spans": [s.__dict__ for s in result.spans] if result.spans is not None else None,
        "stats": result.stats,
    }


def read_stdin_text() -> str:
    """Standard input as text whatever its bytes: UTF-8 (with or without BOM), else
    Windows-1252, else Latin-1 (which decodes anything) - as files are read."""
    buffer = getattr(sys.stdin, "buffer", None)
    if buffer is None:  # already text (a test's StringIO, an embedding program)
        return sys.stdin.read()
    data = buffer.read()
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def cmd_compress(args: argparse.Namespace) -> int:
    from ctxchat.engines.select.indexing import early_answer_note

    result = _compress_input(args)
    # With a question, what is copied or written is the ready-to-paste prompt (the same
    # text as the TUI's Ctrl+Y); without one there is nothing to ask, so the context alone.
    if args.copy or args.output:
        _export(args, result)

    # The document is data: escapes in it (ESC, OSC 52, C1, bidi) are shown, never obeyed.
    # --copy and --output keep the text exactly as compressed.
    if args.json:
        print(json_safe(_as_json(result)))
    elif not (args.copy or args.output):
        sys.stdout.write(terminal_safe(result.text))
        if not result.text.endswith("\n"):
            sys.stdout.write("\n")
    print(_summary(result), file=sys.stderr)
    note = early_answer_note(result.stats.get("index"))
    if note:
        print(f"ctxchat: {note}", file=sys.stderr)
    return 0


def _compress_input(args: argparse.Namespace) -> Compressed:
    """Compress stdin ('-') or the file at args.path, with a progress bar for a file."""
    from ctxchat.app.config import load_config
    from ctxchat.engines import pipeline

    prune = False if args.no_prune else None
    setup = compressor_setup(load_config(), args)
    if args.path == "-":
        text = read_stdin_text()
        return pipeline.compress_text(
            text, args.query, args.budget, args.rate, prune=prune, compressor_setup=setup
        )
    from ctxchat.app.progress import ProgressBar

    with ProgressBar(Path(args.path).name, unit="pages") as bar:
        return pipeline.compress_file(
            args.path,
            args.query,
            args.budget,
            args.rate,
            password=args.password,
            on_progress=bar.update,
            prune=prune,
            compressor_setup=setup,
        )


def _export(args: argparse.Namespace, result: Compressed) -> None:
    """Write (--output) and/or copy (--copy) the prompt, or the context without a question."""
    from ctxchat.engines.answer.export import export_prompt
    from ctxchat.engines.tokens import count_tokens

    exported = export_prompt(result, args.query) if args.query else result.text
    tokens = count_tokens(exported)
    if args.output:
        try:
            Path(args.output).expanduser().write_text(exported, encoding="utf-8")
        except OSError as exc:
            raise CtxchatError(f"cannot write {args.output}: {exc.strerror or exc}") from exc
        print(terminal_safe(f"ctxchat: wrote {tokens:,} tokens to {args.output}"), file=sys.stderr)
    if args.copy:
        from ctxchat.app.clipboard import copy_text

        copied = copy_text(exported)
        if not copied:
            raise CtxchatError(f"{copied.describe()}; use --output FILE instead")
        print(f"ctxchat: copied {tokens:,} tokens {copied.describe()}", file=sys.stderr)
