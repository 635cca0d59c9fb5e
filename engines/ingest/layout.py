"""Page layout helpers for fixed-layout documents (PDF, XPS): reading order and running
headers/footers. Pure functions over plain tuples, so they are easy to test on their own.

A `Line` is (x0, y0, x1, y1, text, block) in page coordinates (y grows downwards).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

from ctxchat.engines.ingest.titles import ends_like_sentence
from ctxchat.engines.ingest.wordpiece import whole_words

Line = tuple[float, float, float, float, str, int]

# How many lines at the very top and bottom of a page can belong to a running header/footer.
EDGE_LINES = 3
# A normalised edge line that shows up on at least this share of pages is a running
# header/footer (0.4 rather than 0.5: books alternate left-page and right-page headers).
REPEAT_SHARE = 0.4
MIN_REPEATS = 3
# A chapter's running header ("Chapter 5: System and foreign language interfaces") is on the
# pages of that chapter only, far below REPEAT_SHARE of a manual's pages. An edge line with
# letters seen on at least MIN_REPEATS observed pages, and on at least RUN_SHARE of the
# observed pages from its first to its last, runs through that stretch: it is furniture too.
RUN_SHARE = 0.75
# A block narrower than this share of the text area may sit in a column.
WIDE_SHARE = 0.6
# Two lines of a block overlapping by this share of the taller one's height are one row
# (not less: a stacked vowel sign of Burmese or Arabic is set as a line of its own, taller
# than the text, and half of it overlaps the next line).
ROW_OVERLAP = 0.7
# Points a block must reach past the middle of the text area to count as crossing it.
CENTRE_MARGIN = 5.0

_DIGITS = re.compile(r"\d+")
_WORD_CHARS = re.compile(r"\w+")
_SPACES = re.compile(r"\s+")


def normalise_line(text: str) -> str:
    """The key two running headers share: digits (page numbers) and spacing ignored."""
    return _SPACES.sub(" ", _DIGITS.sub("#", text)).strip().lower()


def edge_lines(lines: Sequence[Line], count: int = EDGE_LINES) -> tuple[list[int], list[int]]:
    """Indices of the `count` topmost and bottommost non-blank lines, by position."""
    visible = [i for i, ln in enumerate(lines) if ln[4].strip()]
    by_top = sorted(visible, key=lambda i: (lines[i][1], lines[i][0]))
    by_bottom = sorted(visible, key=lambda i: (-lines[i][3], lines[i][0]))
    return by_top[:count], by_bottom[:count]


class RunningLines:
    """Counts edge lines over sample pages, then recognises running headers and footers."""

    def __init__(self) -> None:
        self.top: Counter[str] = Counter()
        self.bottom: Counter[str] = Counter()
        # key -> (first, last) observed page index, for chapter-long running headers
        self.span: dict[str, tuple[int, int]] = {}
        self.pages = 0
        self.titles: set[str] = set()  # title_key of each section title read so far

    def observe(self, lines: Sequence[Line]) -> None:
        top, bottom = edge_lines(lines)
        # A set per page: a key counts once per page however often it appears there.
        top_keys = {normalise_line(lines[i][4]) for i in top}
        bottom_keys = {normalise_line(lines[i][4]) for i in bottom}
        self.top.update(top_keys)
        self.bottom.update(bottom_keys)
        for key in top_keys | bottom_keys:
            first, _ = self.span.get(key, (self.pages, self.pages))
            self.span[key] = (first, self.pages)
        self.pages += 1

    def repeated(self) -> tuple[frozenset[str], frozenset[str]]:
        if self.pages < MIN_REPEATS:
            return frozenset(), frozenset()
        need = max(MIN_REPEATS, REPEAT_SHARE * self.pages)
        top = frozenset(k for k, n in self.top.items() if k and (n >= need or self._runs(k, n)))
        bottom = frozenset(
            k for k, n in self.bottom.items() if k and (n >= need or self._runs(k, n))
        )
        return top, bottom

    def _runs(self, key: str, seen: int) -> bool:
        """Whether `key` runs through a stretch of pages (see RUN_SHARE)."""
        if seen < MIN_REPEATS or not any(c.isalpha() for c in key):
            return False
        first, last = self.span[key]
        return seen >= RUN_SHARE * (last - first + 1)

    def strip(self, lines: Sequence[Line]) -> list[Line]:
        """`lines` without the running headers/footers found so far (only at the page edges)."""
        return [lines[i] for i in self.keep(lines)]

    def keep(self, lines: Sequence[Line], page: int | None = None) -> list[int]:
        """Indices of the lines that are not running headers/footers (`page`: the page's
        number in the file, from 1, to tell a lone page number from a figure's label)."""
        top_keys, bottom_keys = self.repeated()
        top, bottom = edge_lines(lines)
        if not top:
            return list(range(len(lines)))
        drop = {i for i in top if normalise_line(lines[i][4]) in top_keys}
        drop |= {i for i in bottom if normalise_line(lines[i][4]) in bottom_keys}
        first_row = [i for i in top if lines[i][1] <= lines[top[0]][1] + ROW_SLACK]
        last_row = [i for i in bottom if lines[i][3] >= lines[bottom[0]][3] - ROW_SLACK]
        # Titles further down are only read when a top line could repeat one (_echoes).
        header_like = any(_header_form(lines[i][4]) for i in first_row)
        below = _titles_below(lines, first_row) if header_like else frozenset()
        drop |= {i for i in first_row if self._echoes(lines[i][4], below)}
        # A page number alone in the page's first or last row, where the other pages put
        # theirs elsewhere (a chapter's first page numbered at its foot, the rest in the
        # header): too few to count as repeated. Not a table's last cell: it shares a row.
        for row in (first_row, last_row):
            rest = [i for i in row if i not in drop]
            if len(rest) == 1 and page is not None and _page_number(lines[rest[0]][4], page):
                drop.add(rest[0])
        return [i for i in range(len(lines)) if i not in drop]

    def note_titles(self, titles: Iterable[str]) -> None:
        """Remember the section titles read so far (not those set in capitals)."""
        self.titles.update(title_key(t) for t in titles if not t.isupper())

    def _echoes(self, text: str, below: frozenset[str] = frozenset()) -> bool:
        """A page's top line that repeats a title read earlier in another form is a running
        header: LaTeX heads a chapter's pages "CHAPTER 6. CONCLUSION" after "Chapter 6" /
        "Conclusion", too few pages for the counts above when chapters are short. So is one
        that repeats a title further down the same page (`below`, title keys): LaTeX heads
        a page with the first section that starts on it ("14.3. PURE VIRTUAL FUNCTIONS"
        above the end of 14.2). The title as written (an "Examples" section at the top of a
        page) is no header."""
        text = text.strip()
        key = title_key(text)
        if len(key) < MIN_TITLE_CHARS or (key not in self.titles and key not in below):
            return False
        return _header_form(text)


def _header_form(text: str) -> bool:
    """Set as a running header repeats a title: in capitals, or after "Chapter N"."""
    text = text.strip()
    return bool(_CHAPTER_PREFIX.match(text)) or text.isupper()


def _titles_below(lines: Sequence[Line], first_row: Sequence[int]) -> frozenset[str]:
    """Title keys of the page's short lines below its first row, those not set in capitals
    (a title as written, which a running header in capitals may repeat)."""
    return frozenset(
        title_key(ln[4])
        for i, ln in enumerate(lines)
        if i not in first_row and len(ln[4]) <= MAX_TITLE_LINE and not ln[4].isupper()
    )


# A running header's chapter or section number before the title it repeats.
_CHAPTER_PREFIX = re.compile(r"(?i:chapter|appendix|part)\s+(?:\d+|[IVXLC]+|[A-Z])\b[.:]?\s*")
_NUMBERING = re.compile(r"^(?:\d+(?:\.\d+)*|[A-Z](?:\.\d+)+)\.?\s+")
_TRAILING_NUMBER = re.compile(r"\s+\d+$")
_ROMAN = re.compile(r"[ivxl]{1,7}|[IVXL]{1,7}")
# How far a printed page number may trail the page's place in the file (front matter,
# covers); a lone "7" on page 141 is a figure's label.
MAX_PAGE_OFFSET = 40
# Points by which a line may sit lower than the page's top line and share its row.
ROW_SLACK = 3.0
# A shorter title ("Aims") is too common a word to take a top line for its echo.
MIN_TITLE_CHARS = 4
# Longer lines are no titles a running header could repeat.
MAX_TITLE_LINE = 120


def _page_number(text: str, page: int) -> bool:
    """Whether `text` alone can be the printed number of the file's `page`-th page."""
    text = text.strip()
    if text.isdigit() and len(text) <= 4:
        return 0 <= page - int(text) <= MAX_PAGE_OFFSET
    return bool(_ROMAN.fullmatch(text)) and _roman(text) <= page <= MAX_PAGE_OFFSET


def _roman(text: str) -> int:
    """The value of a small roman numeral ("iv" -> 4)."""
    values = [{"i": 1, "v": 5, "x": 10, "l": 50}[c] for c in text.lower()]
    return sum(-v if v < after else v for v, after in zip(values, [*values[1:], 0], strict=True))


def title_key(text: str) -> str:
    """A title's words, lowercased, without its chapter or section number or a page number."""
    text = _CHAPTER_PREFIX.sub("", text.strip(), count=1)
    text = _TRAILING_NUMBER.sub("", _NUMBERING.sub("", text.strip()))
    return " ".join(_WORD_CHARS.findall(text.lower()))


def _bbox(lines: Sequence[Line]) -> tuple[float, float, float, float]:
    return (
        min(ln[0] for ln in lines),
        min(ln[1] for ln in lines),
        max(ln[2] for ln in lines),
        max(ln[3] for ln in lines),
    )


def group_blocks(lines: Iterable[Line]) -> list[list[Line]]:
    """Lines grouped by their block number, in first-seen order, each in reading order."""
    blocks: dict[int, list[Line]] = {}
    for ln in lines:
        blocks.setdefault(ln[5], []).append(ln)
    return [rows_in_order(b) for b in blocks.values()]


def rows_in_order(lines: Sequence[Line]) -> list[Line]:
    """Lines top-down, and left to right within a row. Lines that share most of their
    height are one row: a definition list sets its term beside the first line of its
    description, a point lower or higher ("R-help" at y 633.6 beside "The 'main' R mailing
    list, ... encoun-" at 632.7), which a plain top-down sort put between that line and
    the next ("encoun-R-help tered")."""
    rows: list[list[Line]] = []
    for ln in sorted(lines, key=lambda ln: (ln[1], ln[0])):
        if rows and _same_row(rows[-1][0], ln):
            rows[-1].append(ln)
        else:
            rows.append([ln])
    return [ln for row in rows for ln in sorted(row, key=lambda ln: ln[0])]


def _same_row(a: Line, b: Line) -> bool:
    """a and b overlap vertically by at least ROW_OVERLAP of the taller one's height."""
    overlap = min(a[3], b[3]) - max(a[1], b[1])
    return overlap > 0 and overlap >= ROW_OVERLAP * max(a[3] - a[1], b[3] - b[1])


def reading_order(blocks: Sequence[Sequence[Line]]) -> list[Sequence[Line]]:
    """Blocks in reading order: full-width blocks top-down; between them, narrower blocks
    column by column (left column top-down, then the next column), as in a two-column paper.
    """
    if len(blocks) < 2:
        return list(blocks)
    boxes = [_bbox(b) for b in blocks]
    left = min(b[0] for b in boxes)
    width = max(b[2] for b in boxes) - left
    middle = left + width / 2
    order = sorted(range(len(blocks)), key=lambda i: (boxes[i][1], boxes[i][0]))
    out: list[Sequence[Line]] = []
    section: list[int] = []
    for i in order:
        x0, _, x1, _ = boxes[i]
        # A block across the middle of the text area cannot sit in one of two columns
        # (a centred title or page number): it separates sections like a wide block.
        across = x0 < middle - CENTRE_MARGIN and x1 > middle + CENTRE_MARGIN
        if width <= 0 or across or (x1 - x0) >= WIDE_SHARE * width:
            out.extend(blocks[j] for j in _by_columns(section, boxes))
            section = []
            out.append(blocks[i])
        else:
            section.append(i)
    out.extend(blocks[j] for j in _by_columns(section, boxes))
    return out


def _by_columns(
    section: list[int], boxes: Sequence[tuple[float, float, float, float]]
) -> list[int]:
    """Split narrow blocks into columns at vertical gaps (x ranges that do not overlap)."""
    if len(section) < 2:
        return section
    by_x = sorted(section, key=lambda i: boxes[i][0])
    columns: list[list[int]] = [[by_x[0]]]
    right_edge = boxes[by_x[0]][2]
    for i in by_x[1:]:
        # A small tolerance: justified columns touch the gutter with a point or two.
        if boxes[i][0] >= right_edge - 2.0:
            columns.append([i])
            right_edge = boxes[i][2]
        else:
            columns[-1].append(i)
            right_edge = max(right_edge, boxes[i][2])
    return [i for col in columns for i in sorted(col, key=lambda j: (boxes[j][1], boxes[j][0]))]


# -- headings ----------------------------------------------------------------------------

# A block set this much larger than the page's body text is a heading (level 1 or 2); one in
# bold at body size is a level-3 heading when the body is not bold.
HEADING_RATIOS = ((1.45, 1), (1.12, 2))
MAX_HEADING_CHARS = 100
MAX_HEADING_LINES = 2


def body_size(sizes: Iterable[tuple[float, int]]) -> float:
    """The font size most characters are set in, from (size, characters) pairs."""
    counts: Counter[float] = Counter()
    for size, chars in sizes:
        counts[round(size * 2) / 2] += chars
    return counts.most_common(1)[0][0] if counts else 0.0


# A table of contents entry: a dotted leader, then a page number ("5 Arrays . . . . 20"). Set
# in the chapter's type, it read as a heading and named the contents pages after chapters.
CONTENTS_ENTRY = re.compile(r"(?:\.\s?){3,}\s*\d+\s*$|\u2026\s*\d+\s*$")


# A numbered section's title set large may end in a full stop: GNU manuals title sections
# "5.3 ‘split’: Split a file into pieces." (a list item "1. Hangup." is set at body size).
_NUMBERED_TITLE = re.compile(r"^\d+(?:\.\d+)+\.?\s+\S.*[^.]\.$")


def heading_level(text: str, size: float, bold: bool, body: float, n_lines: int) -> int:
    """1-3 when a block looks like a section title (by its type, not its words), else 0."""
    text = text.strip()
    large = body > 0 and size >= HEADING_RATIOS[-1][0] * body
    if (
        not text
        or body <= 0
        or n_lines > MAX_HEADING_LINES
        or len(text) > MAX_HEADING_CHARS
        or (ends_like_sentence(text) and not (large and _NUMBERED_TITLE.match(text)))
        or not any(c.isalpha() for c in text)
        or CONTENTS_ENTRY.search(text)
    ):
        return 0
    for ratio, level in HEADING_RATIOS:
        if size >= ratio * body:
            return level
    return 3 if bold and size >= body * 0.95 else 0


_HYPHENS = "-\u2010\u00ad"


_OPENING = "([{\"'\u201c\u2018\u00ab"


def broken_word(text: str) -> bool:
    """The text ends in a word broken at a hyphen ("infor-"), or in a compound's first part."""
    text = text.rstrip()
    return len(text) > 1 and text[-1] in _HYPHENS and text[-2].isalpha()


def join_hyphenated(text: str, line: str) -> str | None:
    """`text` that ends in a hyphenated word and the `line` after it as one text, or None
    when `text` ends otherwise or `line` goes on with no word (a bullet, a bracket).

    "infor-" + "mation" becomes "information" (only before a lowercase letter, and not in
    compounds that already carry a hyphen such as "state-of-the-"); "Anglo-" + "Saxon" keeps
    its hyphen."""
    text, line = text.rstrip(), line.strip()
    if not line or not broken_word(text):
        return None
    # The word before the hyphen, without an opening bracket or quote: "(high-" is "high".
    word = text[max(text.rfind(" "), text.rfind("\n")) + 1 : -1].lstrip(_OPENING)
    soft = text[-1] == "\u00ad"
    # TeX breaks neither a word with a digit nor an acronym: "15th-" / "largest" and
    # "SARS-" / "like" are compounds.
    plain_word = "-" not in word and not any(c.isdigit() for c in word) and not word.isupper()
    if soft or (line[0].islower() and plain_word and not _compound(word, line)):
        return text[:-1] + line
    if line[0].isalpha() or line[0].isdigit():
        return text + line
    return None


def join_lines(lines: Sequence[str]) -> str:
    """A block's lines as one text with words hyphenated at line ends joined
    (join_hyphenated); other breaks keep a newline, which the segmenter turns into a space.
    """
    out = ""
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        joined = join_hyphenated(out, line) if out else None
        if joined is not None:
            out = joined
            continue
        if _IDENTIFIER_BREAK.search(out) and _name_goes_on(out, line):
            out += line  # "R_" + "CHECK_ENVIRON": one name, broken after its underscore
            continue
        out = f"{out}\n{line}" if out else line
    return out


# Manuals break a long name after an underscore ("R_" / "CHECK_ENVIRON", "LD_LIBRARY_" /
# "PATH"); a name that ends in underscores ("__init__") stays whole.
_IDENTIFIER_BREAK = re.compile(r"[A-Za-z0-9]_$")


def _name_goes_on(text: str, line: str) -> bool:
    """The line goes on with the name `text` ends in: a capital, digit or underscore goes
    on any name ("R_" / "NilValue"); a lower-case word only a name in lower case
    ("omp_set_num_" / "threads"), not a prefix in capitals that a comment ends on ("...
    do not begin with GPVAL_" / "show variables all")."""
    first = line[0]
    if first.isupper() or first.isdigit() or first == "_":
        return True
    name = text[max(text.rfind(" "), text.rfind("\n")) + 1 :]
    return first.islower() and any(c.islower() for c in name)


_LEADING_WORD = re.compile(r"[^\W\d_]+")
# Suffixes that are also vocabulary words: "thorough-" + "ness" is one word broken in two.
_SUFFIX_WORDS = frozenset(
    "ness less ship ships able hood ward wards wise like ing ist ed er est al ant age dom "
    "cal".split()
)
# Prefixes written closed up nearly always ("subscripts", "pseudocolumns", "unloaded"; in
# the benchmark texts 97% of "sub" words): a break after one is no compound's hyphen.
_CLOSED_PREFIXES = frozenset("sub pseudo un dis inter".split())


def _compound(first: str, rest: str) -> bool:
    """Whether "first-" + rest is a hyphenated compound ("single-handed") rather than one word
    broken at the line end ("infor-mation"): both halves are words of MiniLM's WordPiece
    vocabulary and the joined word is not. Without the vocabulary, every break is joined."""
    second = _LEADING_WORD.match(rest)
    words = whole_words()
    if second is None or not words:
        return False
    a, b = first.lower(), second.group().lower()
    if a in _CLOSED_PREFIXES or b in _SUFFIX_WORDS:
        return False
    return a in words and b in words and a + b not in words


_BLANK_LINE = re.compile(r"\n[ \t]*\n\s*")


def join_lines_text(text: str, fence: str) -> str:
    """join_lines for running text: each blank-line separated paragraph on its own; the
    lines of an example between `fence` lines as they are (their indentation is the code's)."""
    out: list[str] = []
    prose: list[str] = []
    example: list[str] | None = None
    for line in text.split("\n"):
        opens = line.strip().startswith(fence)
        if example is None and not opens:
            prose.append(line)
            continue
        if example is None:  # a fence opens an example
            out.extend(_paragraphs(prose))
            prose, example = [], [line.strip()]
        elif opens:  # and closes it
            out.append("\n".join([*example, line.strip()]))
            example = None
        elif line.strip():
            example.append(line.rstrip())
    out.extend(_paragraphs(prose))
    if example is not None:
        out.append("\n".join(example))
    return "\n\n".join(out)


def _paragraphs(lines: Sequence[str]) -> list[str]:
    paragraphs = (join_lines(p.split("\n")) for p in _BLANK_LINE.split("\n".join(lines)))
    return [p for p in paragraphs if p]
