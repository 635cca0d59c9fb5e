"""Whether a short line's last character says "sentence" or can still end a title.

Section titles rarely end in punctuation, so a bold or large line that does is read as a
sentence set in bold. Real titles do end in some: a club's initials ("Laxey A.F.C."), a
suffix ("Donald Trump Jr."), a question or an exclamation ("Just Like Us!").
"""

from __future__ import annotations

import re

# Initials ("F.C.", "L.F.C.", "U.S.") or a title abbreviation as the last word.
_ABBREVIATION = re.compile(
    r"(?:^|\s)(?:(?:[A-Z][a-z]?\.){2,}|(?:Jr|Sr|Inc|Ltd|Co|Corp|Bros|St|Mt|Vol|No)\.)$"
)
MAX_TITLE_WORDS = 12


def ends_like_sentence(line: str) -> bool:
    """True when the line's end rules out a title: a comma, colon or semicolon; a full stop
    that does not close an abbreviation; '?' or '!' after more words than a title has."""
    line = line.rstrip()
    if not line:
        return False
    last = line[-1]
    if last in ",;:":
        return True
    if last == ".":
        return not _ABBREVIATION.search(line)
    if last in "?!":
        return len(line.split()) > MAX_TITLE_WORDS
    return False
