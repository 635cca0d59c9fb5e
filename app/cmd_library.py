"""Library commands: `ctxchat add`, `docs`, `rm` and `doctor`.

Heavy modules (PyMuPDF, torch) are imported inside the handlers so `ctxchat --help` stays fast.
"""

from __future__ import annotations

import argparse
import platform
import sqlite3
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from ctxchat.app.arg_types import positive_int
from ctxchat.engines.errors import CtxchatError
from ctxchat.engines.terminal_text import json_safe, terminal_safe

if TYPE_CHECKING:
    from ctxchat.engines.ingest.library import AddFailure, AddResult
    from ctxchat.engines.results import JSONObject
    from ctxchat.engines.select.indexing import IndexProgress
    from ctxchat.engines.store.db import DocumentRow, Store


def register(sub: argparse._SubParsersAction) -> None:
    _register_add(sub)

    docs = sub.add_parser(
        "docs",
        help="list the library",
        description="List the library, with the share of each document's sentences indexed.",
    )
    docs.add_argument("--json", action="store_true", help="one JSON object per document")
    docs.set_defaults(func=cmd_docs)

    rm = sub.add_parser(
        "rm",
        help="remove a document from the library",
        description="Remove documents by id, name or sha256 prefix (at least 6 characters).",
    )
    rm.add_argument("docs", nargs="+", metavar="DOC", help="id, name or hash prefix")
    rm.set_defaults(func=cmd_rm)

    doctor = sub.add_parser(
        "doctor",
        help="check python, torch device, data dir and models",
        description="Show what is installed, which device runs the models and where data lives.",
    )
    doctor.add_argument("--json", action="store_true", help="one JSON object")
    doctor.set_defaults(func=cmd_doctor)


def _register_add(sub: argparse._SubParsersAction) -> None:
    add = sub.add_parser(
        "add",
        help="add PDFs, EPUBs, XPS, HTML, text, Markdown or notes folders to the library",
        description="Add documents to the library, then index them (embed every sentence, "
        "with a progress bar) so that questions are fast. Indexing is resumable: Ctrl-C keeps "
        "what is done, and `ctxchat add` again finishes it. Folders are searched recursively "
        "(hidden files skipped). Exit code 1 if any file could not be added.",
    )
    add.add_argument("paths", nargs="*", metavar="PATH", help="a file or a folder of notes")
    add.add_argument(
        "--older",
        action="store_true",
        help="also read again every document an older ctxchat read (`ctxchat docs` marks "
        "them with *), from where its file was added",
    )
    add.add_argument("--password", help="password for encrypted PDFs")
    add.add_argument("--json", action="store_true", help="one JSON object per file")
    add.add_argument(
        "--max-pages",
        type=positive_int,
        metavar="N",
        help="refuse documents with more pages (default 5000, or $CTXCHAT_MAX_PAGES)",
    )
    add.add_argument(
        "--max-mb",
        type=positive_int,
        metavar="N",
        help="refuse EPUB/XPS/HTML holding more decompressed text and markup "
        "(default 16, or $CTXCHAT_MAX_MB)",
    )
    add.add_argument(
        "--no-index",
        action="store_true",
        help="only add; questions then start from lexical matches while the index is missing",
    )
    add.set_defaults(func=cmd_add, parser=add)


# -- add ---------------------------------------------------------------------------------


def _print_json(obj: JSONObject) -> None:
    print(json_safe(obj), flush=True)


def _say(text: str, err: bool = False) -> None:
    """Every line about documents goes through the terminal sanitiser (names are data)."""
    print(terminal_safe(text), file=sys.stderr if err else sys.stdout, flush=True)


