"""One sanitiser for every text ctxchat prints: documents, file names, server replies, errors.

A hostile .txt, file name or chat server could otherwise drive the user's terminal: ESC
sequences (colours, cursor moves, OSC 52 clipboard writes), C1 controls (U+009B is a
one-character CSI) and bidi overrides that make text read differently from what it is.
Such characters are shown escaped (\\x1b, \\u202e); tab and newline stay.
"""

from __future__ import annotations

import json
import re

# C0 controls but tab and newline, DEL, C1 controls, and the Unicode bidi controls.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def terminal_safe(text: str) -> str:
    """`text` with every character that could control a terminal shown escaped."""
    return _UNSAFE.sub(_escape, text)


def json_safe(obj: object) -> str:
    """json.dumps (UTF-8 kept readable) with C1 and bidi controls as \\uXXXX escapes.

    JSON escapes C0 itself; the characters replaced here can only occur inside strings,
    so the output decodes to the same value.
    """
    text = json.dumps(obj, ensure_ascii=False)
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
