"""Reading documents into pages of text: PDF, EPUB, XPS and HTML through PyMuPDF; plain text
and Markdown directly. Pages are streamed one at a time so memory does not grow with the
document, and every kind of bad input becomes an IngestError with a one-line message.
"""

from __future__ import annotations

import codecs
import hashlib
import os
import re
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pymupdf

from ctxchat.engines.errors import IngestError, NeedsPasswordError
from ctxchat.engines.ingest import code, layout, ocr, paragraphs, superscripts, tables
from ctxchat.engines.ingest.code import FENCE

# Extension -> (kind, PyMuPDF filetype or None for text read by ctxchat itself).
FILE_TYPES: dict[str, tuple[str, str | None]] = {
    ".pdf": ("pdf", "pdf"),
    ".epub": ("epub", "epub"),
    ".xps": ("xps", "xps"),
    ".oxps": ("xps", "xps"),
    ".html": ("html", "html"),
    ".htm": ("html", "html"),
    ".xhtml": ("html", "xhtml"),
    ".txt": ("text", None),
    ".text": ("text", None),
    ".md": ("markdown", None),
    ".markdown": ("markdown", None),
}
SUPPORTED_SUFFIXES = tuple(FILE_TYPES)
# Kinds with a fixed page layout, where running headers and footers exist.
FIXED_LAYOUT = {"pdf", "xps"}
# Plain text has no pages: cut one after this many characters, at a paragraph break.
TEXT_PAGE_CHARS = 3000
# Pages sampled to learn the running headers/footers before the real pass.
HEADER_SAMPLE_PAGES = 80
# Points a block's type may differ from the body's and still be body text (joinable).
BODY_SIZE_SLACK = 0.6
# Text flags: no images, ligatures expanded ("ﬁ" -> "fi"), text outside the page dropped.
_TEXT_FLAGS = pymupdf.TEXT_PRESERVE_WHITESPACE | pymupdf.TEXT_MEDIABOX_CLIP

# MuPDF prints its own complaints about broken files on stderr; ctxchat says it in one line.
pymupdf.TOOLS.mupdf_display_errors(False)
pymupdf.TOOLS.mupdf_display_warnings(False)


@dataclass(frozen=True)
class ReadLimits:
    """What one file may cost before ctxchat refuses it (a 52 KB EPUB can inflate to 20 MB
    of markup and keep MuPDF's layout busy for minutes).

    max_mb bounds the decompressed text a layout engine must lay out: the inflated text
    and markup inside an EPUB/XPS (images and fonts not counted), or an HTML file's size.
    """

    max_pages: int = 5_000
    max_mb: float = 16.0

    @classmethod
    def from_env(cls) -> ReadLimits:
        """The defaults, or CTXCHAT_MAX_PAGES / CTXCHAT_MAX_MB when set."""
        limits = cls()
        try:
            pages = int(os.environ.get(MAX_PAGES_ENV) or limits.max_pages)
            mb = float(os.environ.get(MAX_MB_ENV) or limits.max_mb)
        except ValueError as exc:
            raise IngestError(f"{MAX_PAGES_ENV} / {MAX_MB_ENV} must be numbers: {exc}") from None
        return cls(pages, mb)


MAX_PAGES_ENV = "CTXCHAT_MAX_PAGES"
MAX_MB_ENV = "CTXCHAT_MAX_MB"
# Members of an EPUB/XPS that are not laid out as text.
_MEDIA_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".svg", ".webp", ".bmp", ".tif", ".tiff",
                   ".ttf", ".otf", ".woff", ".woff2", ".odttf", ".mp3", ".mp4", ".ico", ".jxr",
                   ".wdp")  # fmt: skip


@dataclass(frozen=True)
class Page:
    number: int  # 1-based
    text: str
    ocr: bool = False  # the text was read from a scan by OCR
    scanned: bool = False  # a scan without a text layer that could not be read (no OCR here)


@dataclass(frozen=True)
class Document:
    """A readable document. `pages()` streams its text; nothing is held in memory."""

    path: Path
    kind: str
    page_count: int
    sha256: str
    size: int
    _password: str | None = field(default=None, repr=False)
    _encoding: str | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return self.path.name

    def pages(self) -> Iterator[Page]:
        if self.kind in ("text", "markdown"):
            yield from _text_pages(self.path, self._encoding or "utf-8")
        else:
            yield from _layout_pages(self)


