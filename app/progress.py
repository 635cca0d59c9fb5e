"""A small progress bar on stderr, drawn only when stderr is a terminal.

    with ProgressBar("paper.pdf", total=120, unit="pages") as bar:
        for i in ...:
            bar.update(i + 1)

Piped or redirected output stays clean: the bar does nothing then.
"""

from __future__ import annotations

import shutil
import sys
import time
from typing import TextIO

from ctxchat.engines.terminal_text import terminal_safe

# Redraw at most this often: terminals are slow and the bar is not worth the time.
REFRESH_SECONDS = 0.1


class ProgressBar:
    def __init__(
        self,
        label: str,
        total: int | None = None,
        *,
        unit: str = "pages",
        stream: TextIO | None = None,
        enabled: bool | None = None,
    ) -> None:
        self.label = terminal_safe(label)  # a file name is data, never terminal control
        self.total = total
        self.unit = unit
        self.stream = stream if stream is not None else sys.stderr
        if enabled is None:
            isatty = getattr(self.stream, "isatty", None)
            enabled = bool(isatty and isatty())
        self.enabled = enabled
        self.done = 0
        self._base = 0  # done when the clock started (a resumed job)
        self._start = time.monotonic()
        self._last_draw = 0.0
        self._drawn = False

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def update(self, done: int, total: int | None = None) -> None:
        self.done = done
        if total is not None:
            self.total = total
        now = time.monotonic()
        finished = self.total is not None and done >= self.total
        if self.enabled and (finished or now - self._last_draw >= REFRESH_SECONDS):
            self._last_draw = now
            self._draw(now)

    def render(self, width: int, now: float | None = None) -> str:
        """The bar as one line of at most `width` characters."""
        elapsed = max((now if now is not None else time.monotonic()) - self._start, 1e-6)
        rate = max(self.done - self._base, 0) / elapsed
        # Slow work (OCR reads a page in seconds) still shows a rate: 0.4 pages/s, not 0.
        shown = f"{rate:,.0f}" if rate >= 10 else f"{rate:.1f}" if rate >= 0.1 else f"{rate:.2f}"
        if self.total:
            counts = f" {self.done:,}/{self.total:,} {self.unit}  {shown} {self.unit}/s"
            if 0 < self.done < self.total and rate > 0:
                counts += f"  ~{_duration((self.total - self.done) / rate)} left"
        else:
            counts = f" {self.done} {self.unit}  {shown} {self.unit}/s"
        label = self.label if len(self.label) <= 30 else "\u2026" + self.label[-29:]
        room = width - len(label) - len(counts) - 3
        if self.total and room >= 10:
            filled = int(room * min(self.done / self.total, 1.0))
            bar = " [" + "#" * filled + "." * (room - filled) + "]"
        else:
            bar = ""
        return (label + bar + counts)[:width]

    def restart_clock(self, done: int = 0) -> None:
        """Measure the rate from now on (work already done before does not count)."""
        self._start = time.monotonic()
        self._base = done

    def _draw(self, now: float) -> None:
        width = shutil.get_terminal_size((80, 20)).columns - 1
        self.stream.write("\r" + self.render(width, now).ljust(width))
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        """Erase the bar so the next line of output starts clean."""
        if self._drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._drawn = False


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 5400:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"
