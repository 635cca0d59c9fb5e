"""Adding files to the library: read and segment (before the write lock), then one transaction.

A document is identified by the sha256 of its bytes, so adding the same content twice (under
any name) reuses the stored copy, unless an older ctxchat read it (READER_VERSION): then the
file is read again into the same document. A file that fails half-way leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ctxchat.engines.errors import CtxchatError, IngestError
from ctxchat.engines.ingest import READER_VERSION, read_by_older_reader
from ctxchat.engines.ingest.ocr import INSTALL_HINT
from ctxchat.engines.ingest.readers import (
    Document,
    Page,
    ReadLimits,
    read_document,
    supported_files,
)
from ctxchat.engines.ingest.segment import segment_pages
from ctxchat.engines.store.db import DocumentRow, NewSegment, Store

# on_progress(pages_done, pages_total)
ProgressFn = Callable[[int, int], None]


@dataclass(frozen=True)
class AddResult:
    path: Path
    document: DocumentRow
    created: bool  # False: the same content was already in the library
    pages: int
    ocr_pages: int = 0  # pages read from scans by OCR
    warnings: tuple[str, ...] = ()  # e.g. scanned pages left out for want of OCR
    reread: bool = False  # already there, read by an older reader: read again in place


@dataclass
class _PageTally:
    ocr: int = 0
    unread: list[int] = field(default_factory=list)  # scans that OCR could not read here

    def warnings(self, doc: Document) -> tuple[str, ...]:
        if not self.unread:
            return ()
        shown = ", ".join(map(str, self.unread[:8])) + (", ..." if len(self.unread) > 8 else "")
        return (f"{doc.path}: scanned pages left out (p. {shown}): {INSTALL_HINT}",)


@dataclass(frozen=True)
class AddFailure:
    path: Path
    error: str


def add_path(
    store: Store,
    path: str | Path,
    password: str | None = None,
    on_progress: ProgressFn | None = None,
    limits: ReadLimits | None = None,
) -> AddResult:
    """Add one file. Raises IngestError (or another CtxchatError) with a one-line reason.

    `limits` (pages, decompressed size) default to ReadLimits.from_env()."""
    doc = read_document(path, password, limits)
    existing = store.document_by_hash(doc.sha256)
    if existing is not None and not read_by_older_reader(existing):
        return AddResult(doc.path, existing, False, existing.pages)
    tally = _PageTally()
    if existing is not None:
        row = store.replace_segments(
            existing.id,
            path=str(doc.path.resolve()),
            segments=_segments(doc, on_progress, tally),
            reader=READER_VERSION,
        )
        created = False
    else:
        row, created = store.add_document(
            sha256=doc.sha256,
            name=doc.name,
            path=str(doc.path.resolve()),
            kind=doc.kind,
            size=doc.size,
            segments=_segments(doc, on_progress, tally),
            reader=READER_VERSION,
        )
    reread = existing is not None
    if (created or reread) and row.pages != doc.page_count:
        # Trailing blank pages have no segments; the page count is the document's own.
        store.set_document_pages(row.id, doc.page_count)
        row = store.document(row.id) or row
    warnings = tally.warnings(doc)
    return AddResult(doc.path, row, created, doc.page_count, tally.ocr, warnings, reread)


def _segments(
    doc: Document, on_progress: ProgressFn | None, tally: _PageTally
) -> Iterator[NewSegment]:
    count = 0
    for segment in segment_pages(_reported(doc, on_progress, tally)):
        count += 1
        yield segment
    if count == 0:
        # Raised while the store spools segments, before its transaction: nothing is written.
        found = " (OCR found none on its scanned pages)" if tally.ocr else ""
        raise IngestError(f"{doc.path} contains no text{found}")


def _reported(doc: Document, on_progress: ProgressFn | None, tally: _PageTally) -> Iterator[Page]:
    for page in doc.pages():
        tally.ocr += page.ocr
        if page.scanned:
            tally.unread.append(page.number)
        yield page
        if on_progress is not None:
            on_progress(page.number, doc.page_count)


def expand_paths(paths: Iterable[str | Path]) -> Iterator[Path | AddFailure]:
    """Files to add: files as given, folders expanded to their supported files."""
    for raw in paths:
        path = Path(raw).expanduser()
        if path.is_dir():
            files = supported_files(path)
            if not files:
                yield AddFailure(path, f"no supported files in folder {path}")
            yield from files
        else:
            yield path


def add_one(
    store: Store,
    path: Path,
    password: str | None = None,
    on_progress: ProgressFn | None = None,
    limits: ReadLimits | None = None,
) -> AddResult | AddFailure:
    """add_path, with a failure returned instead of raised (for adding many files)."""
    try:
        return add_path(store, path, password, on_progress, limits)
    except CtxchatError as exc:
        return AddFailure(path, str(exc))


def add_paths(
    store: Store,
    paths: Iterable[str | Path],
    password: str | None = None,
    on_progress: ProgressFn | None = None,
) -> Iterator[AddResult | AddFailure]:
    """Add files and folders (recursively), one result or failure per file; never stops early."""
    for item in expand_paths(paths):
        yield item if isinstance(item, AddFailure) else add_one(store, item, password, on_progress)


def open_document(
    store: Store,
    ref: str | Path,
    password: str | None = None,
    on_progress: ProgressFn | None = None,
) -> AddResult:
    """The document `ref` names: the file at that path (added first if its content is new),
    or, when there is no such file, a library document by id, name or sha256 prefix (as
    `ctxchat docs` lists them), so a document can be asked about after its file moved."""
    if not Path(ref).expanduser().exists():
        found = store.find_documents(str(ref))
        if len(found) > 1:
            ids = ", ".join(str(d.id) for d in found)
            raise IngestError(
                f"{ref!r} matches {len(found)} library documents (ids {ids}): use an id"
            )
        if found:
            doc = found[0]
            return AddResult(Path(doc.path or doc.name), doc, False, doc.pages or 0)
        raise IngestError(
            f"file not found: {Path(ref).expanduser()} (nor a library document with that id, "
            "name or hash: see ctxchat docs)"
        )
    return add_path(store, ref, password, on_progress)


def ensure_document(store: Store, path: str | Path, password: str | None = None) -> DocumentRow:
    """The library's row for the file at `path` (or the library document it names, see
    open_document), adding the file first if its content is new."""
    return open_document(store, path, password).document