def supported_files(folder: str | Path) -> list[Path]:
    """Every supported file under `folder`, recursively, hidden files and folders skipped."""
    root = Path(folder)
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            file = Path(dirpath) / name
            # A named pipe or device in a notes folder would block or never end: skipped.
            if not name.startswith(".") and file.suffix.lower() in FILE_TYPES and file.is_file():
                found.append(file)
    return found


def read_document(
    path: str | Path, password: str | None = None, limits: ReadLimits | None = None
) -> Document:
    """Check `path` and open it as a Document; IngestError says what is wrong otherwise."""
    path = Path(path).expanduser()
    shown = str(path)
    limits = limits or ReadLimits.from_env()
    if not path.exists():
        raise IngestError(f"file not found: {shown}")
    if path.is_dir():
        raise IngestError(f"{shown} is a folder, not a file")
    if not path.is_file():
        # Opening a named pipe waits for a writer forever; a device never ends.
        raise IngestError(f"{shown} is not a regular file (a pipe, socket or device)")
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(4096)
    except OSError as exc:
        raise IngestError(f"cannot read {shown}: {exc.strerror or exc}") from exc
    if size == 0:
        raise IngestError(f"{shown} is empty")
    kind, filetype = _file_type(path, head)
    _check_magic(shown, kind, head)
    _check_text_size(path, kind, size, limits)
    digest = _sha256(path)
    if filetype is None:
        encoding = _text_encoding(path, shown)
        return Document(
            path, kind, _count_text_pages(path, encoding), digest, size, _encoding=encoding
        )
    with _open(path, filetype, password, shown) as doc:
        if kind == "pdf" and doc.is_repaired and not _has_eof_marker(path):
            raise IngestError(f"{shown} is damaged (truncated or corrupt PDF)")
        count = doc.page_count
        if count == 0:
            raise IngestError(f"{shown} has no pages (damaged file?)")
        if count > limits.max_pages:
            raise IngestError(
                f"{shown} has {count:,} pages, over the {limits.max_pages:,}-page limit "
                f"(raise it with --max-pages N or {MAX_PAGES_ENV})"
            )
        _check_has_text(doc, kind, shown)
    return Document(path, kind, count, digest, size, _password=password)


# -- checks ------------------------------------------------------------------------------


def _file_type(path: Path, head: bytes) -> tuple[str, str | None]:
    suffix = path.suffix.lower()
    if suffix in FILE_TYPES:
        return FILE_TYPES[suffix]
    # A PDF saved without its extension is still plainly a PDF.
    if head.startswith(b"%PDF-"):
        return FILE_TYPES[".pdf"]
    supported = ", ".join(SUPPORTED_SUFFIXES)
    shown = suffix or "(no extension)"
    raise IngestError(f"unsupported file type {shown} for {path} (supported: {supported})")


def describe_bytes(head: bytes) -> str:
    """What a file looks like from its first bytes, for 'X is not a PDF (it looks like ...)'."""
    signatures = [
        (b"%PDF-", "a PDF"),
        (b"\x89PNG", "a PNG image"),
        (b"\xff\xd8\xff", "a JPEG image"),
        (b"GIF8", "a GIF image"),
        (b"\x1f\x8b", "a gzip archive"),
        (b"\xd0\xcf\x11\xe0", "an old Microsoft Office file"),
        (b"Rar!", "a RAR archive"),
        (b"7z\xbc\xaf", "a 7-Zip archive"),
    ]
    for magic, what in signatures:
        if head.startswith(magic):
            return what
    if head.startswith(b"PK\x03\x04"):
        if b"application/epub+zip" in head[:100]:
            return "an EPUB"
        if b"word/" in head or b"[Content_Types].xml" in head:
            return "a ZIP-based office file (DOCX, XPS...)"
        return "a ZIP archive"
    lowered = head[:512].lstrip().lower()
    if lowered.startswith((b"<!doctype html", b"<html")):
        return "an HTML page"
    if b"\x00" not in head:
        try:
            head.decode("utf-8")
            return "plain text"
        except UnicodeDecodeError as exc:
            # A multi-byte character cut by the 4096-byte window is still text.
            if exc.start >= len(head) - 4:
                return "plain text"
    return "binary data"


