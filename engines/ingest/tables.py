"""Tables on a fixed-layout page, found from where the text sits, written as Markdown.

A table is a run of at least MIN_ROWS visual rows (text lines sharing a baseline) that each
hold several cells separated by wide gaps, in columns that line up. This works the same for
fully ruled grids, tables with only a few horizontal rules (most papers) and tables with no
lines at all, and costs nothing on pages without one: it reads the lines that text
extraction already produced (PyMuPDF's find_tables was measured 20-40x slower per page and
misses tables without vertical rules; see benchmarks/README.md).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ctxchat.engines.ingest.layout import Line

MIN_ROWS = 3
# Cells are separated by at least this many points (a word space is about 3).
MIN_CELL_GAP = 9.0
# A two-cell row counts only when both cells are short: two columns of running text also
# put two lines side by side.
SHORT_CELL = 0.3
# Rows further apart than this many row heights end the table.
MAX_ROW_GAP = 1.9
# A column name is short and ends no sentence (see _is_data_row).
HEADER_WORDS = 6
_ENDS_SENTENCE = re.compile(r"[a-z][.!?]$")


@dataclass(frozen=True)
class TableRegion:
    bbox: tuple[float, float, float, float]
    rows: list[list[str]]  # the first row is the header
    lines: frozenset[int]  # indices of the page lines the table is made of


def _visual_rows(lines: Sequence[Line]) -> list[list[int]]:
    """Line indices grouped into rows: lines whose vertical middles nearly coincide."""
    order = sorted(range(len(lines)), key=lambda i: ((lines[i][1] + lines[i][3]) / 2, lines[i][0]))
    rows: list[list[int]] = []
    centre = None
    for i in order:
        x0, y0, x1, y1 = lines[i][:4]
        mid = (y0 + y1) / 2
        if rows and centre is not None and abs(mid - centre) <= max(2.0, (y1 - y0) * 0.3):
            rows[-1].append(i)
        else:
            rows.append([i])
            centre = mid
    return [sorted(r, key=lambda i: lines[i][0]) for r in rows]


def _cells(row: list[int], lines: Sequence[Line]) -> list[list[int]]:
    """Lines of one visual row merged into cells where the gap between them is small."""
    cells: list[list[int]] = [[row[0]]]
    for i in row[1:]:
        if lines[i][0] - lines[cells[-1][-1]][2] >= MIN_CELL_GAP:
            cells.append([i])
        else:
            cells[-1].append(i)
    return cells


def _is_cell_row(cells: list[list[int]], lines: Sequence[Line], width: float) -> bool:
    if len(cells) >= 3:
        return True
    if len(cells) == 2:
        return all(lines[c[-1]][2] - lines[c[0]][0] <= SHORT_CELL * width for c in cells)
    return False


def _columns(body: list[list[list[int]]], lines: Sequence[Line]) -> list[tuple[float, float]]:
    """Column x-ranges: the union of the body cells' extents, merged where they overlap."""
    spans = sorted((lines[c[0]][0], lines[c[-1]][2]) for cells in body for c in cells)
    columns: list[list[float]] = []
    for x0, x1 in spans:
        if columns and x0 <= columns[-1][1]:
            columns[-1][1] = max(columns[-1][1], x1)
        else:
            columns.append([x0, x1])
    return [(a, b) for a, b in columns]


def _column_of(x0: float, x1: float, columns: list[tuple[float, float]]) -> int:
    """The column a cell belongs to: most overlap, else the nearest centre."""
    overlaps = [min(x1, b) - max(x0, a) for a, b in columns]
    best = max(range(len(columns)), key=lambda k: overlaps[k])
    if overlaps[best] > 0:
        return best
    mid = (x0 + x1) / 2
    return min(range(len(columns)), key=lambda k: abs((columns[k][0] + columns[k][1]) / 2 - mid))


def _region(run: list[list[list[int]]], lines: Sequence[Line]) -> TableRegion | None:
    columns = _columns(run[1:], lines)
    if len(columns) < 2:
        return None
    rows: list[list[str]] = []
    for cells in run:
        values = [""] * len(columns)
        for cell in cells:
            k = _column_of(lines[cell[0]][0], lines[cell[-1]][2], columns)
            text = " ".join(lines[i][4].strip() for i in cell)
            values[k] = f"{values[k]} {text}".strip()
        rows.append(values)
    used = frozenset(i for cells in run for c in cells for i in c)
    box = (
        min(lines[i][0] for i in used),
        min(lines[i][1] for i in used),
        max(lines[i][2] for i in used),
        max(lines[i][3] for i in used),
    )
    return TableRegion(box, rows, used)


