"""Pages -> paragraphs -> sentences, each a NewSegment that remembers its page and heading.

No segment is longer than the compressor's window: sentences longer than `max_tokens`
WordPiece tokens (all-MiniLM-L6-v2's tokenizer, less room for [CLS]/[SEP]) are split at
clause punctuation, else between words.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Protocol

from ctxchat.engines.ingest.code import FENCE
from ctxchat.engines.ingest.flow import Unit, is_code, join_across_breaks, page_at
from ctxchat.engines.ingest.layout import CONTENTS_ENTRY
from ctxchat.engines.ingest.tables import caption_of, table_rows
from ctxchat.engines.ingest.titles import ends_like_sentence
from ctxchat.engines.ingest.wordpiece import load_wordpiece as _wordpiece
from ctxchat.engines.store.db import NewSegment
from ctxchat.engines.tokens import count_tokens_batch

MAX_TOKENS = 512
# A code example longer than this is cut between its lines: a budget of a few hundred
# tokens can still hold the part a question is about.
CODE_UNIT_CHARS = 600
# Room left for the [CLS] and [SEP] tokens the compressor adds around every window.
SPECIAL_TOKENS_MARGIN = 12


class PageLike(Protocol):
    number: int
    text: str


# -- sentences ---------------------------------------------------------------------------

# Words whose trailing period does not end a sentence (compared lower-case, without ".").
ABBREVIATIONS = frozenset(
    """
    e.g i.e cf vs viz al approx ca resp dr mr mrs ms mx prof st jr sr rev hon gen col lt sgt
    capt gov sen rep no nos fig figs eq eqs vol vols pp ch chap sec secs ref refs ed eds est
    inc ltd co corp dept univ jan feb mar apr jun jul aug sep sept oct nov dec mt ft
    a.m p.m u.s u.k ph.d
    """.split()
)
_SENTENCE_END = re.compile(r"[.!?\u2026]+[\"'\u201d\u2019\u00bb)\]]*(?=\s|$)|[\u3002\uff01\uff1f]+")
# What a sentence may open with besides a capital or a digit: quotes, brackets, bullets
# ("•", Word's "◦", HTML's nested-list "○", "▪").
_OPENERS = "\"'([{\u201c\u2018\u00ab\u00bf\u00a1*\u2022-\u25e6\u25cb\u25cf\u25aa\u25a0\u2023"
_INITIALS = re.compile(r"(?:[a-z]\.)*[a-z]")


def split_sentences(text: str) -> list[str]:
    """Sentences of `text`, each an exact (whitespace-trimmed) substring of it.

    A careful regex splitter: ends at . ! ? (and CJK stops) before a space and a
    non-lowercase letter, but not after abbreviations ("e.g.", "Dr."), initials ("J. Smith")
    or inside numbers ("3.14" has no space). Linear in the length of `text`: nothing after
    a sentence end is copied, and the look back for an abbreviation reads one short word.
    """
    sentences: list[str] = []
    start = 0
    alpha = _AlphaScan(text)
    for match in _SENTENCE_END.finditer(text):
        end = match.end()
        nxt = _NON_SPACE.search(text, end)
        if nxt is None:
            break
        mark = match.group()
        if mark[0] not in "\u3002\uff01\uff1f":
            # A sentence starts with a capital, a digit, a quote or bracket, or a letter of
            # a script without case; not with lowercase or punctuation ("a . . . b").
            first = nxt.group()
            if first.islower() or not (first.isalnum() or first in _OPENERS):
                continue
            if mark[0] == "\u2026" and text[match.start() - 1 : match.start()] == " ":
                continue  # a free-standing ellipsis (a contents leader) ends nothing
            if mark.startswith(".") and not mark.startswith(".."):
                word = _last_word(text, start, match.start()).lstrip("([{\"'\u201c\u2018").lower()
                if word in ABBREVIATIONS or (_INITIALS.fullmatch(word) and word != "i"):
                    continue
        if not alpha.seen(start, end):
            continue  # "1.2." or "5." numbers the sentence that follows
        piece = text[start:end].strip()
        if piece:
            sentences.append(piece)
        start = end
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences


_NON_SPACE = re.compile(r"\S")
# Longer than any abbreviation or run of initials: the look back never reads further.
_WORD_LOOKBACK = 48


def _last_word(text: str, start: int, stop: int) -> str:
    """The last whitespace-separated word of text[start:stop] ("" if it has none).

    Reads back at most _WORD_LOOKBACK characters past any spaces. A word longer than that
    is never an abbreviation, so "" stands for it.
    """
    while stop > start and text[stop - 1].isspace():
        stop -= 1
    low = max(start, stop - _WORD_LOOKBACK)
    words = text[low:stop].split()
    if not words:
        return ""
    if len(words) == 1 and low > start and not text[low - 1].isspace():
        return ""  # the word began before the look back
    return words[-1]


class _AlphaScan:
    """Whether text[start:end] holds a letter, each character read once over all calls."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.start = -1
        self.done = 0  # text[start:done] has been read
        self.found = False

    def seen(self, start: int, end: int) -> bool:
        if start != self.start:
            self.start, self.done, self.found = start, start, False
        if not self.found and end > self.done:
            self.found = any(c.isalpha() for c in self.text[self.done : end])
            self.done = end
        return self.found


