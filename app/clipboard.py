"""Put text on the user's clipboard: OSC 52 through the terminal plus a native tool.

OSC 52 fails silently (macOS Terminal ignores it, some terminals cap its size, tmux needs
`set-clipboard on`), so we also try the platform's own tool and report what was used.
Writing the text to a file is the sure path; callers offer it too.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO

NATIVE_TIMEOUT_S = 5.0


@dataclass
class CopyResult:
    """What a copy did: the methods that took the text, its size, the failures seen."""

    methods: list[str] = field(default_factory=list)
    chars: int = 0
    bytes: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.methods)

    def __bool__(self) -> bool:
        return self.ok

    def describe(self) -> str:
        if not self.methods:
            reason = "; ".join(self.errors) or "no clipboard tool found"
            return f"nothing could reach the clipboard ({reason})"
        return "via " + " and ".join(self.methods)


def native_commands() -> list[list[str]]:
    """The clipboard tools worth trying here, best first, that are installed."""
    candidates: list[list[str]] = []
    if sys.platform == "darwin":
        candidates.append(["pbcopy"])
    if sys.platform == "win32" or _is_wsl():
        candidates.append(["clip.exe"])
    if os.environ.get("WAYLAND_DISPLAY"):
        candidates.append(["wl-copy"])
    if os.environ.get("DISPLAY"):
        candidates.append(["xclip", "-selection", "clipboard"])
        candidates.append(["xsel", "--clipboard", "--input"])
    return [cmd for cmd in candidates if shutil.which(cmd[0])]


def copy_native(text: str) -> tuple[str | None, list[str]]:
    """Copy with the first native tool that works: (its name or None, errors)."""
    errors: list[str] = []
    for cmd in native_commands():
        data = text.encode("utf-16-le" if cmd[0] == "clip.exe" else "utf-8")
        try:
            # wl-copy and xclip stay alive to serve the selection: never wait on their output.
            subprocess.run(
                cmd,
                input=data,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=NATIVE_TIMEOUT_S,
                check=True,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            errors.append(f"{cmd[0]}: {exc}")
            continue
        return cmd[0], errors
    return None, errors


def osc52_sequence(text: str, *, tmux: bool = False) -> str:
    """The escape sequence that asks the terminal to set its clipboard to `text`."""
    payload = base64.b64encode(text.encode("utf-8")).decode("ascii")
    seq = f"\x1b]52;c;{payload}\a"
    if tmux:
        # Pass the sequence through tmux to the outer terminal (needs allow-passthrough).
        seq = "\x1bPtmux;" + seq.replace("\x1b", "\x1b\x1b") + "\x1b\\"
    return seq


def write_osc52(text: str, stream: TextIO | None = None) -> bool:
    """Write OSC 52 to the terminal (not to a pipe). True if a terminal was there."""
    stream = stream or sys.stderr
    if not stream.isatty():
        return False
    stream.write(osc52_sequence(text, tmux=bool(os.environ.get("TMUX"))))
    stream.flush()
    return True


def copy_text(
    text: str,
    *,
    osc52: Callable[[str], None] | None = None,
    native: bool = True,
    stream: TextIO | None = None,
) -> CopyResult:
    """Copy `text` every way available and say how.

    osc52: the TUI passes App.copy_to_clipboard (Textual owns the terminal then); without it,
    OSC 52 goes to `stream` (stderr by default) when that is a terminal.
    """
    result = CopyResult(chars=len(text), bytes=len(text.encode("utf-8")))
    if osc52 is not None:
        osc52(text)
        result.methods.append("OSC 52")
    elif write_osc52(text, stream):
        result.methods.append("OSC 52")
    if native:
        tool, errors = copy_native(text)
        result.errors.extend(errors)
        if tool:
            result.methods.append(tool)
    return result


def _is_wsl() -> bool:
    try:
        with open("/proc/version", encoding="utf-8") as fh:
            return "microsoft" in fh.read().lower()
    except OSError:
        return False