def cmd_add(args: argparse.Namespace) -> int:
    from ctxchat.app.progress import ProgressBar
    from ctxchat.engines.ingest.library import AddFailure, add_one, expand_paths
    from ctxchat.engines.ingest.readers import ReadLimits
    from ctxchat.engines.store.db import Store

    if not args.paths and not args.older:
        args.parser.error("give a PATH to add, or --older to read old documents again")
    limits = ReadLimits.from_env()
    limits = ReadLimits(args.max_pages or limits.max_pages, args.max_mb or limits.max_mb)
    failures = 0
    with Store() as store:
        older = _older_files(store) if args.older else []
        if args.older and not older and not args.json:
            _say("ctxchat: nothing to read again: no file an older ctxchat read is here", err=True)
        paths = [*args.paths, *older]
        for item in expand_paths(paths):
            if isinstance(item, AddFailure):
                result: AddResult | AddFailure = item
            else:
                with ProgressBar(item.name, unit="pages") as bar:
                    result = add_one(store, item, args.password, bar.update, limits)
            failures += isinstance(result, AddFailure)
            indexed = None
            if args.json and not isinstance(result, AddFailure) and not args.no_index:
                indexed = _index(store, result.document)
            _report_add(result, args.json, indexed)
            if not args.json and not isinstance(result, AddFailure) and not args.no_index:
                _index(store, result.document)
    if failures and not args.json:
        total = "" if failures == 1 else f" ({failures} files)"
        print(f"ctxchat: some files could not be added{total}", file=sys.stderr)
    return 1 if failures else 0


def _older_files(store: Store) -> list[Path]:
    """The files of the documents an older ctxchat read; those whose file is gone are named
    (text added through the API has no file and is left as it is)."""
    from ctxchat.engines.ingest import older_readings

    here, gone = older_readings(store.documents())
    for doc in gone:
        _say(f"ctxchat: {doc.name} (id {doc.id}): its file {doc.path} is gone", err=True)
    return [Path(doc.path) for doc in here]


def _index(store: Store, doc: DocumentRow) -> int:
    """Embed the document's sentences with a progress bar; returns the percent indexed.

    Ctrl-C stops after the chunk in flight, keeping every vector stored so far.
    """
    from ctxchat.app.progress import ProgressBar
    from ctxchat.engines.select.indexing import index_document, index_progress

    if index_progress(store, doc.id).complete:
        return 100
    with ProgressBar(f"indexing {doc.name}", unit="sentences") as bar:
        started: list[int] = []

        def show(p: IndexProgress) -> None:
            if not started:
                started.append(p.done)
                bar.restart_clock(p.done)
            bar.update(p.done, p.total)

        try:
            report = index_document(store, doc.id, on_progress=show)
        except KeyboardInterrupt:
            bar.close()
            done = index_progress(store, doc.id)
            _say(
                f"ctxchat: indexing {doc.name} stopped at {done.percent}%; "
                "`ctxchat add` again resumes it (questions work meanwhile)",
                err=True,
            )
            raise
    p = report.progress
    if p.computed:
        noun = "sentence" if p.computed == 1 else "sentences"
        _say(f"ctxchat: indexed {doc.name}: {p.computed:,} {noun} in {p.seconds:.1f} s", err=True)
    return p.percent


def _report_add(result: AddResult | AddFailure, as_json: bool, indexed: int | None = None) -> None:
    from ctxchat.engines.ingest.library import AddFailure

    if isinstance(result, AddFailure):
        if as_json:
            _print_json(
                {
                    "ok": False,
                    "path": str(result.path),
                    "id": None,
                    "name": result.path.name,
                    "pages": None,
                    "tokens": None,
                    "segments": None,
                    "created": False,
                    "reread": False,
                    "indexed": None,
                    "ocr_pages": None,
                    "warnings": [],
                    "error": result.error,
                }
            )
        else:
            _say(f"error: {result.error}", err=True)
        return
    doc = result.document
    for warning in result.warnings:
        if not as_json:
            _say(f"warning: {warning}", err=True)
    if as_json:
        _print_json(
            {
                "ok": True,
                "path": str(result.path),
                "id": doc.id,
                "name": doc.name,
                "pages": doc.pages,
                "tokens": doc.tokens,
                "segments": doc.segments,
                "created": result.created,
                "reread": result.reread,
                "indexed": indexed,
                "ocr_pages": result.ocr_pages,
                "warnings": list(result.warnings),
                "error": None,
            }
        )
    elif result.created:
        pages = "page" if doc.pages == 1 else "pages"
        ocr = f", {result.ocr_pages:,} read by OCR" if result.ocr_pages else ""
        _say(f"added {doc.name}: {doc.pages:,} {pages}{ocr}, {doc.tokens:,} tokens (id {doc.id})")
    elif result.reread:
        _say(
            f"read again: {doc.name} (id {doc.id}), read by an older ctxchat: "
            f"{doc.pages:,} pages, {doc.tokens:,} tokens"
        )
    else:
        _say(f"already in library: {result.path.name} (id {doc.id}, as {doc.name})")