# -- the compressor's tokenizer ----------------------------------------------------------


def compressor_tokens(text: str) -> int:
    """WordPiece tokens of `text` (no special tokens); characters if no tokenizer is found."""
    tok = _wordpiece()
    if tok is None:
        return len(text)
    return len(tok.encode(text, add_special_tokens=False).ids)


_CLAUSE_BREAKS = ("; ", ": ", ", ", " \u2014 ", " \u2013 ", " - ")
# Characters one segment may hold per window token, whatever the tokenizer says: WordPiece
# makes one [UNK] of any word over 100 characters, so a 5 MB line without spaces would be
# one "token". English runs ~4.5 characters a token, so real sentences hit the token limit.
MAX_CHARS_PER_TOKEN = 8


def _cut_point(text: str, limit: int, max_chars: int) -> int | None:
    """Where to cut `text` so the first piece fits in `limit` tokens and `max_chars`
    characters; None if all of it fits."""
    hard = min(len(text), max_chars)
    tok = _wordpiece()
    if tok is None:
        hard = min(hard, limit)
    else:
        enc = tok.encode(text[: hard + 1], add_special_tokens=False)
        if len(enc.ids) > limit:
            hard = min(hard, enc.offsets[limit][0])
    if hard >= len(text):
        return None
    window = text[:hard]
    floor = hard // 3  # never cut off a tiny first piece just to meet a comma
    ends = [window.rfind(b) + len(b.rstrip()) for b in _CLAUSE_BREAKS if b in window]
    clause = max(ends, default=-1)
    if clause > floor:
        return clause
    space = window.rfind(" ")
    if space > floor:
        return space
    return max(hard, 1)


def fit_to_window(sentence: str, limit: int) -> list[str]:
    """`sentence` as pieces of at most `limit` compressor tokens (and limit x
    MAX_CHARS_PER_TOKEN characters) each.

    Linear in the sentence: each step tokenizes only the next window's worth of text.
    """
    # A WordPiece token covers at least one character: short text always fits.
    if len(sentence) <= limit:
        return [sentence]
    max_chars = limit * MAX_CHARS_PER_TOKEN
    pieces: list[str] = []
    pos, size = 0, len(sentence)
    while pos < size:
        window = sentence[pos : pos + max_chars + 1]
        cut = _cut_point(window, limit, max_chars)
        if cut is None:
            pieces.append(window.rstrip())
            break
        piece = window[:cut].rstrip()
        if piece:
            pieces.append(piece)
        pos += cut
        while pos < size and sentence[pos].isspace():
            pos += 1
    return pieces


# -- paragraphs and headings -------------------------------------------------------------

