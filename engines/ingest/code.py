"""Code set in a monospace font: one unit of its own, not lines run into the prose.

A manual sets its examples in a typewriter font, indented, often in the same MuPDF block as
the sentence after them ("R_registerRoutines(info, ...); }" then "This routine will be
invoked when ..."), and splits one example over several blocks where its indentation
changes. Read as prose, the example's last line and the next sentence became one sentence,
and each other line a sentence of its own. Here a block's monospace lines are cut from its
prose lines, the pieces of one example are joined again, and the page text carries the
example fenced as Markdown does, which segmentation keeps whole.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Sequence

from ctxchat.engines.ingest.layout import Line

FENCE = "```"
# Lines whose tops differ by less than this share of a line's height share a row.
SAME_ROW = 0.5
# Points: glyph boxes narrower than this (an invisible text layer) give no columns; and no
# line is indented past this column of its example (a stray glyph far right is no layout).
MIN_CHAR_WIDTH = 1.0
MAX_COLUMN = 80
# Span flag PyMuPDF sets for a monospaced font; fonts embedded without it are told by name
# (Inconsolata, Courier, Source Code Pro, DejaVu Sans Mono, Computer Modern Typewriter, and
# Nimbus Mono L, "NimbusMonL-Regu", which Ghostscript sets for Courier in LaTeX books).
_MONO_FLAG = 8
_MONO_NAME = re.compile(
    r"mono|nimbusmon|courier|consol|code|typewriter|menlo|monaco"
    r"|^(?:[A-Z]{6}\+)?(?:cm|lm|tx|ec)s?l?tt",
    re.IGNORECASE,
)
# A page with at least this share of its characters in a monospace font is typed, not
# typeset with examples (a screenplay, a typewritten report, text printed to PDF): its
# monospace lines are its prose.
TYPED_SHARE = 0.8
# Points a monospace line must sit right of its block's prose lines to be set apart as
# code; a monospace line at the margin among prose lines is a name that filled a line.
INDENT = 2.5
# Prose lines whose tops are nearest above a line's middle that are checked for reaching it.
ROW_LOOKBACK = 4
_OPEN_WORD = re.compile(r"[^\W\d_],?\s*$")
# What code has and a sentence's words do not.
_CODE_MARKS = re.compile(r"[=$_{}<>;:\\/()\[\]#*|&.\"'`]|\d")


# How much of a line is set in a monospace font (see monospace()).
PROSE, ENDS_MONO, ALL_MONO = 0, 1, 2


def monospace(spans: Sequence[dict]) -> int:
    """ALL_MONO when every visible span of a line is in a monospace font, ENDS_MONO when
    its last one is (a name or a URL that may go on on the next line), else PROSE."""
    shown = [_is_mono(s) for s in spans if s["text"].strip()]
    if shown and all(shown):
        return ALL_MONO
    return ENDS_MONO if shown and shown[-1] else PROSE


def _is_mono(span: dict) -> bool:
    return bool(span["flags"] & _MONO_FLAG or _MONO_NAME.search(span["font"]))


def code_lines(lines: Sequence[Line], kinds: Sequence[int]) -> list[bool]:
    """Which lines are code, on a page that is not typed all through: monospace lines
    whose whole block is monospace or that are indented past their block's prose lines,
    that share no row with prose (a table's cell, a comment's end) and do not carry on a
    sentence (a link's words or a URL wrapped onto a line of their own). `kinds`: each
    line's monospace()."""
    mono = [k == ALL_MONO for k in kinds]
    typed = sum(len(ln[4].strip()) for ln, m in zip(lines, mono, strict=True) if m)
    if typed >= TYPED_SHARE * sum(len(ln[4].strip()) for ln in lines):
        return [False] * len(lines)
    margin: dict[int, float] = {}  # block -> left edge of its prose lines
    rows: dict[int, list[tuple[float, float]]] = {}  # block -> its prose lines' tops, bottoms
    for ln, m in zip(lines, mono, strict=True):
        if not m:
            margin[ln[5]] = min(margin.get(ln[5], ln[0]), ln[0])
            rows.setdefault(ln[5], []).append((ln[1], ln[3]))
    for spans in rows.values():
        spans.sort()
    code = [
        m
        and (ln[5] not in margin or ln[0] > margin[ln[5]] + INDENT)
        and not _in_prose_row(ln, rows.get(ln[5], []))
        for ln, m in zip(lines, mono, strict=True)
    ]
    for i in range(1, len(lines)):
        alone = code[i] and not code[i - 1] and not (i + 1 < len(lines) and code[i + 1])
        if alone and not mono[i - 1] and _carries_on(lines[i - 1][4], lines[i][4], kinds[i - 1]):
            code[i] = False
    return code


def _in_prose_row(line: Line, rows: list[tuple[float, float]]) -> bool:
    """The line's middle lies within the height of a prose line (rows sorted by top)."""
    middle = (line[1] + line[3]) / 2
    k = bisect.bisect_right(rows, (middle, float("inf")))
    return any(bottom >= middle for _, bottom in rows[max(0, k - ROW_LOOKBACK) : k])


def _carries_on(before: str, line: str, before_kind: int) -> bool:
    """A prose line that ends in a monospace name or URL before one more word of it (a URL
    broken at a slash or a dot), or that stops on a word before words with no mark of
    code."""
    if before_kind == ENDS_MONO and len(line.split()) == 1:
        return True
    return _OPEN_WORD.search(before) is not None and not _CODE_MARKS.search(line)


def split_code_runs(lines: Sequence[Line], code: Sequence[bool]) -> list[Line]:
    """`lines` with new block numbers: a MuPDF block's run of code lines and its runs of
    prose lines become blocks of their own."""
    out: list[Line] = []
    number = -1
    for i, ln in enumerate(lines):
        if i == 0 or ln[5] != lines[i - 1][5] or code[i] != code[i - 1]:
            number += 1
        out.append((*ln[:5], number))
    return out


def join_code_blocks(
    blocks: Sequence[Sequence[Line]], is_code: Callable[[Sequence[Line]], bool]
) -> list[Sequence[Line]]:
    """Blocks in the same order, each run of code blocks one block: an example that MuPDF
    cut where its indentation changes."""
    out: list[Sequence[Line]] = []
    previous_code = False
    for block in blocks:
        code = is_code(block)
        if code and previous_code:
            out[-1] = [*out[-1], *block]
        else:
            out.append(block)
        previous_code = code
    return out


def is_example(text: str) -> bool:
    """A stored segment that is a code example of several lines: segment.code_units keeps
    an example's lines, and prose is stored on one line."""
    return "\n" in text


def fenced(lines: Sequence[Line], margin: float | None = None) -> str:
    """Code lines as a fenced block, without blank lines (a blank line ends a paragraph),
    each indented as the page sets it: spaces for its distance from the page's text
    `margin` (default: the leftmost line), in the block's character width, so a comment
    aligned under another keeps its column and an example's part overleaf keeps its
    indentation (segment.py takes off what a whole example shares)."""
    shown = [ln for ln in lines if ln[4].strip()]
    if not shown:
        return "\n".join([FENCE, FENCE])
    left = min(ln[0] for ln in shown)
    # A line's box spans the spaces it opens with, where the text has them.
    widths = sorted((ln[2] - ln[0]) / len(ln[4].rstrip()) for ln in shown)
    width = widths[len(widths) // 2]
    if width < MIN_CHAR_WIDTH:
        width = float("inf")  # no columns to read: every line at the example's left
    base = round((left - min(margin, left)) / width) if margin is not None else 0
    body: list[str] = []
    top = None
    for ln in shown:
        text = ln[4].strip()
        indent = round((ln[0] - left) / width) + len(ln[4]) - len(ln[4].lstrip())
        column = base + min(MAX_COLUMN, indent)
        if top is not None and abs(ln[1] - top) <= SAME_ROW * (ln[3] - ln[1]):
            # A comment beside its code on the same row ("virtual ~Vehicle(); // ...").
            body[-1] += " " * max(1, column - len(body[-1])) + text
        else:
            body.append(" " * column + text)
            top = ln[1]
    return "\n".join([FENCE, *body, FENCE])
