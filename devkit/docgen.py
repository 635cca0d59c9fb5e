"""Real test documents made on the fly: PDFs laid out line by line with PyMuPDF (headers,
footers, hyphenation, two columns, encryption, damage, scans), EPUB, HTML, text, Markdown.

Other test modules and benchmarks import these: `from devkit.docgen import long_pdf`.
Everything is deterministic (seeded), so tests can assert on exact facts and pages.
"""

from __future__ import annotations

import random
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pymupdf

PAGE_SIZE = (595.0, 842.0)  # A4 in points
MARGIN = 72.0
FONT_SIZE = 10.5
LINE_HEIGHT = 13.0
COLUMN_GAP = 24.0
HEADER_Y = 40.0
FOOTER_Y = PAGE_SIZE[1] - 30.0


@dataclass
class PdfReport:
    """What write_pdf laid out, for assertions: words split across lines, pages written."""

    path: Path
    pages: int
    hyphenated: list[str] = field(default_factory=list)


_WIDTHS: dict[str, float] = {}


def _width(text: str, font: pymupdf.Font) -> float:
    """Text width in points, cached per word (long PDFs repeat their words a lot)."""
    width = _WIDTHS.get(text)
    if width is None:
        width = _WIDTHS[text] = font.text_length(text, FONT_SIZE)
    return width


def _wrap(
    text: str, width: float, font: pymupdf.Font, hyphenate: bool, report: PdfReport
) -> list[str]:
    """Greedy line breaking; with `hyphenate`, long words at a line end are split with '-'."""
    space = _width(" ", font)
    lines: list[str] = []
    line: list[str] = []
    used = 0.0
    for word in text.split():
        extra = _width(word, font) + (space if line else 0.0)
        if used + extra <= width:
            line.append(word)
            used += extra
            continue
        core = word.rstrip(".,;:!?")
        if hyphenate and line and len(core) >= 8 and core.isalpha() and core.islower():
            # Split as late as fits, keeping at least three letters on each side.
            for cut in range(len(core) - 3, 2, -1):
                if used + space + _width(word[:cut] + "-", font) <= width:
                    lines.append(" ".join([*line, word[:cut] + "-"]))
                    report.hyphenated.append(core)
                    line, used = [word[cut:]], _width(word[cut:], font)
                    break
            else:
                lines.append(" ".join(line))
                line, used = [word], _width(word, font)
            continue
        if line:
            lines.append(" ".join(line))
        line, used = [word], _width(word, font)
    if line:
        lines.append(" ".join(line))
    return lines


def write_pdf(
    path: str | Path,
    pages: Sequence[Sequence[str]],
    *,
    columns: int = 1,
    header: str | None = None,
    footer: str | None = "Page {n}",
    hyphenate: bool = False,
) -> PdfReport:
    """A PDF with one list of paragraphs per page, laid out line by line.

    `header`/`footer` may use {n} for the page number. With columns=2, paragraphs fill the
    left column, then the right one. Raises ValueError if a page's text does not fit.
    """
    path = Path(path)
    report = PdfReport(path, len(pages))
    font = pymupdf.Font("helv")
    doc = pymupdf.open()
    width, height = PAGE_SIZE
    col_width = (width - 2 * MARGIN - (columns - 1) * COLUMN_GAP) / columns
    for n, paragraphs in enumerate(pages, start=1):
        page = doc.new_page(width=width, height=height)
        writer = pymupdf.TextWriter(page.rect)
        if header:
            writer.append((MARGIN, HEADER_Y), header.format(n=n), font=font, fontsize=9)
        if footer:
            text = footer.format(n=n)
            x = (width - font.text_length(text, 9)) / 2
            writer.append((x, FOOTER_Y), text, font=font, fontsize=9)
        column, y = 0, MARGIN + FONT_SIZE
        for paragraph in paragraphs:
            for line in _wrap(paragraph, col_width, font, hyphenate, report):
                if y > height - MARGIN:
                    column, y = column + 1, MARGIN + FONT_SIZE
                    if column >= columns:
                        raise ValueError(f"page {n} of {path.name} overflows")
                x = MARGIN + column * (col_width + COLUMN_GAP)
                writer.append((x, y), line, font=font, fontsize=FONT_SIZE)
                y += LINE_HEIGHT
            y += LINE_HEIGHT  # a blank line between paragraphs
        writer.write_text(page)
    doc.save(path, garbage=3, deflate=True)
    doc.close()
    return report


# -- a long document with facts to find ----------------------------------------------------