def _check_magic(shown: str, kind: str, head: bytes) -> None:
    if kind == "pdf" and b"%PDF-" not in head[:1024]:
        raise IngestError(f"{shown} is not a PDF (it looks like {describe_bytes(head)})")
    if kind in ("epub", "xps") and not head.startswith(b"PK\x03\x04"):
        label = "an EPUB" if kind == "epub" else "an XPS document"
        raise IngestError(f"{shown} is not {label} (it looks like {describe_bytes(head)})")
    if (
        kind in ("text", "markdown", "html")
        and b"\x00" in head
        and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    ):
        raise IngestError(f"{shown} is not a text file (it looks like {describe_bytes(head)})")


def _check_text_size(path: Path, kind: str, size: int, limits: ReadLimits) -> None:
    """Refuse, before MuPDF inflates anything, text a layout engine would chew on for minutes."""
    if kind in ("epub", "xps"):
        inflated = _inflated_text_bytes(path, int(limits.max_mb * 2**20))
        what = "inflates to"
    elif kind == "html":
        inflated, what = size, "is"
    else:
        return
    if inflated > limits.max_mb * 2**20:
        raise IngestError(
            f"{path} {what} {inflated / 2**20:.1f} MB of text and markup, over the "
            f"{limits.max_mb:g} MB limit (raise it with --max-mb N or {MAX_MB_ENV})"
        )


def _inflated_text_bytes(path: Path, limit: int) -> int:
    """Bytes of text and markup an EPUB/XPS inflates to, counted by inflating them (a ZIP's
    declared sizes can lie) and stopping soon after `limit`."""
    total = 0
    try:
        with zipfile.ZipFile(path) as archive:
            for member in archive.infolist():
                if member.filename.lower().endswith(_MEDIA_SUFFIXES):
                    continue
                with archive.open(member) as data:
                    while chunk := data.read(1 << 20):
                        total += len(chunk)
                        if total > limit:
                            return total
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise IngestError(f"{path} is damaged (not a readable ZIP container: {exc})") from None
    return total


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _has_eof_marker(path: Path) -> bool:
    with path.open("rb") as fh:
        fh.seek(0, os.SEEK_END)
        fh.seek(max(0, fh.tell() - 2048))
        return b"%%EOF" in fh.read()


def _check_has_text(doc: pymupdf.Document, kind: str, shown: str) -> None:
    """Stop at the first page with text: instant for normal files, one pass for scans.

    A PDF of scans passes when OCR can read it (page by page, later); without Tesseract the
    error says how to get it.
    """
    scans = False
    for page in doc:
        if page.get_text("text", flags=_TEXT_FLAGS).strip():
            return
        scans = scans or (kind == "pdf" and bool(page.get_images()))
    if scans:
        if ocr.tessdata_dir() is None:
            raise IngestError(f"{shown} has no text layer (scanned pages?): {ocr.INSTALL_HINT}")
        return
    if kind == "pdf":
        raise IngestError(f"{shown} contains no text (no text layer and no scanned pages)")
    raise IngestError(f"{shown} contains no text")


# A web page's own stylesheet is not loaded, and MuPDF's defaults set a heading that holds
# code (Node's "<h3><code>child_process.execFile(...)</code></h3>") at the body's size and a
# table's header cells in bold, so every "Version | Changes" history table read as the
# section title. Headings are set larger and header cells plain, as a browser shows them.
_HTML_CSS = (
    "h1{font-size:2em} h2{font-size:1.5em} h3{font-size:1.3em} h4{font-size:1.15em} "
    "h5,h6{font-size:1.1em} "
    "h1 *,h2 *,h3 *,h4 *,h5 *,h6 *{font-size:inherit} th{font-weight:normal}"
)


