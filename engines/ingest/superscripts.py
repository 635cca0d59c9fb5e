"""A line's text from PyMuPDF's spans, with raised numbers written as "^N".

PDFs set footnote markers, citations and exponents as small raised digits, and the text
layer glues them to the word before: "not1", "all4 loaded DLLs", "cells12,13", "105 cells"
for 10^5. A glued marker hides the word from search ("not1" is not "not") and misleads a
reader. A run of raised spans that holds only digits (with commas, dashes or a minus) and is
set smaller than the line's text becomes "^" and the digits: "not^1", "10^5". Raised
letters are left as they are: the "A" of the LaTeX logo is one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

SUPERSCRIPT_FLAG = 1  # PyMuPDF's span flag for raised text
# Smaller than the line's other text by at least this factor: a raised span set at full size
# is not a marker.
MAX_SIZE_SHARE = 0.9
# A label's baseline this share of the text's size above the text's counts as raised.
MIN_RAISE = 0.2
_DIGITS = re.compile(r"[\d,\-\u2013\u2212]*\d[\d,\-\u2013\u2212]*")


def line_text(spans: Sequence[dict]) -> str:
    """The spans' text joined, raised digit runs after other text marked with "^", and a
    footnote's own label kept apart from its text ("^2 The exact number ...")."""
    base = max((s["size"] for s in spans if not _raised(s)), default=0.0)
    pieces: list[str] = []
    k = 0
    if _footnote_label(spans, base):
        pieces.append(f"^{spans[0]['text'].strip()} ")
        k = 1
    while k < len(spans):
        if not _raised(spans[k]):
            pieces.append(spans[k]["text"])
            k += 1
            continue
        end = k
        while end < len(spans) and _raised(spans[end]):
            end += 1
        run = spans[k:end]
        text = "".join(s["text"] for s in run)
        small = all(s["size"] < MAX_SIZE_SHARE * base for s in run)
        after_text = any(p.strip() for p in pieces)  # not a footnote's own label
        if small and after_text and _DIGITS.fullmatch(text.strip()):
            lead = len(text) - len(text.lstrip())
            text = text[:lead] + "^" + text[lead:]
        pieces.append(text)
        k = end
    return "".join(pieces)


def _footnote_label(spans: Sequence[dict], base: float) -> bool:
    """A footnote's number set small and raised before its first word, glued to it in the
    text layer ("2The exact number ..."). LaTeX raises it by hand, so PyMuPDF may not flag
    it as superscript: its baseline is above the text's."""
    if len(spans) < 2 or not spans[0]["text"].strip().isdigit():
        return False
    label, first = spans[0], spans[1]
    if not first["text"][:1].isalpha() or label["size"] >= MAX_SIZE_SHARE * first["size"]:
        return False
    if _raised(label):
        return True
    raised_by = first.get("origin", (0, 0))[1] - label.get("origin", (0, 0))[1]
    return raised_by >= MIN_RAISE * first["size"]


def _raised(span: dict) -> bool:
    return bool(span["flags"] & SUPERSCRIPT_FLAG) and bool(span["text"].strip())