_SUBJECTS = [
    "The archive",
    "The committee",
    "The northern station",
    "The survey team",
    "The harbour office",
    "The research vessel",
    "The valley council",
    "The observatory",
    "The library board",
    "The river authority",
]
_VERBS = [
    "reviewed",
    "recorded",
    "measured",
    "discussed",
    "catalogued",
    "inspected",
    "summarised",
    "compared",
    "documented",
    "considered",
]
_OBJECTS = [
    "the seasonal rainfall figures",
    "the condition of the old bridges",
    "the migration of coastal birds",
    "the maintenance schedule for pumps",
    "the transportation infrastructure",
    "several administrative procedures",
    "the communication equipment",
    "the reconstruction of storehouses",
    "the distribution of fishing permits",
    "the temperature observations",
]
_TAILS = [
    "in considerable detail",
    "without reaching a conclusion",
    "for the third time",
    "with unusual thoroughness",
    "according to the established methodology",
    "before the winter meeting",
    "during the extraordinary session",
    "after lengthy deliberation",
]
_ITEMS = [
    "vault code",
    "signal frequency",
    "locker number",
    "permit serial",
    "beacon code",
    "reference number",
    "cabinet number",
    "access code",
    "batch number",
    "tank number",
]
_PLACES = [
    "Amberley",
    "Brookhaven",
    "Cold Harbor",
    "Dunmore",
    "Eastwick",
    "Fairholm",
    "Glenrock",
    "Hollowmere",
    "Ironbridge",
    "Juniper Falls",
    "Kestrel Point",
    "Larkspur",
]


@dataclass(frozen=True)
class Fact:
    """A sentence planted on a page, with a question it answers and the answer string."""

    question: str
    answer: str
    page: int
    sentence: str


def sectioned_pdf(path: str | Path, sections: Sequence[tuple[str, str]]) -> Path:
    """Bold headings over their paragraphs on A4 pages, as a book sets them (PyMuPDF Story)."""
    body = "".join(f"<p><b>{head}</b></p><p>{text}</p>" for head, text in sections)
    return story_pdf(path, body, "* {font-family: sans-serif; font-size: 10.5pt;}")


def story_pdf(path: str | Path, html: str, css: str) -> Path:
    """`html` laid out on as many A4 pages as it takes (PyMuPDF Story)."""
    writer = pymupdf.DocumentWriter(str(path))
    story = pymupdf.Story(html=html, user_css=css)
    more = True
    while more:
        device = writer.begin_page(pymupdf.paper_rect("a4"))
        more, _ = story.place(pymupdf.Rect(72, 72, 523, 770))
        story.draw(device)
        writer.end_page()
    writer.close()
    return Path(path)


def filler_sentence(rng: random.Random) -> str:
    return (
        f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)} {rng.choice(_TAILS)}."
    )


def long_document(
    n_pages: int, *, seed: int = 7, facts_every: int = 5, paragraphs_per_page: int = 5
) -> tuple[list[list[str]], list[Fact]]:
    """Pages of filler paragraphs with a unique fact planted every `facts_every` pages."""
    rng = random.Random(seed)
    pages: list[list[str]] = []
    facts: list[Fact] = []
    used: set[tuple[str, str]] = set()
    for n in range(1, n_pages + 1):
        paragraphs = [
            " ".join(filler_sentence(rng) for _ in range(4)) for _ in range(paragraphs_per_page)
        ]
        if n % facts_every == 1 or facts_every == 1:
            while True:
                item, place = rng.choice(_ITEMS), rng.choice(_PLACES)
                if (item, place) not in used or len(used) >= len(_ITEMS) * len(_PLACES):
                    break
            used.add((item, place))
            answer = str(rng.randint(1000, 99999))
            sentence = f"The {item} of the {place} depot is {answer}."
            facts.append(Fact(f"What is the {item} of the {place} depot?", answer, n, sentence))
            paragraphs[rng.randrange(len(paragraphs))] += " " + sentence
        pages.append(paragraphs)
    return pages, facts


def long_pdf(
    path: str | Path,
    n_pages: int = 40,
    *,
    seed: int = 7,
    facts_every: int = 5,
    header: str | None = "Annual Report of the Coastal Districts",
    footer: str | None = "Page {n}",
    hyphenate: bool = True,
) -> tuple[PdfReport, list[Fact]]:
    """A long multi-page PDF with facts, a running header and footer, and hyphenated words."""
    pages, facts = long_document(n_pages, seed=seed, facts_every=facts_every)
    report = write_pdf(path, pages, header=header, footer=footer, hyphenate=hyphenate)
    return report, facts


# -- special PDFs ------------------------------------------------------------------------