_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")
_MD_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.+?)\s*#*\s*$")
_ESCAPED_HASH = re.compile(r"^(\s{0,3})\\#")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+\u2022]|\d{1,3}[.)])\s+\S")
_LOWER_ITEM = re.compile(r"\d{1,2}\.\s+[a-z]")
_NUMBERED_HEADING = re.compile(
    r"^(?:\d{1,2}(?:\.\d{1,2})*\.?|[IVX]{1,5}\.|(?:chapter|section|part|appendix)\s+\w+[.:]?)"
    r"\s+[A-Z]",
    re.IGNORECASE,
)
_SPACES = re.compile(r"\s+")
_FINITE_VERB = re.compile(
    r"\b(?:will|shall|would|should|must|can|could|may|is|are|was|were|has|been)\b"
)
_DOT_LEADER = re.compile(r"(?:\s?\.){4,}\s?")
_CODE_MARKS = re.compile(r"[=$_{}<>;\\]|\w\(")


def _looks_like_heading(line: str) -> bool:
    """A short title line in a PDF: '2.1 Results', 'CHAPTER 3', 'ABSTRACT'."""
    if len(line) > 80 or ends_like_sentence(line) or len(line.split()) > 12:
        return False
    if CONTENTS_ENTRY.search(line):  # "2 Arrays and matrices … 20" lists a section
        return False
    if _NUMBERED_HEADING.match(line):
        # A numbered step says what happens ("2. User will enter the issue", "4. To quit
        # the R program the command is"); a numbered title asks at most ("2.1 What is R?").
        # A list's item opens in lower case ("1. read from the stream").
        if _LOWER_ITEM.match(line):
            return False
        return line.endswith("?") or not _FINITE_VERB.search(line)
    letters = [c for c in line if c.isalpha()]
    # An all-capitals line of code ("PKG_LIBS = $(SHLIB_OPENMP_CFLAGS)") is no title.
    return len(letters) >= 3 and all(c.isupper() for c in letters) and not _CODE_MARKS.search(line)


def paragraph_units(text: str) -> Iterator[tuple[str, str | None, bool]]:
    """(paragraph text on one line, heading title if the paragraph is a heading, whole):
    `whole` units are not split into sentences (a table row reads only as a whole)."""
    caption: str | None = None  # the paragraph before a table, when it is its caption
    example: list[str] | None = None  # lines of a fenced code block not yet closed
    for block in _PARAGRAPH_BREAK.split(text):
        if example is not None or block.lstrip().startswith(FENCE):
            example, done = _fenced_lines(block, example)
            if done:
                yield from code_units(example)
                example = None
            caption = None
            continue
        rows = table_rows(block, caption) if block.lstrip().startswith("|") else None
        caption = caption_of(block)
        if rows is not None:
            for row in rows:
                yield row, None, True
            continue
        lines: list[str] = []
        for line in block.split("\n"):
            heading = _MD_HEADING.match(line)
            if (heading or _LIST_ITEM.match(line)) and lines:
                yield _unit(lines)
                lines = []
            if heading:
                yield line.strip(), heading.group(2), True
            elif line.strip():
                lines.append(_ESCAPED_HASH.sub(r"\1#", line))  # "\# x" is the text "# x"
        if lines:
            yield _unit(lines)
    if example:
        yield from code_units(example)


def _fenced_lines(block: str, example: list[str] | None) -> tuple[list[str], bool]:
    """A fenced code block's lines so far with this paragraph's, and whether it closed
    (a Markdown example may hold blank lines; the opening fence's language is dropped)."""
    lines = block.split("\n")
    if example is None:
        example, lines = [], lines[1:]
    for k, line in enumerate(lines):
        if line.strip().startswith(FENCE):
            return example + lines[:k], True
    return example + lines, False


