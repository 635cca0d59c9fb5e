"""A sentence's flow across what interrupts it on the page: a page break, a figure or a
table set in the middle of it.

Half the page breaks of a book fall inside a sentence, and a paper or a thesis sets its
figures and tables where they fit (LaTeX puts them at the top of a page by default), so a
sentence often stops before a table and goes on after its caption ("we generate binary
questions" / Table 1 / "Table 1: Results on POPE." / "based on the presence of the
objects."). Neither half reads on its own; joined, the sentence is one segment cited by
the page it starts on, and the figure or table follows it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from ctxchat.engines.ingest.layout import join_hyphenated

# (page, text, heading title, whole, turns): a joined sentence's rest and whatever follows
# it in the paragraph is on a later page: turns holds (offset in text, page) for each.
# A page is None in text without pages (plain text, Markdown).
Unit = tuple[int | None, str, str | None, bool, tuple[tuple[int, int | None], ...]]

# A table's rows and captions between the halves; more than this and it is no interruption.
MAX_FLOAT_UNITS = 80
# A sentence cut within a page has a few words before the figure: fewer, and it is more
# likely a label inside the figure ("Input image") than prose.
MIN_WORDS_BEFORE_FLOAT = 4

_CLOSERS = "\"'”’)]"
_FLOAT_CAPTION = re.compile(r"(?:fig(?:ure)?|table|tab|plate|chart|listing)\.?\s*[A-Z]?\d", re.I)
# A caption as set under a figure: "Figure 3: ...", "Fig. 2. ...", "Table 1 - ...", "TABLE IV";
# not a sentence about it ("Figure 10 represents the flow chart").
_CAPTION = re.compile(
    r"(?:fig(?:ure)?|table|tab|plate|chart|listing)\.?\s*(?:[A-Z]?\d+(?:[.-]\d+)*|[IVX]+)"
    r"(?:\s*[.:|\u2013\u2014-](?!\d)|\s*$)",
    re.I,
)
_SUBFIGURE = re.compile(r"\([a-z]\)\s+\S")  # "(b) Comparison with Mitra"
# A footnote at a page's foot, its number raised ("^2 Note that in some older compilers"):
# a page break inside a sentence puts the page's footnotes between its halves.
_FOOTNOTE = re.compile(r"\^\d{1,3}\s+\S")
_LOWER_WORD = re.compile(r"[a-z]+[,;]?\s+\S+\s+\S")  # "based on the ...": a word, then more

# Lower-case words that leave a sentence open: articles, prepositions, conjunctions, "to".
_LEADING_ON = frozenset(
    """
    a an the of in on at to for from by with without into onto upon over under about
    between among through during before after within via per and or nor but than as that
    which whose whom using such its their his her our your my is are was were be been being
    """.split()
)


def join_across_breaks(
    pages: Iterable[list[Unit]], max_code_chars: int = 0
) -> Iterator[list[Unit]]:
    """Each page's units, with a sentence that a page break, a figure or a table cuts
    joined to its rest, and a code example that a page break cuts joined to its rest
    (while the whole is at most `max_code_chars` long). Units that may still be joined
    wait for the next page: the last open sentence of a page and the figures, tables and
    code after it, or the code example that ends the page."""
    waiting: list[Unit] = []
    for units in pages:
        if waiting and units and _code_goes_on(waiting[-1], units[0], max_code_chars):
            units = [*waiting[:-1], _join_code(waiting[-1], units[0]), *units[1:]]
        else:
            units = waiting + units
        _join_around_floats(units)
        cut = _open_tail(units)
        if cut == len(units) and units and is_code(units[-1]):
            cut -= 1  # an example at the foot of the page may go on overleaf
        waiting = units[cut:]
        yield units[:cut]
    if waiting:
        yield waiting


def is_code(unit: Unit) -> bool:
    """A code example: kept whole, no heading, and no table row (tables.table_rows ends
    each row with " |")."""
    _, text, title, whole, _ = unit
    return whole and title is None and not text.endswith(" |")


def _code_goes_on(held: Unit, unit: Unit, max_chars: int) -> bool:
    """`unit`, at the top of the next page, is the rest of the example `held`."""
    ends_on = page_at(held, len(held[1]))
    return (
        is_code(held)
        and is_code(unit)
        and unit[0] != ends_on
        and len(held[1]) + 1 + len(unit[1]) <= max_chars
    )


def _join_code(before: Unit, after: Unit) -> Unit:
    """An example and its rest overleaf as one unit, its lines kept, cited by the page it
    starts on."""
    text = f"{before[1]}\n{after[1]}"
    start = len(before[1]) + 1
    turns = before[4] + ((start, after[0]),)
    turns += tuple((start + offset, page) for offset, page in after[4])
    return before[0], text, None, True, turns


def _join_around_floats(units: list[Unit]) -> None:
    """Join, in place, each open sentence to its rest past the floats in between."""
    i = 0
    while i < len(units):
        j = _rest_index(units, i) if _runs_on(units[i]) else None
        if j is None:
            i += 1
        else:  # the joined sentence may stop open again: look once more
            units[i] = _join(units[i], units.pop(j))


def _rest_index(units: list[Unit], i: int) -> int | None:
    """Where the rest of units[i]'s open sentence is: the next unit, or the first after a
    figure or a table set in between (None when it is not there)."""
    j = i + 1
    while j < len(units) and j - i <= MAX_FLOAT_UNITS and _is_float(units[j]):
        j += 1
    between = units[i + 1 : j]
    # A display set inside the sentence (a matrix as a table, no caption) is part of it,
    # read where it stands; a float has a caption.
    if j == len(units) or (between and not any(_set_apart(u[1]) for u in between)):
        return None
    return j if _rest_of(units[j], units[i], floats=len(between)) else None


def _open_tail(units: list[Unit]) -> int:
    """Where the page's open end starts: its last open sentence, when only floats follow
    it (len(units) when the page ends closed)."""
    for i in range(len(units) - 1, max(-1, len(units) - 2 - MAX_FLOAT_UNITS), -1):
        if _runs_on(units[i]):
            return i
        if not _is_float(units[i]):
            break
    return len(units)


def _is_float(unit: Unit) -> bool:
    """A table's row, a figure's or table's caption, a sub-figure's label: what a layout
    sets between two halves of a sentence."""
    _, text, title, whole, _ = unit
    if title is not None:
        return False
    if whole:  # a table's row (a heading has a title)
        return True
    if _set_apart(text):
        return True
    return bool(_SUBFIGURE.match(text)) and len(text.split()) <= 12


def _set_apart(text: str) -> bool:
    """A caption or a footnote: what shows that the units around it are a float's or a
    page's foot, not a display inside the sentence."""
    return bool(_CAPTION.match(text) or _FOOTNOTE.match(text))


