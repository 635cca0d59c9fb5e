"""Blocks that are one paragraph: MuPDF's blocks joined where a paragraph goes on.

MuPDF groups a page's lines into blocks by the space between them. A document set with
wide line spacing (a thesis or a manuscript at 1.5 or double spacing) leaves as much space
between two lines of a paragraph as MuPDF expects between paragraphs, so most of its lines
become blocks of their own, and every line break read as a paragraph break cut sentences in
two ("... sed do eiusmod" / "tempor incididunt ut labore ..."). A column or page break inside
a hyphenated word does the same ("the base-" / "line model").

A block goes on the one before it (both plain text of the body's size) when
- it is the next line at the page's own line pitch, in the same column, not indented (the
  line before it may be: a paragraph's first line), and the line before it runs to the
  column's right edge (a short line ends a paragraph); or
- the block before it ends in a word broken at a hyphen and it opens in lower case.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence

from ctxchat.engines.ingest.layout import CONTENTS_ENTRY, Line, broken_word

# Points the distance between two lines may exceed the page's line pitch and still be one
# paragraph's next line (rounding of the baselines; a parskip of 3pt or more is more).
PITCH_SLACK = 1.5
# Points a line may start right or left of the line above and not be indented.
INDENT = 2.5
# Points a paragraph's first line may be indented by: the next line, at the margin, still
# goes on it (a block quote is set further in).
MAX_FIRST_LINE_INDENT = 24.0
# A line that ends this share of the column's width short of its right edge ends its
# paragraph (justified text fills the line; ragged right falls short by a few words).
SHORT_LINE_SHARE = 0.1
# A list item's opening: a bullet (a private-use or C1 control glyph too, as some fonts map
# them), or a number or letter with a stop or bracket ("1.", "(a)", "ii)").
_ITEM = re.compile(
    r"\s*(?:[\u2022\u25e6\u25aa\u25cf\u2023\u2043\u2219\u00b7*\u2013\u2014\u0080-\u009f\ue000-\uf8ff-]"
    r"|\(?(?:\d{1,2}|[a-z]|[ivx]{1,4})[.)])\s"
)
# Fewer line-to-line distances than this on a page: no pitch to go by.
MIN_PITCH_SAMPLES = 2


def join_paragraph_blocks(
    blocks: Sequence[Sequence[Line]], plain: Callable[[Sequence[Line]], bool]
) -> list[list[Line]]:
    """`blocks` in reading order, each block that goes on the paragraph of the one before
    it joined to that one. `plain` tells the blocks of body text (not a heading, a table or
    a caption in another type) that may be joined."""
    is_plain = [plain(b) for b in blocks]
    body = [b for b, p in zip(blocks, is_plain, strict=True) if p]
    pitch = line_pitch(body)
    spans = [(ln[0], ln[2]) for b in body for ln in b]
    out: list[list[Line]] = []
    last_plain = False
    for block, this_plain in zip(blocks, is_plain, strict=True):
        if out and last_plain and this_plain and _goes_on(out[-1], block, pitch, spans):
            out[-1].extend(block)
        else:
            out.append(list(block))
        last_plain = this_plain
    return out


def line_pitch(blocks: Sequence[Sequence[Line]]) -> float | None:
    """The distance from one baseline to the next that most lines of these blocks keep,
    None when too few lines follow one another. The lines' bottoms stand in for the
    baselines: a raised footnote mark moves a line's top, not its bottom."""
    distances: Counter[float] = Counter()
    previous: Line | None = None
    for block in blocks:
        for ln in block:
            if previous is not None and abs(ln[0] - previous[0]) <= INDENT:
                step = ln[3] - previous[3]
                if 0 < step <= 3 * (ln[3] - ln[1]):
                    distances[round(step * 2) / 2] += 1
            previous = ln
    if sum(distances.values()) < MIN_PITCH_SAMPLES:
        return None
    return distances.most_common(1)[0][0]


def _goes_on(
    before: Sequence[Line],
    block: Sequence[Line],
    pitch: float | None,
    spans: Sequence[tuple[float, float]],
) -> bool:
    last, first = _last_row(before), _first_row(block)
    if CONTENTS_ENTRY.search(last[4]) or _ITEM.match(first[4]):
        return False  # contents entries and list items are set one under another
    if broken_word(last[4]) and first[4].lstrip()[:1].islower():
        return True
    if pitch is None:
        return False
    step = first[3] - last[3]
    # The column's right edge: where the page's body lines that cross this line's start
    # end (a code display's short lines are short against the text around them).
    right = max((x1 for x0, x1 in spans if x0 - INDENT <= last[0] <= x1), default=last[2])
    return (
        0 < step <= pitch + PITCH_SLACK
        and -INDENT <= last[0] - first[0] <= MAX_FIRST_LINE_INDENT
        and last[2] >= right - SHORT_LINE_SHARE * (right - last[0])
    )


def _last_row(block: Sequence[Line]) -> Line:
    """The block's last row as one line (a row can be several lines: a run-in heading)."""
    bottom = max(ln[1] for ln in block)
    row = [ln for ln in block if ln[1] >= bottom - INDENT]
    return _as_line(row)


def _first_row(block: Sequence[Line]) -> Line:
    top = min(ln[1] for ln in block)
    row = [ln for ln in block if ln[1] <= top + INDENT]
    return _as_line(row)


def _as_line(row: Sequence[Line]) -> Line:
    row = sorted(row, key=lambda ln: ln[0])
    return (
        row[0][0],
        min(ln[1] for ln in row),
        max(ln[2] for ln in row),
        max(ln[3] for ln in row),
        " ".join(ln[4] for ln in row),
        row[0][5],
    )
