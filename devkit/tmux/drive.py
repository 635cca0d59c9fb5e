"""Drive the real ctxchat app in a real terminal (tmux): drop a PDF by bracketed paste, ask,
wait for the answer, open the cited page's excerpt, copy the prompt with Ctrl+Y and read it
back from tmux's clipboard. Any terminal size; the time to the first screen is measured.

Run by tests/app/tui/test_tmux_drive.py; also runnable by hand to watch it:
    python -m devkit.tmux.drive PDF "QUESTION" [WIDTHxHEIGHT]
    (then `tmux -L ctxchat-drive-PID attach`)
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


def _context_title(screen: str) -> bool:
    """The context panel's title is on screen ("Context sent · N tokens", or "Context · N tok
    · model read evidence" when a small reader read only the evidence)."""
    return "Context sent · " in screen or "Context · " in screen


class DriveError(AssertionError):
    """The app did not reach a state within its time; carries the last screen."""


@dataclass
class Tmux:
    """One private tmux server (its own socket) holding one window running a command."""

    socket: str
    width: int = 160
    height: int = 45
    screens: list[str] = field(default_factory=list)

    def run(self, *args: str, check: bool = True) -> str:
        proc = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=False
        )
        if check and proc.returncode != 0:
            raise DriveError(f"tmux {' '.join(args)} failed: {proc.stderr.strip()}")
        return proc.stdout

    def start(self, command: list[str], env: dict[str, str]) -> None:
        line = shlex.join(["env", *(f"{k}={v}" for k, v in env.items()), *command])
        size = f"{self.width}x{self.height}"
        # One tmux call, so the options hold before the app first asks for its size:
        # a fixed window size without an attached client, and OSC 52 from the app
        # stored as a tmux paste buffer we can read back.
        self.run(
            "-f", "/dev/null",
            "new-session", "-d", "-x", str(self.width), "-y", str(self.height), "-s", "drive",
            line, ";",
            "set-option", "-g", "window-size", "manual", ";",
            "resize-window", "-t", "drive", "-x", str(self.width), "-y", str(self.height), ";",
            "set-option", "-s", "set-clipboard", "on",
        )  # fmt: skip
        got = self.run("display-message", "-p", "-t", "drive", "#{window_width}x#{window_height}")
        if got.strip() != size:
            raise DriveError(f"tmux window is {got.strip()}, not {size}")

    def screen(self) -> str:
        text = self.run("capture-pane", "-p", "-t", "drive", check=False)
        self.screens.append(text)
        return text

    def wait_for(self, predicate, what: str, timeout: float, poll: float = 0.3) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.screen()
            if predicate(text):
                return text
            time.sleep(poll)
        raise DriveError(f"timed out waiting for {what}; last screen:\n{self.screen()}")

    def paste(self, text: str) -> None:
        """A bracketed paste, exactly what a terminal sends when a file is dropped on it."""
        self.run("set-buffer", "-b", "drop", "--", text)
        self.run("paste-buffer", "-p", "-d", "-b", "drop", "-t", "drive")

    def type(self, text: str) -> None:
        self.run("send-keys", "-t", "drive", "-l", text)

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", "drive", *keys)

    def clipboard(self) -> str:
        return self.run("show-buffer")

    def kill(self) -> None:
        self.run("kill-server", check=False)


def status_line(screen: str) -> str:
    """The app's status line: the one above the footer."""
    lines = screen.rstrip("\n").splitlines()
    return lines[-2].strip() if len(lines) >= 2 else ""


def escape_for_drop(path: Path) -> str:
    """How macOS terminals spell a dropped file: backslash before spaces and specials."""
    return "".join("\\" + c if c in " ()'\"&" else c for c in str(path)) + " "


@dataclass
class DriveResult:
    screens: list[str]
    clipboard: str
    first_paint_s: float  # from starting the command to the first full screen
    answer_screen: str = ""  # the chat with the finished answer
    context_screen: str = ""  # after Ctrl+R: the context sent (over the chat when narrow)
    cited_screen: str = ""  # after Ctrl+G: the context panel at the cited page


def added(pdf: Path) -> Callable[[str], bool]:
    """The drop was read: its library row says ready, or (library folded away on a narrow
    terminal) the "added" notice is up."""

    def check(screen: str) -> bool:
        lines = screen.splitlines()
        return any(pdf.name[:12] in line and "ready" in line for line in lines) or any(
            "added," in line for line in lines
        )

    return check


def drive(
    pdf: Path,
    question: str,
    home: Path,
    *,
    size: tuple[int, int] = (160, 45),
    timeout: float = 240.0,
) -> DriveResult:
    """The whole user flow; raises DriveError with the screen when a step does not happen."""
    tmux = Tmux(socket=f"ctxchat-drive-{os.getpid()}", width=size[0], height=size[1])
    env = {
        "CTXCHAT_HOME": str(home),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "TERM": "xterm-256color",
        "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
    }
    try:
        started = time.monotonic()
        tmux.start([sys.executable, "-m", "ctxchat.app.cli"], env)
        tmux.wait_for(
            lambda s: "Drop a PDF" in s and "Copy prompt" in s, "the first screen", 30, poll=0.02
        )
        first_paint = time.monotonic() - started
        tmux.paste(escape_for_drop(pdf))
        tmux.wait_for(added(pdf), "the PDF in the library", timeout)
        tmux.type(question)
        tmux.keys("Enter")
        tmux.wait_for(lambda s: "answering" in s or "->" in s, "the answer to start", timeout)
        answer_screen = tmux.wait_for(
            lambda s: "->" in s and status_line(s).startswith("ready |"),
            "the answer to finish",
            timeout,
        )
        # The evidence: Ctrl+R opens (or focuses) the context panel, pressed again goes back.
        tmux.keys("C-r")
        context_screen = tmux.wait_for(_context_title, "the context", 10)
        tmux.keys("C-r")
        cited_screen = ""
        if "[p. " in answer_screen.split(question[:30])[-1]:  # the panel's labels are "[p.N]"
            tmux.keys("C-g")  # the answer's first cited page, in the context panel
            cited_screen = tmux.wait_for(_context_title, "the cited page", 10)
            tmux.keys("Escape")  # closes the panel where it is drawn over the chat
        tmux.keys("C-y")
        tmux.wait_for(lambda s: "Copied the prompt" in s, "the copy notice", 60)
        clipboard = tmux.clipboard()
        tmux.keys("C-q")
        return DriveResult(
            tmux.screens, clipboard, first_paint, answer_screen, context_screen, cited_screen
        )
    finally:
        tmux.kill()


def main(argv: list[str]) -> int:
    import tempfile

    pdf, question = Path(argv[0]).resolve(), argv[1]
    width, height = (int(n) for n in (argv[2] if len(argv) > 2 else "160x45").split("x"))
    home = Path(tempfile.mkdtemp(prefix="ctxchat-drive-"))
    result = drive(pdf, question, home, size=(width, height))
    print(f"first screen after {result.first_paint_s:.2f} s")
    print(result.answer_screen)
    print(result.context_screen)
    if result.cited_screen:
        print(result.cited_screen)
    print(result.screens[-1])
    print("--- clipboard ---")
    print(result.clipboard)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