class _open:
    """pymupdf.open with ctxchat's errors, the password check and a guaranteed close."""

    def __init__(self, path: Path, filetype: str, password: str | None, shown: str) -> None:
        try:
            self.doc = pymupdf.open(str(path), filetype=filetype)
        except Exception as exc:  # PyMuPDF raises several types for unreadable files
            kind = "PDF" if filetype == "pdf" else filetype.upper()
            raise IngestError(f"{shown} is damaged (truncated or corrupt {kind})") from exc
        if filetype in ("html", "xhtml"):
            self.doc.apply_css(_HTML_CSS)
        if self.doc.needs_pass:
            if password is None:
                self.doc.close()
                raise NeedsPasswordError(f"{shown} is encrypted: pass --password")
            if not self.doc.authenticate(password):
                self.doc.close()
                raise NeedsPasswordError(f"wrong password for {shown}")

    def __enter__(self) -> pymupdf.Document:
        return self.doc

    def __exit__(self, *exc: object) -> None:
        self.doc.close()


# -- PyMuPDF pages -----------------------------------------------------------------------

# Per line: font size, characters and whether every span is bold (for headings).
_Style = tuple[float, int, bool, int]  # size, characters, bold, monospace() (later: code)
_BOLD = 16  # PyMuPDF span flag
_CODE_HASH = re.compile(r"^(\s{0,3})#", re.MULTILINE)
_HEADING_MARK = re.compile(r"^(#{1,6}) (\S.*)$")
_HEADING_LINE = re.compile(r"^#{1,6} (\S.*)$", re.MULTILINE)
# Words a title's second line can open with: it goes on from the first.
_JOINING_WORDS = frozenset(
    "a an and as at by for from in into of on or the to under with without".split()
)


def _page_dict(page: pymupdf.Page, ocr_data: str | None) -> tuple[dict, bool, bool]:
    """(PyMuPDF's "dict" of the page, read by OCR?, a scan left unread?).

    A page without a text layer but with an image is a scan: OCR reads it when Tesseract's
    data is there (`ocr_data`), else it stays empty and the caller says how to get OCR.
    """
    info = page.get_text("dict", flags=_TEXT_FLAGS)
    has_text = any(
        span["text"].strip()
        for block in info["blocks"]
        for line in block.get("lines", ())
        for span in line["spans"]
    )
    if has_text or not page.get_images():
        return info, False, False
    if ocr_data is None:
        return info, False, True
    try:
        return ocr.ocr_page_dict(page, _TEXT_FLAGS, ocr_data), True, False
    except Exception as exc:  # Tesseract's data unreadable, or MuPDF's OCR writer failing
        raise IngestError(f"OCR failed on page {page.number + 1}: {exc}") from exc


def _page_lines(info: dict) -> tuple[list[layout.Line], list[_Style]]:
    lines: list[layout.Line] = []
    styles: list[_Style] = []
    for b, block in enumerate(info["blocks"]):
        for line in block.get("lines", ()):
            spans = [s for s in line["spans"] if s["text"].strip()]
            text = _word_bullet(line["spans"], superscripts.line_text(line["spans"]))
            text = text.replace("\ufffd", "")
            if text.strip() and spans:
                x0, y0, x1, y1 = line["bbox"]
                lines.append((x0, y0, x1, y1, text, b))
                size = max(s["size"] for s in spans)
                bold = all(s["flags"] & _BOLD or "bold" in s["font"].lower() for s in spans)
                styles.append((size, len(text.strip()), bold, code.monospace(spans)))
    return lines, styles


def _word_bullet(spans: Sequence[dict], text: str) -> str:
    """Word sets a second-level bullet as the letter "o" in Courier New before the item's
    text in another font; read as a word, it joined the item to the line above and opened
    it in lower case. Such an "o" is read as the bullet it shows ("◦")."""
    shown = [s for s in spans if s["text"].strip()]
    if not shown or shown[0]["text"].strip() != "o":
        return text
    alone = len(shown) == 1 and "courier" in shown[0]["font"].lower()  # its own line
    if alone or (len(shown) > 1 and shown[0]["font"] != shown[1]["font"]):
        return text.replace("o", "\u25e6", 1)
    return text


def _block_text(
    block: Sequence[layout.Line],
    styles: dict[int, list[_Style]],
    body: float,
    margin: float | None = None,
) -> str:
    """A block as text: a table as is, a heading as a Markdown heading, code fenced (its
    lines indented from the page's text `margin`), else joined lines."""
    number = block[0][5]
    if number < 0:  # a table, already Markdown
        return block[0][4]
    text = layout.join_lines([ln[4] for ln in block])
    own = styles.get(number, [])
    if own:
        size = max(s[0] for s in own)
        bold = all(s[2] for s in own)
        level = layout.heading_level(text, size, bold, body, len(block))
        if level:
            return "#" * level + " " + " ".join(text.split())
        if all(s[3] for s in own):
            return code.fenced(block, margin)
    # A line of the page that starts with "#" is code ("# a comment" in an example), not a
    # heading: only the headings found above are written as Markdown ones.
    return _CODE_HASH.sub(r"\1\\#", text)