def _join(before: Unit, after: Unit) -> Unit:
    """Two halves of a sentence as one unit, cited by the page it starts on; the sentences
    after it keep the page they are on. A word hyphenated across the break is joined as
    within a page ("diffi-" / "culty levels")."""
    text = join_hyphenated(before[1], after[1])
    if text is None:
        text = f"{before[1]} {after[1]}"
    start = len(text) - len(after[1])
    ends_on = page_at(before, len(before[1]))
    turns = before[4] + ((start, after[0]),) if after[0] != ends_on else before[4]
    turns += tuple((start + offset, page) for offset, page in after[4])
    return before[0], text, None, False, turns


def page_at(unit: Unit, offset: int) -> int | None:
    """The page of the text of `unit` that starts at `offset`."""
    page = unit[0]
    for start, later in unit[4]:
        if offset >= start:
            page = later
    return page


def _runs_on(unit: Unit) -> bool:
    """A plain paragraph whose last sentence has no end mark yet (no caption)."""
    _, text, title, whole, _ = unit
    end = text.rstrip().rstrip(_CLOSERS)
    return (
        title is None and not whole and bool(end) and end[-1] not in ".!?:;" and not _is_float(unit)
    )


def _rest_of(unit: Unit, held: Unit, floats: int) -> bool:
    """Is `unit` the rest of `held`'s last sentence, with `floats` units between them?

    Across a page break: it opens in lowercase, or `held` stops on a word that cannot end
    a sentence ("east of the city of" / "Missoula (3210 ft, 978 m).") or a comma. Within a
    page, only past a figure or a table (paragraphs are joined before this) and only
    prose: `held` ends on a lowercase word, `unit` opens with one."""
    _, text, title, whole, _ = unit
    if title is not None or whole:
        return False
    ends_on = page_at(held, len(held[1]))  # where held ends, not where it starts
    if unit[0] is not None and ends_on is not None and unit[0] > ends_on + 1:
        return False  # a page of nothing but floats between: too far to be sure
    if unit[0] != ends_on:
        return _continues(text, held[1])
    words = held[1].split()
    return (
        floats > 0
        and len(words) >= MIN_WORDS_BEFORE_FLOAT
        and words[-1].rstrip(",").isalpha()
        and words[-1].islower()
        and bool(_LOWER_WORD.match(text))
    )


def _continues(text: str, held: str) -> bool:
    """The next page's paragraph goes on with `held`'s sentence."""
    if text[:1].islower():
        return True
    last = held.rstrip()
    open_end = last.endswith(",") or last.split()[-1] in _LEADING_ON
    return open_end and not _FLOAT_CAPTION.match(text)
