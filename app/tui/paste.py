"""Turn a paste into file paths: terminals have no drop event, they paste the dropped paths.

Each terminal spells a drop its own way (backslash-escaped, single- or double-quoted, raw,
file:// URIs, one per line or space-joined). We try the readings from the most literal to
the most interpreted and accept a reading only when every path it yields exists, so a
pasted sentence is never mistaken for files.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import unquote, urlparse

QUOTES = ("'", '"')


def parse_paste(text: str, *, cwd: Path | None = None) -> list[Path] | None:
    """The existing paths a paste names, in order and without repeats; None if it is text."""
    stripped = text.strip().strip("\x00")
    if not stripped:
        return None
    whole = _existing(stripped, cwd)
    if whole is not None:
        return [whole]
    found: list[Path] = []
    for line in stripped.splitlines():
        line = line.strip()
        if not line:
            continue
        paths = _parse_line(line, cwd)
        if paths is None:
            return None
        found.extend(paths)
    return list(dict.fromkeys(found)) or None


def _parse_line(line: str, cwd: Path | None) -> list[Path] | None:
    readings: list[Callable[[], list[str] | None]] = [
        lambda: [line],
        lambda: [_unquote_pair(line)],
        lambda: _shell_split(line, posix=True),
        # Windows spellings: keep backslashes as separators, drop the quotes.
        lambda: [_unquote_pair(t) for t in _shell_split(line, posix=False) or []] or None,
    ]
    for reading in readings:
        tokens = reading()
        if tokens:
            paths = _all_existing(tokens, cwd)
            if paths is not None:
                return paths
    # Raw, unescaped paths joined by spaces (kitty, Alacritty): match greedily.
    return _greedy_split(line, cwd)


def _unquote_pair(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in QUOTES:
        return text[1:-1]
    return text


def _shell_split(line: str, *, posix: bool) -> list[str] | None:
    try:
        return shlex.split(line, posix=posix)
    except ValueError:  # an unbalanced quote: not a shell-quoted list
        return None


def _all_existing(tokens: Iterable[str], cwd: Path | None) -> list[Path] | None:
    paths = []
    for token in tokens:
        path = _existing(token, cwd)
        if path is None:
            return None
        paths.append(path)
    return paths or None


def _greedy_split(line: str, cwd: Path | None) -> list[Path] | None:
    words = line.split(" ")
    paths: list[Path] = []
    start = 0
    while start < len(words):
        for end in range(len(words), start, -1):
            path = _existing(" ".join(words[start:end]), cwd)
            if path is not None:
                paths.append(path)
                start = end
                break
        else:
            return None
    return paths or None


def _existing(token: str, cwd: Path | None) -> Path | None:
    """The resolved path `token` names if it exists (file:// URIs and ~ understood)."""
    token = token.strip()
    if not token:
        return None
    if token.lower().startswith("file://"):
        token = _from_file_uri(token)
    path = Path(token).expanduser()
    if not path.is_absolute():
        # Drops are always absolute; a bare word like "notes" is text unless asked otherwise.
        if cwd is None:
            return None
        path = cwd / path
    try:
        return path.resolve() if path.exists() else None
    except (OSError, ValueError):  # a name too long, or with a NUL byte
        return None


def _from_file_uri(uri: str) -> str:
    parsed = urlparse(uri)
    path = unquote(parsed.path)
    # file:///C:/Users/... on Windows: drop the slash before the drive letter.
    if len(path) >= 3 and path[0] == "/" and path[2] == ":":
        path = path[1:]
    if parsed.netloc and parsed.netloc != "localhost":
        path = f"//{parsed.netloc}{path}"
    return path