def _page_text(info: dict, running: layout.RunningLines, page: int, learn: bool = False) -> str:
    """One page's text in reading order: running headers/footers dropped, tables as Markdown
    tables, headings marked as Markdown headings, hyphenated words joined.

    With `learn`, the page's edge lines are counted first (scans are not in the sample pass:
    their running headers are learnt as OCR reads them, from the third scanned page on).
    """
    lines, styles = _page_lines(info)
    if learn:
        running.observe(lines)
    keep = running.keep(lines, page)
    lines, styles = [lines[i] for i in keep], [styles[i] for i in keep]
    # The fourth field of a style said how much of the line is monospace; now: is it code.
    is_code = code.code_lines(lines, [s[3] for s in styles])
    styles = [(*s[:3], c) for s, c in zip(styles, is_code, strict=True)]
    lines = code.split_code_runs(lines, is_code)
    # Rows of code beside their comments ("open example1.dat  # Open the data file") line
    # up like a table's cells; set all in a monospace font, they are a code example.
    found = [t for t in tables.find_tables(lines) if not all(is_code[i] for i in t.lines)]
    in_table = frozenset().union(*(t.lines for t in found))
    body = layout.body_size((s[0], s[1]) for s in styles)
    by_block: dict[int, list[_Style]] = {}
    for i, ln in enumerate(lines):
        if i not in in_table:
            by_block.setdefault(ln[5], []).append(styles[i])
    blocks: list[Sequence[layout.Line]] = layout.group_blocks(
        ln for i, ln in enumerate(lines) if i not in in_table
    )
    for k, table in enumerate(found):
        blocks.append([(*table.bbox, tables.markdown_table(table.rows), -1 - k)])
    ordered = paragraphs.join_paragraph_blocks(
        layout.reading_order(blocks), lambda b: _is_plain(b, by_block, body)
    )
    ordered = code.join_code_blocks(ordered, lambda b: _is_code(b, by_block, body))
    margin = min((ln[0] for ln in lines if ln[4].strip()), default=None)
    texts = [_block_text(b, by_block, body, margin) for b in ordered]
    return "\n\n".join(join_split_headings(texts))


def _is_plain(block: Sequence[layout.Line], styles: dict[int, list[_Style]], body: float) -> bool:
    """Body text: not a table, set in the body's size, neither bold all through nor a
    heading by its type (a caption or a footnote in smaller type is not plain)."""
    own = styles.get(block[0][5], [])
    if block[0][5] < 0 or not own:
        return False
    size = max(s[0] for s in own)
    bold = all(s[2] for s in own)
    if abs(size - body) > BODY_SIZE_SLACK or bold or all(s[3] for s in own):
        return False
    text = layout.join_lines([ln[4] for ln in block])
    return not layout.heading_level(text, size, bold, body, len(block))


def _is_code(block: Sequence[layout.Line], styles: dict[int, list[_Style]], body: float) -> bool:
    """Set in a monospace font all through, and no heading by its type."""
    own = styles.get(block[0][5], [])
    if block[0][5] < 0 or not own or not all(s[3] for s in own):
        return False
    text = layout.join_lines([ln[4] for ln in block])
    return not layout.heading_level(
        text, max(s[0] for s in own), all(s[2] for s in own), body, len(block)
    )


def join_split_headings(parts: Sequence[str]) -> list[str]:
    """A title set over two blocks ("# Appendix A Essential and useful other programs", then
    "# under a Unix-alike") is one heading: a heading of the same level that follows another
    directly and opens with a lower-case joining word goes on it (else it replaced the
    title). Other lower-case headings stay apart: manuals title sections with function
    names ("asn1_parser2tree" under "4.1 ASN.1 schema functions")."""
    out: list[str] = []
    for part in parts:
        this = _HEADING_MARK.match(part)
        before = _HEADING_MARK.match(out[-1]) if out else None
        if this and before and this[1] == before[1] and this[2].split()[0] in _JOINING_WORDS:
            out[-1] = f"{out[-1]} {this[2]}"
        else:
            out.append(part)
    return out