def code_units(lines: Sequence[str]) -> Iterator[tuple[str, str | None, bool]]:
    """A code example as whole units of at most CODE_UNIT_CHARS, cut between lines. A unit
    keeps its lines and their indentation: run into one line, a "//" comment swallowed the
    code after it and Python lost its blocks (segment_pages takes off the indentation
    all lines of a unit share, once a page break's halves are one unit)."""
    piece: list[str] = []
    size = 0
    for line in (ln.rstrip().expandtabs(4) for ln in lines):
        if not line.strip():
            continue
        if piece and size + len(line.strip()) > CODE_UNIT_CHARS:
            yield "\n".join(piece), None, True
            piece, size = [], 0
        piece.append(line)
        size += len(line.strip()) + 1
    if piece:
        yield "\n".join(piece), None, True


def dedented(text: str) -> str:
    """The lines of `text` less the indentation they all share."""
    lines = text.split("\n")
    shared = min(len(ln) - len(ln.lstrip()) for ln in lines if ln.strip())
    return "\n".join(ln[shared:] for ln in lines)


def _unit(lines: list[str]) -> tuple[str, str | None, bool]:
    text = _SPACES.sub(" ", " ".join(lines)).strip()
    text = _DOT_LEADER.sub(" \u2026 ", text)  # table-of-contents leaders: "Intro . . . . 1"
    # One line, or two when the layout put a section number on a line of its own or
    # wrapped the title; three when it did both (a narrow column: "2.2" / "Polling-based
    # Object Probing" / "Evaluation").
    numbered = (
        len(lines) == 3
        and _SECTION_NUMBER.fullmatch(lines[0].strip()) is not None
        and _wordy_title(" ".join(ln.strip() for ln in lines[1:]))
    )
    if (len(lines) <= 2 or numbered) and _looks_like_heading(text):
        return text, text, True
    return text, None, False


def _wordy_title(text: str) -> bool:
    return text[:1].isupper() and _WORDY_TITLE.fullmatch(text) is not None


_SECTION_NUMBER = re.compile(r"[1-9]\d?(?:\.\d{1,2})*\.?")
# Words only, the first capitalised: a formula ("Cn = n+1"), code ("CARD32 FIRST_MATCH") or
# a contents entry with its page ("CONCLUSION AND FUTURE WORK 37") is no wrapped title.
_TITLE_WORD = r"[^\W\d_]+(?:['\u2019-][^\W\d_]+)*['\u2019]?"
_WORDY_TITLE = re.compile(rf"{_TITLE_WORD}(?:[\s,:&()/]+{_TITLE_WORD})*\)?")


# -- pages -> segments -------------------------------------------------------------------


def segment_pages(pages: Iterable[PageLike], max_tokens: int = MAX_TOKENS) -> Iterator[NewSegment]:
    """One NewSegment per sentence (or window-sized piece of a long one), page by page."""
    limit = max(1, max_tokens - SPECIAL_TOKENS_MARGIN)
    paragraph = -1
    heading: str | None = None
    for units in join_across_breaks(_page_units(pages), CODE_UNIT_CHARS):
        pieces: list[tuple[int | None, int, str, str | None]] = []
        for unit in units:
            paragraph += 1
            _, text, title, whole, _ = unit
            if title is not None:
                heading = title
            end = 0
            for sentence in [text] if whole else split_sentences(text):
                start = text.find(sentence, end)  # sentences are substrings, in order
                end = start + len(sentence)
                page_number = page_at(unit, start)
                if is_code(unit):
                    sentence = dedented(sentence)
                for piece in fit_to_window(sentence, limit):
                    pieces.append((page_number, paragraph, piece, heading))
        counts = count_tokens_batch([p[2] for p in pieces]) if pieces else []
        for (number, para, piece, head), tokens in zip(pieces, counts, strict=True):
            yield NewSegment(
                page=number,
                paragraph=para,
                text=piece,
                tokens=tokens,
                hash=hashlib.sha1(piece.encode("utf-8")).hexdigest(),
                heading=head,
            )


def _page_units(pages: Iterable[PageLike]) -> Iterator[list[Unit]]:
    for page in pages:
        yield [(page.number, *unit, ()) for unit in paragraph_units(page.text)]
