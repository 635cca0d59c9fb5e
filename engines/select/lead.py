"""What a sentence that stops open leads into.

"To cite R in publications, use" goes on in the display below it, "we would use the
following code:" in the code; an option's description goes on from the item line that
lists the option ("‘-h’ ‘--human-readable’" above "Append a size letter ..."). Both the
evidence shown (engines/answer/evidence.py) and the context sent (the selector's fill, as
far as its budget allows) bring those segments along, so neither ends on a dangling "as" or
":". A closed sentence may bring the command below it that shows it (example_after).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ctxchat.engines.select.options import item_options
from ctxchat.engines.store.db import SegmentRow

# At most this many following segments, reaching this many characters: a display, not the
# rest of the section.
FOLLOW_SEGMENTS = 4
FOLLOW_CHARS = 240
ENDS_SENTENCE = re.compile(r"[.!?][\"'\u201d\u2019)\]]*\s*$")
# A command shown under the sentence it illustrates: a program's name, then an option or
# an argument with the marks of code ("sort -n -r", "$ nice factor 4611686018427387903",
# "ls */* | sort -t / -k 1,1R"); at most EXAMPLE_CHARS long.
_COMMAND = re.compile(r"(?:\$ )?[a-z][\w.+-]*\s+(?:-|\S*[$/|*'\"=<>{}\[\]\d])")
EXAMPLE_CHARS = 160


def is_heading(seg: SegmentRow) -> bool:
    """The segment is its section's heading ("### 2 Usage") or a bare heading mark, not
    code that opens with "#" ("#include <set>", "# a comment")."""
    title = seg.text.lstrip("#").strip()
    return seg.text.startswith("#") and title in ("", seg.heading or "")


def opens_sentence(text: str) -> bool:
    """Opens on a capitalised word ("As there ...", "A ...", "Élan"), as a sentence does;
    code and constants do not ("PKG_CFLAGS = ...", "R_init_mypkg", "DEFINITIONS")."""
    t = text.lstrip()
    return len(t) > 1 and t[0].isupper() and (t[1].islower() or t[1].isspace())


def stops_open(text: str) -> bool:
    """Ends on a letter, a digit, a comma or a colon: the sentence goes on below."""
    last = text.rstrip()[-1:]
    return last.isalnum() or last in ",:"


def leads_into(segments: Sequence[SegmentRow], i: int, limit: int = FOLLOW_CHARS) -> list[int]:
    """The segments that segment i leads into when it stops open: the following segments of
    its section, up to the first that ends a sentence or the end of the display it leads
    into (a code example, a table), until `limit` characters are reached; [] when it is
    closed, or when a caption or an unstopped title is followed by a new paragraph's
    sentence or a table ("... in src/Makevars the lines" does lead into
    "PKG_CFLAGS = $(SHLIB_OPENMP_CFLAGS)")."""
    text = segments[i].text.rstrip()
    if not stops_open(text):
        return []
    after = segments[i + 1] if i + 1 < len(segments) else None
    if (
        after is not None
        and after.paragraph != segments[i].paragraph
        and text[-1:].isalnum()
        and (opens_sentence(after.text) or after.text.lstrip().startswith("|"))
    ):
        return []
    out: list[int] = []
    size = 0
    for j in range(i + 1, min(i + 1 + FOLLOW_SEGMENTS, len(segments))):
        seg = segments[j]
        if (seg.doc_id, seg.heading) != (segments[i].doc_id, segments[i].heading):
            break
        if is_heading(seg):
            break
        if out and _new_paragraph_sentence(seg, segments[j - 1]):
            break  # the display led into is over
        out.append(j)
        size += len(seg.text) + 1
        if size >= limit or ENDS_SENTENCE.search(seg.text):
            break
    return out


def example_after(segments: Sequence[SegmentRow], i: int) -> list[int]:
    """[i + 1] when segment i closes its paragraph and the next paragraph of its section is a
    short command that shows it ("• Sort in descending (reverse) numeric order." above
    "sort -n -r"); else []. Unlike a lead-in, the sentence reads whole without it."""
    if i + 1 >= len(segments) or not ENDS_SENTENCE.search(segments[i].text):
        return []
    seg, after = segments[i], segments[i + 1]
    if (after.doc_id, after.heading, after.paragraph == seg.paragraph) != (
        seg.doc_id,
        seg.heading,
        False,
    ):
        return []
    text = after.text.strip()
    if len(text) > EXAMPLE_CHARS or is_heading(after) or ENDS_SENTENCE.search(text):
        return []
    return [i + 1] if _COMMAND.match(text) else []


def leads_up(segments: Sequence[SegmentRow], i: int, limit: int = FOLLOW_CHARS) -> list[int]:
    """The segments before segment i that its sentence goes on from, when it opens in
    lower case after text that ends no sentence ("are available for use in src/Makevars"
    after "The make macros" and the macros' names set as code): back to the segment that
    opens the sentence, within its section and `limit` characters, in reading order; []
    when segment i opens a sentence or no opening is found in reach. An option's
    description opens at the item lines above it (option_lines_above)."""
    items = option_lines_above(segments, i)
    if items:
        return items
    if not segments[i].text.lstrip()[:1].islower():
        return []
    out: list[int] = []
    size = 0
    for j in range(i - 1, max(-1, i - 1 - FOLLOW_SEGMENTS), -1):
        seg = segments[j]
        if (seg.doc_id, seg.heading) != (segments[i].doc_id, segments[i].heading):
            break
        size += len(seg.text) + 1
        if ENDS_SENTENCE.search(seg.text) or is_heading(seg) or seg.text[:1] == "|" or size > limit:
            break  # a closed sentence, a heading, a table's row: no opening in reach
        out.append(j)
        if opens_sentence(seg.text):
            return out[::-1]
    return []


def option_lines_above(segments: Sequence[SegmentRow], i: int) -> list[int]:
    """The item lines listing options ("‘-h’ ‘--human-readable’") right above segment i, the
    first sentence of their description, in reading order; [] when there are none: the
    description reads as the rest of the option it describes."""
    if item_options(segments[i].text) is not None:
        return []
    out: list[int] = []
    for j in range(i - 1, max(-1, i - 1 - FOLLOW_SEGMENTS), -1):
        seg = segments[j]
        if (seg.doc_id, seg.heading) != (segments[i].doc_id, segments[i].heading):
            break
        if item_options(seg.text) is None:
            break
        out.append(j)
    return out[::-1]


def _new_paragraph_sentence(seg: SegmentRow, before: SegmentRow) -> bool:
    """seg opens a new paragraph with a sentence, not another row of a table."""
    return seg.paragraph != before.paragraph and opens_sentence(seg.text) and "|" not in seg.text