def _learn_running_lines(doc: pymupdf.Document, running: layout.RunningLines) -> None:
    """First pass over a sample: learn which edge lines repeat on most pages."""
    count = doc.page_count
    step = max(1, count / HEADER_SAMPLE_PAGES)
    for k in sorted({int(i * step) for i in range(min(count, HEADER_SAMPLE_PAGES))}):
        info = doc[k].get_text("dict", flags=_TEXT_FLAGS)
        running.observe(_page_lines(info)[0])


def _layout_pages(document: Document) -> Iterator[Page]:
    shown = str(document.path)
    filetype = FILE_TYPES.get(document.path.suffix.lower(), FILE_TYPES[".pdf"])[1] or "pdf"
    ocr_data = ocr.tessdata_dir() if document.kind == "pdf" else None
    with _open(document.path, filetype, document._password, shown) as doc:
        running, scanned_running = layout.RunningLines(), layout.RunningLines()
        try:
            if document.kind in FIXED_LAYOUT:
                _learn_running_lines(doc, running)
            for index in range(doc.page_count):
                info, was_ocr, unread = _page_dict(doc[index], ocr_data)
                if was_ocr:
                    text = _page_text(info, scanned_running, index + 1, learn=True)
                else:
                    text = _page_text(info, running, index + 1)
                titles = [m[1] for m in _HEADING_LINE.finditer(text)]
                (scanned_running if was_ocr else running).note_titles(titles)
                yield Page(index + 1, text, ocr=was_ocr, scanned=unread)
        except IngestError as exc:
            if str(exc).startswith("OCR failed"):
                raise IngestError(f"{shown}: {exc}") from exc
            raise
        except Exception as exc:  # a page that MuPDF cannot parse half-way through
            raise IngestError(f"{shown} is damaged (cannot read all pages: {exc})") from exc


# -- plain text and Markdown -------------------------------------------------------------


def _text_encoding(path: Path, shown: str) -> str:
    """UTF-8 (with or without BOM), UTF-16 with a BOM, else Windows-1252, else Latin-1."""
    with path.open("rb") as fh:
        start = fh.read(4)
    if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    else:
        candidates = ["utf-8-sig", "cp1252"]
    for encoding in candidates:
        decoder = codecs.getincrementaldecoder(encoding)()
        seen_text = False
        try:
            with path.open("rb") as fh:
                while chunk := fh.read(1 << 20):
                    seen_text = seen_text or bool(decoder.decode(chunk).strip())
                seen_text = seen_text or bool(decoder.decode(b"", final=True).strip())
        except UnicodeDecodeError:
            continue
        if not seen_text:
            raise IngestError(f"{shown} is empty")
        return encoding
    return "latin-1"  # decodes any byte sequence


def _text_pages(path: Path, encoding: str) -> Iterator[Page]:
    """Pages of ~TEXT_PAGE_CHARS characters, cut at a blank line (or at a form feed)."""
    number = 1
    buf: list[str] = []
    size = 0
    in_example = False  # inside a fenced code block, which a blank line does not end
    with path.open(encoding=encoding, errors="replace", newline=None) as fh:
        for raw in fh:
            parts = raw.split("\f")
            for i, line in enumerate(parts):
                if i > 0:
                    yield Page(number, layout.join_lines_text("".join(buf), FENCE))
                    number, buf, size = number + 1, [], 0
                buf.append(line)
                size += len(line)
                in_example ^= line.lstrip().startswith(FENCE)
                # Break at a paragraph end; a text with no blank lines breaks at any line.
                at_end = not line.strip() and not in_example
                if (size >= TEXT_PAGE_CHARS and at_end) or size >= 2 * TEXT_PAGE_CHARS:
                    yield Page(number, layout.join_lines_text("".join(buf), FENCE))
                    number, buf, size = number + 1, [], 0
    if buf and "".join(buf).strip():
        yield Page(number, layout.join_lines_text("".join(buf), FENCE))


def _count_text_pages(path: Path, encoding: str) -> int:
    return sum(1 for _ in _text_pages(path, encoding))
