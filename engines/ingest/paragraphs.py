"""Blocks that are one paragraph: MuPDF's blocks joined where a paragraph goes on.

MuPDF groups a page's lines into blocks by the space between them. A document set with
wide line spacing (a thesis or a manuscript at 1.5 or double spacing) leaves as much space
between two lines of a paragraph as MuPDF expects between paragraphs, so most of its lines
become blocks of their own, and every line break read as a paragraph break cut sentences in
two ("... sed do eiusmod" / "tempor incididunt ut labore ..."). A column or page break inside
a hyphenated word does the same ("the base-" / "line model").

A block goes on the one before it (both plain text of the body's size) when
- it is the next line at the page's own line pitch, in the same column, not indented (the
  line before it may be: a paragraph's first line, or a bullet item's, whose next line
  hangs under its text), and either its first word would not have fit at the end of the
  line before it (else the writer's program would have put it there: that line ended its
  paragraph), or the line before it is long and stops on a word or a comma; or
- the block before it ends in a word broken at a hyphen and it opens in lower case.
A list item or a contents entry never goes on the block before it.
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
MAX_FIRST_LINE_INDENT = 40.0
# Without a word to measure, a line that ends this share of the column's width short of
# its right edge ends its paragraph.
SHORT_LINE_SHARE = 0.1
# Points a word may overhang the column and still count as fitting (glyph side bearings).
WORD_FIT_SLACK = 1.0
# A word's letters are wider than a line's average character (its spaces are narrow): the
# estimate errs towards "it would not have fit", that is towards joining, since a wrong join
# only runs two paragraphs together while a wrong break cuts a sentence in two.
WORD_WIDTH_FACTOR = 1.25
# An average character's width as a share of its line's height (about half an em).
EM_SHARE = 0.55
# A line at least this share of the column wide that stops on a word or a comma goes on.
LONG_LINE_SHARE = 0.75
# A list item's opening: a bullet (a private-use or C1 control glyph too, as some fonts map
# them), or a number or letter with a stop or bracket ("1.", "(a)", "ii)").
_ITEM = re.compile(
    r"\s*(?:[\u2022\u25e6\u25aa\u25cf\u2023\u2043\u2219\u00b7*\u2013\u2014\u0080-\u009f\ue000-\uf8ff-]"
    r"|\(?(?:\d{1,2}|[a-z]|[ivx]{1,4})[.)])\s"
)
# A line that stops mid-sentence: on a letter or a comma.
_OPEN_END = re.compile(r"[^\W\d_],?\s*$|,\s*$")
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
    rights: dict[float, float] = {}

    def right_edge(x: float, fallback: float) -> float:
        """The column's right edge at a line starting at x: where the page's body lines
        that cross x end (a code display's short lines are short against the text around
        them). Lines share a few starts, so each is looked up once."""
        if x not in rights:
            rights[x] = max((x1 for x0, x1 in spans if x0 - INDENT <= x <= x1), default=fallback)
        return rights[x]

    out: list[list[Line]] = []
    last_plain = False
    for block, this_plain in zip(blocks, is_plain, strict=True):
        if out and last_plain and this_plain and _goes_on(out[-1], block, pitch, right_edge):
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
            # Lines of one column overlap side to side (indents and bullets aside).
            if previous is not None and min(ln[2], previous[2]) > max(ln[0], previous[0]):
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
    right_edge: Callable[[float, float], float],
) -> bool:
    last, first = _last_row(before), _first_row(block)
    if CONTENTS_ENTRY.search(last[4]) or _ITEM.match(first[4]):
        return False  # contents entries and list items are set one under another
    if broken_word(last[4]) and first[4].lstrip()[:1].islower():
        return True
    if pitch is None:
        return False
    step = first[3] - last[3]
    # A list item's or a described term's next line hangs under its text ("O(1) The running
    # time ... depend on the" / "input size."), right of the bullet or the term.
    hangs = bool(_ITEM.match(last[4]) or _OPEN_END.search(last[4]))
    hanging = MAX_FIRST_LINE_INDENT if hangs else INDENT
    if not (
        0 < step <= pitch + PITCH_SLACK and -hanging <= last[0] - first[0] <= MAX_FIRST_LINE_INDENT
    ):
        return False
    right = right_edge(last[0], last[2])
    if not _next_word_fits(last, first, right):
        return True
    # A long line that stops on a word or a comma goes on, whatever the estimate of the
    # word's width says (a short one is a list's line or an address's; one that ends in a
    # digit, a bracket or ";" is a table's row or code).
    long_line = last[2] - last[0] >= LONG_LINE_SHARE * (right - last[0])
    return long_line and bool(_OPEN_END.search(last[4]))


def _next_word_fits(last: Line, first: Line, right: float) -> bool:
    """Whether the first word of `first` would have fit at the end of `last`: then the
    typesetter would have put it there, so `last` ended its paragraph. This holds for
    justified and ragged-right text alike (a Word report's lines end anywhere in the last
    tenth of the column). The word's width is its share of its line's characters."""
    words = first[4].split()
    if not words:
        return last[2] < right - SHORT_LINE_SHARE * (right - last[0])
    # A row of table cells spreads its characters: no wider than EM_SHARE of the line height.
    per_char = min(
        (first[2] - first[0]) / max(1, len(first[4].strip())), EM_SHARE * (first[3] - first[1])
    )
    width = per_char * (len(words[0]) + 1) * WORD_WIDTH_FACTOR
    return last[2] + width <= right + WORD_FIT_SLACK


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
