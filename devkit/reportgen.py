"""Generated reports for the ingest of real-world structure: section headings set in larger
bold type, ruled tables with a header row, footnotes, two columns, running headers/footers,
and scans of any of it (pages rendered to images, as a scanner makes them).

Every fact a test or benchmark asks about is recorded with its page, so assertions are exact.
Deterministic for a seed. Used by tests/ingest/test_structure.py and benchmarks/ingest_bench.py.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pymupdf

from devkit.docgen import (
    COLUMN_GAP,
    FONT_SIZE,
    FOOTER_Y,
    HEADER_Y,
    LINE_HEIGHT,
    MARGIN,
    PAGE_SIZE,
    PdfReport,
    _wrap,
    filler_sentence,
)

HEADING_SIZES = {1: 16.0, 2: 13.0, 3: 11.0}
NOTE_SIZE = 8.0
ROW_HEIGHT = 16.0


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Footnote:
    text: str


@dataclass(frozen=True)
class Table:
    """A table: `style` is "grid" (every cell ruled), "rules" (lines above and below the
    header and at the end, as in most papers) or "plain" (no lines at all)."""

    caption: str
    header: Sequence[str]
    rows: Sequence[Sequence[str]]
    style: str = "grid"


Block = Heading | Paragraph | Footnote | Table


@dataclass(frozen=True)
class CellFact:
    """A table cell a question asks about: the answer, its row label and column name."""

    question: str
    answer: str
    row: str
    column: str
    page: int
    section: str


@dataclass
class Report:
    path: Path
    pages: list[list[Block]]
    cells: list[CellFact] = field(default_factory=list)
    headings: list[tuple[int, str]] = field(default_factory=list)  # (page, text)


# -- layout ------------------------------------------------------------------------------


class _Writer:
    """Lays blocks out top-down on one page, in one or two columns."""

    def __init__(self, page: pymupdf.Page, columns: int) -> None:
        self.page = page
        self.text = pymupdf.TextWriter(page.rect)
        self.shape = page.new_shape()
        self.regular = pymupdf.Font("helv")
        self.bold = pymupdf.Font("hebo")
        self.columns = columns
        self.col_width = (PAGE_SIZE[0] - 2 * MARGIN - (columns - 1) * COLUMN_GAP) / columns
        self.column = 0
        self.y = MARGIN + FONT_SIZE
        self.bottom = PAGE_SIZE[1] - MARGIN
        self.report = PdfReport(Path("."), 1)

    @property
    def x(self) -> float:
        return MARGIN + self.column * (self.col_width + COLUMN_GAP)

    def _room(self, height: float) -> None:
        if self.y + height > self.bottom:
            self.column += 1
            self.y = MARGIN + FONT_SIZE
            if self.column >= self.columns:
                raise ValueError("page overflows")

    def heading(self, block: Heading) -> None:
        size = HEADING_SIZES[block.level]
        self.y += LINE_HEIGHT * 0.5
        self._room(size * 2)
        self.text.append((self.x, self.y), block.text, font=self.bold, fontsize=size)
        self.y += size * 1.6

    def paragraph(self, block: Paragraph) -> None:
        for line in _wrap(block.text, self.col_width, self.regular, False, self.report):
            self._room(LINE_HEIGHT)
            self.text.append((self.x, self.y), line, font=self.regular, fontsize=FONT_SIZE)
            self.y += LINE_HEIGHT
        self.y += LINE_HEIGHT

    def table(self, block: Table) -> None:
        n_rows = len(block.rows) + 1
        self._room((n_rows + 2) * ROW_HEIGHT)
        self.text.append((self.x, self.y), block.caption, font=self.regular, fontsize=9)
        self.y += LINE_HEIGHT * 0.6
        width = min(self.col_width, 90.0 * len(block.header))
        cell = width / len(block.header)
        top = self.y
        rows = [list(block.header), *map(list, block.rows)]
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                font = self.bold if r == 0 else self.regular
                x = self.x + c * cell + 4
                if c > 0:  # numbers (and their headings) right-aligned, as in real tables
                    x = self.x + (c + 1) * cell - 4 - font.text_length(value, 9.5)
                base = top + r * ROW_HEIGHT + ROW_HEIGHT - 4.5
                self.text.append((x, base), value, font=font, fontsize=9.5)
        bottom = top + n_rows * ROW_HEIGHT
        right = self.x + width
        if block.style == "grid":
            for r in range(n_rows + 1):
                y = top + r * ROW_HEIGHT
                self.shape.draw_line((self.x, y), (right, y))
            for c in range(len(block.header) + 1):
                x = self.x + c * cell
                self.shape.draw_line((x, top), (x, bottom))
        elif block.style == "rules":
            for y in (top, top + ROW_HEIGHT, bottom):
                self.shape.draw_line((self.x, y), (right, y))
        self.y = bottom + LINE_HEIGHT * 1.5

    def footnotes(self, notes: Sequence[Footnote]) -> None:
        y = PAGE_SIZE[1] - MARGIN + 6 - (len(notes) - 1) * 10
        self.shape.draw_line((MARGIN, y - 10), (MARGIN + 120, y - 10))
        for note in notes:
            self.text.append((MARGIN, y), note.text, font=self.regular, fontsize=NOTE_SIZE)
            y += 10

    def finish(self) -> None:
        self.shape.finish(color=(0, 0, 0), width=0.6)
        self.shape.commit()
        self.text.write_text(self.page)


def write_report(
    path: str | Path,
    pages: Sequence[Sequence[Block]],
    *,
    columns: int = 1,
    header: str | None = "Regional Statistics Review",
    footer: str | None = "Page {n}",
) -> Path:
    """A PDF with the given blocks per page; footnotes go to the foot of their page."""
    path = Path(path)
    doc = pymupdf.open()
    font = pymupdf.Font("helv")
    for n, blocks in enumerate(pages, start=1):
        page = doc.new_page(width=PAGE_SIZE[0], height=PAGE_SIZE[1])
        writer = _Writer(page, columns)
        if header:
            writer.text.append((MARGIN, HEADER_Y), header.format(n=n), font=font, fontsize=9)
        if footer:
            text = footer.format(n=n)
            x = (PAGE_SIZE[0] - font.text_length(text, 9)) / 2
            writer.text.append((x, FOOTER_Y), text, font=font, fontsize=9)
        notes = [b for b in blocks if isinstance(b, Footnote)]
        for block in blocks:
            if isinstance(block, Heading):
                writer.heading(block)
            elif isinstance(block, Paragraph):
                writer.paragraph(block)
            elif isinstance(block, Table):
                writer.table(block)
        if notes:
            writer.footnotes(notes)
        writer.finish()
    doc.save(path, garbage=3, deflate=True)
    doc.close()
    return path


# -- reports with tables -----------------------------------------------------------------

_ROW_NAMES = [
    "Amberley", "Brookhaven", "Cold Harbor", "Dunmore", "Eastwick", "Fairholm", "Glenrock",
    "Hollowmere", "Ironbridge", "Juniper Falls", "Kestrel Point", "Larkspur", "Millbrook",
    "Northgate", "Oakridge", "Pinecrest", "Queensbury", "Redcliff", "Stonehaven", "Thornbury",
    "Upton", "Valewood", "Westmarch", "Yarrow", "Ashcombe", "Birchfield", "Calder", "Dovecote",
    "Elmstead", "Foxley", "Greystone", "Harrowgate", "Inverlea", "Kingsmere", "Lindholm",
    "Moorfield", "Netherby", "Orchard Hill", "Primrose", "Ravensworth", "Sandhurst", "Tidewell",
]  # fmt: skip

# (table subject, row kind, columns, question template, unit)
_TOPICS = [
    (
        "Building permits issued",
        "District",
        ["2018", "2019", "2020", "2021"],
        "How many building permits were issued in {row} in {col}?",
    ),
    (
        "Rainfall by station (mm)",
        "Station",
        ["January", "April", "July", "October"],
        "How much rain fell at the {row} station in {col}?",
    ),
    (
        "Department budgets (thousand euro)",
        "Department",
        ["Staff", "Equipment", "Travel", "Training"],
        "What was the {col} budget of the {row} department?",
    ),
    (
        "Visitors to heritage sites",
        "Site",
        ["Q1", "Q2", "Q3", "Q4"],
        "How many visitors did {row} receive in {col}?",
    ),
    (
        "Fish landed by harbour (tonnes)",
        "Harbour",
        ["Cod", "Herring", "Mackerel", "Plaice"],
        "How many tonnes of {col} were landed at {row} harbour?",
    ),
    (
        "Pump station running hours",
        "Pump station",
        ["Spring", "Summer", "Autumn", "Winter"],
        "How many hours did the {row} pump station run in {col}?",
    ),
]
STYLES = ("grid", "rules")


def _number(rng: random.Random, used: set[str]) -> str:
    while True:
        value = f"{rng.randint(1000, 98999):,}"
        if value not in used:
            used.add(value)
            return value


def table_report(
    path: str | Path,
    n_pages: int = 12,
    *,
    seed: int = 11,
    styles: Sequence[str] = STYLES,
    rows_per_table: int = 6,
    questions_per_table: int = 3,
) -> Report:
    """A report of numbered sections; each page has a heading, text and one table."""
    rng = random.Random(seed)
    used: set[str] = set()
    topic_labels: dict[str, set[str]] = {}
    report = Report(Path(path), [])
    for n in range(1, n_pages + 1):
        subject, kind, columns, template = _TOPICS[(n - 1) % len(_TOPICS)]
        section = f"{n}.1 {subject.split(' (')[0]}"
        # Tables on one subject never share a row label: each question has one answer.
        taken = topic_labels.setdefault(subject, set())
        if len(taken) + rows_per_table > len(_ROW_NAMES):
            taken.clear()
        labels = rng.sample([r for r in _ROW_NAMES if r not in taken], rows_per_table)
        taken.update(labels)
        rows = [[label, *(_number(rng, used) for _ in columns)] for label in labels]
        style = styles[(n - 1) % len(styles)]
        intro = " ".join(filler_sentence(rng) for _ in range(4))
        outro = " ".join(filler_sentence(rng) for _ in range(4))
        blocks: list[Block] = [
            Heading(section, 2),
            Paragraph(intro),
            Table(f"Table {n}: {subject}", [kind, *columns], rows, style),
            Paragraph(outro),
        ]
        report.pages.append(blocks)
        report.headings.append((n, section))
        for r, c in rng.sample(
            [(r, c) for r in range(rows_per_table) for c in range(len(columns))],
            questions_per_table,
        ):
            row, col = rows[r][0], columns[c]
            question = template.format(row=row, col=col)
            report.cells.append(CellFact(question, rows[r][c + 1], row, col, n, section))
    write_report(path, report.pages)
    return report


# -- scans -------------------------------------------------------------------------------


def scan_pdf(
    source: str | Path,
    target: str | Path,
    *,
    dpi: int = 200,
    pages: Sequence[int] | None = None,
) -> Path:
    """`source` with its pages (1-based `pages`, default all) replaced by grey images at
    `dpi`: what a scanner makes. Other pages keep their text layer (a mixed PDF)."""
    target = Path(target)
    src = pymupdf.open(source)
    out = pymupdf.open()
    chosen = set(range(1, src.page_count + 1) if pages is None else pages)
    for number, page in enumerate(src, start=1):
        if number in chosen:
            pix = page.get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY)
            new = out.new_page(width=page.rect.width, height=page.rect.height)
            new.insert_image(new.rect, pixmap=pix)
        else:
            out.insert_pdf(src, from_page=number - 1, to_page=number - 1)
    out.save(target, garbage=3, deflate=True)
    out.close()
    src.close()
    return target


def huge_page_pdf(path: str | Path, scanned: bool = False) -> Path:
    """One page of the largest size PDF allows (200 x 200 inches), with text or an image."""
    path = Path(path)
    doc = pymupdf.open()
    page = doc.new_page(width=14400, height=14400)
    if scanned:
        pix = pymupdf.Pixmap(pymupdf.csGRAY, pymupdf.IRect(0, 0, 400, 400), False)
        pix.clear_with(255)
        pix.set_rect(pymupdf.IRect(40, 40, 360, 60), (0,))
        page.insert_image(page.rect, pixmap=pix)
    else:
        page.insert_text((72, 72), "A poster with one line of text.", fontsize=40)
    doc.save(path)
    doc.close()
    return path