def find_tables(lines: Sequence[Line]) -> list[TableRegion]:
    """The tables among a page's lines, top to bottom."""
    if len(lines) < MIN_ROWS * 2:
        return []
    width = max(ln[2] for ln in lines) - min(ln[0] for ln in lines)
    found: list[TableRegion] = []
    run: list[list[list[int]]] = []
    last_bottom = 0.0
    for row in _visual_rows(lines):
        cells = _cells(row, lines)
        top = min(lines[i][1] for i in row)
        height = max(lines[i][3] - lines[i][1] for i in row)
        near = not run or top - last_bottom <= MAX_ROW_GAP * height
        if _is_cell_row(cells, lines, width) and near:
            run.append(cells)
        else:
            found.extend(_close(run, lines))
            run = [cells] if _is_cell_row(cells, lines, width) else []
        last_bottom = max(lines[i][3] for i in row)
    found.extend(_close(run, lines))
    return found


def _close(run: list[list[list[int]]], lines: Sequence[Line]) -> list[TableRegion]:
    if len(run) < MIN_ROWS:
        return []
    region = _region(run, lines)
    return [region] if region is not None else []


def markdown_table(rows: Sequence[Sequence[str]]) -> str:
    """Rows (header first) as a Markdown table; pipes inside cells are escaped."""

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    header, body = rows[0], rows[1:]
    return "\n".join([line(header), "|" + "---|" * len(header), *(line(r) for r in body)])


_SEPARATOR = re.compile(r"^\s*\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)*\|?\s*$")


def _split_row(line: str) -> list[str]:
    inner = line.strip()
    inner = inner[1:] if inner.startswith("|") else inner
    inner = inner[:-1] if inner.endswith("|") and not inner.endswith("\\|") else inner
    return [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", inner)]


# A caption line: "Table 3: Rainfall by station", "Tab. 2 - Costs", "TABLE IV. Results".
CAPTION = re.compile(
    r"^\s*(?:table|tab\.)\s*(?:[A-Z]?\d[\w.-]{0,6}|[IVXLC]{1,6})\s*[:.\u2014\u2013-]?\s",
    re.IGNORECASE,
)
MAX_CAPTION_CHARS = 120


def caption_of(paragraph: str) -> str | None:
    """`paragraph` when it is a table caption (short, opens with "Table N"), else None."""
    text = " ".join(paragraph.split())
    if len(text) <= MAX_CAPTION_CHARS and CAPTION.match(text + " "):
        return text.rstrip(".:")
    return None


def _is_data_row(cells: Sequence[str]) -> bool:
    """A first row that reads as data, not column names: a cell of three words or more that
    ends a sentence ("No." can name a column), or one past HEADER_WORDS words. A manual's
    table of key bindings, whose column names sit above it as text, starts "| ^E | move to
    the end of the line. |"; named by that row, every row read "^E: ^H | move to the end of
    the line.: delete the previous character."."""
    return any(
        len(c.split()) > HEADER_WORDS or (len(c.split()) >= 3 and _ENDS_SENTENCE.search(c))
        for c in cells
    )


def table_rows(block: str, caption: str | None = None) -> list[str] | None:
    """A Markdown table's body rows, each naming its columns (and its table's caption) so
    that it reads alone: "Table 2: Rainfall: | Station: Glenrock | April: 54,746 |".
    None when `block` is no table."""
    lines = [ln for ln in block.split("\n") if ln.strip()]
    if len(lines) < 2 or not _SEPARATOR.match(lines[1]) or "|" not in lines[0]:
        return None
    if not all("|" in ln for ln in lines[2:]):
        return None
    header = _split_row(lines[0])
    body = lines[2:] or lines[:1]
    if _is_data_row(header):  # a table without a header: every row is data
        header, body = [], [lines[0], *lines[2:]]
    rows = []
    for line in body:
        cells = _split_row(line)
        named = [
            f"{name}: {value}" if name and line is not lines[0] else value
            for name, value in zip(header + [""] * len(cells), cells, strict=False)
            if value
        ]
        if named:
            prefix = f"{caption}: " if caption else ""
            rows.append(f"{prefix}| " + " | ".join(named) + " |")
    return rows
