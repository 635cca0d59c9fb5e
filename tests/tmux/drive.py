"""Drive the real ctxchat app in a real terminal (tmux): drop a PDF by bracketed paste, ask,
wait for the answer, copy the prompt with Ctrl+Y and read it back from tmux's clipboard.

Run by tests/test_tmux_drive.py; also runnable by hand to watch it:
    python -m tests.tmux.drive PDF "QUESTION"   (then `tmux -L ctxchat-drive attach`)
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path


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

    def wait_for(self, predicate, what: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.screen()
            if predicate(text):
                return text
            time.sleep(0.3)
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


def drive(pdf: Path, question: str, home: Path, *, timeout: float = 240.0) -> DriveResult:
    """The whole user flow; raises DriveError with the screen when a step does not happen."""
    tmux = Tmux(socket=f"ctxchat-drive-{os.getpid()}")
    env = {
        "CTXCHAT_HOME": str(home),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "TERM": "xterm-256color",
        "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
    }
    try:
        tmux.start([sys.executable, "-m", "ctxchat.app.cli"], env)
        tmux.wait_for(lambda s: "Library" in s and "Copy prompt" in s, "the first screen", 30)
        tmux.paste(escape_for_drop(pdf))
        tmux.wait_for(
            lambda s: any(pdf.name[:12] in line and "ready" in line for line in s.splitlines()),
            "the PDF in the library",
            timeout,
        )
        tmux.type(question)
        tmux.keys("Enter")
        tmux.wait_for(lambda s: "answering" in s or "->" in s, "the answer to start", timeout)
        tmux.wait_for(
            lambda s: "->" in s and status_line(s).startswith("ready |"),
            "the answer to finish",
            timeout,
        )
        tmux.keys("C-y")
        tmux.wait_for(lambda s: "Copied the prompt" in s, "the copy notice", 60)
        clipboard = tmux.clipboard()
        tmux.keys("C-q")
        return DriveResult(tmux.screens, clipboard)
    finally:
        tmux.kill()


def main(argv: list[str]) -> int:
    import tempfile

    pdf, question = Path(argv[0]).resolve(), argv[1]
    result = drive(pdf, question, Path(tempfile.mkdtemp(prefix="ctxchat-drive-")))
    print(result.screens[-1])
    print("--- clipboard ---")
    print(result.clipboard)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