# -- docs and rm -------------------------------------------------------------------------


def cmd_docs(args: argparse.Namespace) -> int:
    from ctxchat.engines.ingest import read_by_older_reader
    from ctxchat.engines.select.indexing import index_progress
    from ctxchat.engines.store.db import Store

    with Store() as store:
        docs = store.documents()
        indexed = {d.id: index_progress(store, d.id).percent for d in docs}
    older = {d.id for d in docs if read_by_older_reader(d)}
    if args.json:
        for d in docs:
            _print_json(
                {
                    "id": d.id,
                    "name": d.name,
                    "path": d.path,
                    "kind": d.kind,
                    "pages": d.pages,
                    "tokens": d.tokens,
                    "segments": d.segments,
                    "bytes": d.bytes,
                    "sha256": d.sha256,
                    "added": d.added_at,
                    "indexed": indexed[d.id],
                    "reader": d.reader,
                    "older_reader": d.id in older,
                }
            )
        return 0
    if not docs:
        print("The library is empty. Add documents with: ctxchat add PATH")
        return 0
    rows = [
        (
            str(d.id),
            terminal_safe(d.name) + (" *" if d.id in older else ""),
            f"{d.pages:,}",
            f"{d.tokens:,}",
            f"{indexed[d.id]}%",
            d.added_at[:16].replace("T", " "),
        )
        for d in docs
    ]
    head = ("ID", "NAME", "PAGES", "TOKENS", "INDEXED", "ADDED")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    right = {0, 2, 3, 4}  # numbers line up on the right
    for row in [head, *rows]:
        cells = [
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        _say("  ".join(cells).rstrip())
    if older:
        _say("* read by an older ctxchat: `ctxchat add --older` reads them again")
    return 0


def cmd_rm(args: argparse.Namespace) -> int:
    from ctxchat.engines.store.db import Store

    with Store() as store:
        targets = []
        for ref in args.docs:  # resolve every reference before removing anything
            found = store.find_documents(ref)
            if not found:
                raise CtxchatError(f"no document matches {ref!r} (see: ctxchat docs)")
            if len(found) > 1:
                ids = ", ".join(str(d.id) for d in found)
                raise CtxchatError(f"{ref!r} matches {len(found)} documents (ids {ids}): use an id")
            targets.append(found[0])
        for doc in dict((d.id, d) for d in targets).values():
            store.remove_document(doc.id)
            _say(f"removed {doc.name} (id {doc.id})")
    return 0


# -- doctor ------------------------------------------------------------------------------


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    required: bool = True


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _model_check(name: str, find: Callable[[], object], required: bool) -> Check:
    try:
        return Check(name, True, str(find()), required)
    except CtxchatError as exc:
        return Check(name, False, str(exc), required)


def _torch_check() -> Check:
    try:
        import torch

        from ctxchat.engines.models import torch_device

        return Check("torch", True, f"{torch.__version__}, device {torch_device('auto')}")
    except Exception as exc:  # a broken torch install must not break doctor itself
        return Check("torch", False, f"cannot import torch: {exc}")


def _store_check() -> list[Check]:
    from ctxchat.engines.paths import data_dir, db_path
    from ctxchat.engines.store.db import Store

    try:
        checks = [Check("data dir", True, str(data_dir()))]
        with Store() as store:
            checks.append(
                Check(
                    "library",
                    True,
                    f"{db_path()} (schema {store.schema_version}, "
                    f"{len(store.documents())} documents)",
                )
            )
    except CtxchatError as exc:  # doctor reports an unusable data dir, it does not die of it
        return [Check("data dir", False, str(exc))]
    except sqlite3.Error as exc:
        checks.append(Check("library", False, f"the library database cannot be used: {exc}"))
    return checks


def _compressor_check() -> Check:
    try:
        from ctxchat.engines.compress.bundle import default_model_dir
    except ImportError:
        return Check("compressor model", False, "not built yet", required=False)
    return _model_check("compressor model", default_model_dir, required=False)


def _cl100k() -> str:
    from ctxchat.engines.tokens import encoding

    return f"{encoding().name} ({encoding().n_vocab:,} tokens)"


def _minilm() -> str:
    """Where the embedding model is and the number format it runs in here."""
    from ctxchat.engines.models import minilm_dir, torch_device
    from ctxchat.engines.select.embeddings import resolve_embed_precision

    device = torch_device("auto")
    return f"{minilm_dir()} ({resolve_embed_precision(device)} on {device})"


def _gpu_offload_check() -> Check:
    """Whether llama.cpp puts the chat model's layers on a GPU (a CUDA or Metal build)."""
    try:
        import llama_cpp
    except ImportError:
        return Check("GPU offload", False, "llama-cpp-python is not installed", required=False)
    if llama_cpp.llama_supports_gpu_offload():
        return Check("GPU offload", True, "yes: all chat model layers go to the GPU")
    return Check(
        "GPU offload",
        False,
        "no: a CPU-only llama-cpp-python build; for a GPU rebuild it with "
        'CMAKE_ARGS="-DGGML_CUDA=on" (or -DGGML_METAL=on), see README',
        required=False,
    )


def _servers_check() -> Check:
    from ctxchat.engines.answer.servers import candidates, discover

    found = discover()
    if not found:
        ports = ", ".join(str(port) for _, port in candidates()) or "none"
        return Check("local servers", False, f"none answering (ports {ports})", required=False)
    detail = "; ".join(f"{s.name} {s.url} ({', '.join(s.models) or 'no models'})" for s in found)
    return Check("local servers", True, detail, required=False)


def run_checks() -> list[Check]:
    from ctxchat.engines import models

    llama = _version("llama-cpp-python")
    pymupdf = _version("pymupdf")
    return [
        Check(
            "python", sys.version_info >= (3, 10), f"{platform.python_version()} ({sys.executable})"
        ),
        Check("platform", True, platform.platform()),
        Check("ctxchat", True, _version("ctxchat") or "running from a source checkout"),
        _torch_check(),
        *_store_check(),
        Check("pymupdf", pymupdf is not None, pymupdf or "not installed"),
        _model_check("cl100k tokenizer", _cl100k, required=True),
        _model_check("MiniLM embeddings", _minilm, required=True),
        _model_check("SmolLM2 chat model", models.smollm_gguf, required=False),
        Check("llama-cpp-python", llama is not None, llama or "not installed", required=False),
        _gpu_offload_check(),
        _servers_check(),
        _compressor_check(),
    ]


def cmd_doctor(args: argparse.Namespace) -> int:
    checks = run_checks()
    healthy = all(c.ok for c in checks if c.required)
    if args.json:
        _print_json({"ok": healthy, "checks": [c.__dict__ for c in checks]})
    else:
        width = max(len(c.name) for c in checks)
        for c in checks:
            status = "ok" if c.ok else ("MISSING" if c.required else "missing")
            _say(f"{status:8} {c.name.ljust(width)}  {c.detail}")
    return 0 if healthy else 1