def two_column_pdf(
    path: str | Path, left: Sequence[str], right: Sequence[str], title: str | None = None
) -> Path:
    """One page: an optional full-width title, then `left` paragraphs in the left column and
    `right` paragraphs in the right column (written right column first, to prove that the
    reading order comes from the layout and not from the order of the text in the file)."""
    path = Path(path)
    font = pymupdf.Font("helv")
    doc = pymupdf.open()
    width, height = PAGE_SIZE
    page = doc.new_page(width=width, height=height)
    writer = pymupdf.TextWriter(page.rect)
    col_width = (width - 2 * MARGIN - COLUMN_GAP) / 2
    top = MARGIN + FONT_SIZE
    if title:
        writer.append((MARGIN, top), title, font=font, fontsize=14)
        top += 3 * LINE_HEIGHT
    report = PdfReport(path, 1)
    for column, paragraphs in ((1, right), (0, left)):
        y = top
        x = MARGIN + column * (col_width + COLUMN_GAP)
        for paragraph in paragraphs:
            for line in _wrap(paragraph, col_width, font, False, report):
                writer.append((x, y), line, font=font, fontsize=FONT_SIZE)
                y += LINE_HEIGHT
            y += LINE_HEIGHT
    writer.write_text(page)
    doc.save(path)
    doc.close()
    return path


def encrypted_pdf(
    path: str | Path,
    password: str = "s3cret",
    text: str = "The treasure is buried under the old oak tree.",
) -> Path:
    path = Path(path)
    write_pdf(path, [[text]], footer=None)
    doc = pymupdf.open(path)
    data = doc.tobytes(
        encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw=password, owner_pw=password + "-owner"
    )
    doc.close()
    path.write_bytes(data)
    return path


def truncated_pdf(path: str | Path, keep: float = 0.5) -> Path:
    """A real multi-page PDF cut short, as an interrupted download leaves it."""
    path = Path(path)
    long_pdf(path, 6, hyphenate=False)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def garbage_pdf(path: str | Path, size: int = 4000, seed: int = 3) -> Path:
    """A PDF header followed by noise: corrupt beyond repair."""
    rng = random.Random(seed)
    Path(path).write_bytes(b"%PDF-1.7\n" + bytes(rng.randrange(256) for _ in range(size)))
    return Path(path)


def scanned_pdf(path: str | Path, pages: int = 2) -> Path:
    """Pages that carry only an image (what a scanner makes): no text layer."""
    path = Path(path)
    doc = pymupdf.open()
    pix = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 120, 160), False)
    pix.set_rect(pix.irect, (235, 230, 220))
    pix.set_rect(pymupdf.IRect(10, 20, 110, 30), (20, 20, 20))  # a "line of print"
    for _ in range(pages):
        page = doc.new_page(width=PAGE_SIZE[0], height=PAGE_SIZE[1])
        page.insert_image(page.rect, pixmap=pix)
    doc.save(path)
    doc.close()
    return path


# -- other formats -----------------------------------------------------------------------


def epub(
    path: str | Path, chapters: Sequence[tuple[str, Sequence[str]]], title: str = "Test Book"
) -> Path:
    """A minimal valid EPUB 2: one XHTML file per (chapter title, paragraphs)."""
    path = Path(path)
    manifest, spine = [], []
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        zf.writestr(
            "META-INF/container.xml",
            '<?xml version="1.0"?><container version="1.0" '
            'xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
            '<rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>'
            "</rootfiles></container>",
        )
        for i, (heading, paragraphs) in enumerate(chapters, start=1):
            body = "".join(f"<p>{p}</p>" for p in paragraphs)
            zf.writestr(
                f"OEBPS/ch{i}.xhtml",
                '<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml">'
                f"<head><title>{heading}</title></head><body><h1>{heading}</h1>{body}</body></html>",
            )
            manifest.append(
                f'<item id="ch{i}" href="ch{i}.xhtml" media-type="application/xhtml+xml"/>'
            )
            spine.append(f'<itemref idref="ch{i}"/>')
        zf.writestr(
            "OEBPS/content.opf",
            '<?xml version="1.0" encoding="utf-8"?><package xmlns="http://www.idpf.org/2007/opf" '
            'version="2.0" unique-identifier="id"><metadata '
            'xmlns:dc="http://purl.org/dc/elements/1.1/">'
            f'<dc:title>{title}</dc:title><dc:identifier id="id">test-{len(chapters)}'
            "</dc:identifier><dc:language>en</dc:language></metadata>"
            f"<manifest>{''.join(manifest)}</manifest><spine>{''.join(spine)}</spine></package>",
        )
    return path


def html(path: str | Path, title: str, paragraphs: Sequence[str]) -> Path:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    Path(path).write_text(
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head>"
        f"<body><h1>{title}</h1>{body}</body></html>",
        encoding="utf-8",
    )
    return Path(path)


def markdown_notes(path: str | Path, sections: Sequence[tuple[str, Sequence[str]]]) -> Path:
    """Markdown with '## heading' sections of paragraphs."""
    parts = []
    for heading, paragraphs in sections:
        parts.append(f"## {heading}")
        parts.extend(paragraphs)
    Path(path).write_text("\n\n".join(parts) + "\n", encoding="utf-8")
    return Path(path)
