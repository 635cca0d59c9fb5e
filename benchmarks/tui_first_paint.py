"""How long the terminal app takes to draw its first screen, in a real terminal (tmux).

The clock runs from starting the command to the first capture of tmux's pane that shows the
whole first screen (the welcome lines and the footer), polled every 10 ms. The same harness
runs a baseline: a bare Textual app with the same widgets kinds (header, text, input,
footer) and no ctxchat code, so the table shows what ctxchat adds to what any Textual app
pays. Runs alternate (ctxchat, baseline, ctxchat, ...) so machine load hits both alike.
Wall time on a shared machine mostly measures the load, so the CPU seconds each process
spent up to its first frame (headless, user + sys) are reported too: those barely depend
on what else runs.

    python -m benchmarks.tui_first_paint [--runs 7] [--size 80x24]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from devkit.tmux.drive import Tmux

BASELINE_APP = """
from textual.app import App
from textual.widgets import Footer, Header, Input, Static

class Bare(App):
    BINDINGS = [("ctrl+y", "quit", "Copy prompt")]
    def compose(self):
        yield Header()
        yield Static("Drop a PDF here")
        yield Input()
        yield Footer()

Bare().run()
"""


CPU_PROBE = """
import resource, sys, time
from textual.app import App

def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime

if sys.argv[1] == "ctxchat":
    from ctxchat.app.config import load_config
    from ctxchat.app.tui.app import CtxchatApp as Base
    make = lambda cls: cls(config=load_config())
else:
    exec(BASELINE.replace("Bare().run()", ""))
    Base, make = Bare, lambda cls: cls()

class Probe(Base):
    if Base.CSS_PATH:  # the stylesheet sits beside the real app's module
        import inspect, pathlib
        CSS_PATH = str(pathlib.Path(inspect.getfile(Base)).parent / Base.CSS_PATH)

    def on_mount(self):
        getattr(super(), "on_mount", lambda: None)()
        self.call_after_refresh(self.done)
    def done(self):
        print(f"{cpu():.3f}")
        self.exit()

make(Probe).run(headless=True, size=(80, 24))
"""


def cpu_to_first_frame(app: str, env: dict[str, str]) -> float:
    """CPU seconds (user + sys) a headless run spends up to its first frame."""
    import subprocess

    code = f"BASELINE = {BASELINE_APP!r}\n{CPU_PROBE}"
    out = subprocess.run(
        [sys.executable, "-c", code, app],
        capture_output=True, text=True, check=True, env={**os.environ, **env},
    )  # fmt: skip
    return float(out.stdout.strip().splitlines()[-1])


def first_paint(command: list[str], env: dict[str, str], size: tuple[int, int], run: int) -> float:
    """Seconds from starting `command` in a fresh tmux to its first full screen."""
    socket = f"ctxchat-paint-{os.getpid()}-{run}"  # a new server each run
    tmux = Tmux(socket=socket, width=size[0], height=size[1])
    try:
        started = time.monotonic()
        tmux.start(command, env)
        tmux.wait_for(
            lambda s: "Drop a PDF" in s and "Copy prompt" in s, "the first screen", 60, poll=0.01
        )
        return time.monotonic() - started
    finally:
        tmux.kill()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="runs of each app (default 7)")
    parser.add_argument("--size", default="80x24", help="terminal size, WIDTHxHEIGHT")
    args = parser.parse_args(argv)
    size = tuple(int(n) for n in args.size.split("x"))
    folder = Path(tempfile.mkdtemp(prefix="ctxchat-paint-"))
    baseline = folder / "bare_textual_app.py"
    baseline.write_text(BASELINE_APP, encoding="utf-8")
    env = {
        "CTXCHAT_HOME": str(folder / "home"),
        "TERM": "xterm-256color",
        "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
    }
    os.environ.setdefault("TMUX_TMPDIR", str(folder))
    apps = {
        "ctxchat": [sys.executable, "-m", "ctxchat.app.cli"],
        "bare Textual app": [sys.executable, str(baseline)],
    }
    times: dict[str, list[float]] = {name: [] for name in apps}
    cpu: dict[str, list[float]] = {name: [] for name in apps}
    for run in range(args.runs):
        for n, (name, command) in enumerate(apps.items()):
            seconds = first_paint(command, env, size, 2 * run + n)  # type: ignore[arg-type]
            times[name].append(seconds)
            cpu[name].append(cpu_to_first_frame("ctxchat" if n == 0 else "bare", env))
    load = os.getloadavg()[0]
    print(
        f"first paint at {args.size}, {args.runs} runs each, load average {load:.1f}, "
        f"{os.cpu_count()} CPUs"
    )
    print("| app | wall s, median | min | max | CPU s to first frame, median |")
    print("|---|---|---|---|---|")
    for name, values in times.items():
        print(
            f"| {name} | {statistics.median(values):.2f} | {min(values):.2f} | "
            f"{max(values):.2f} | {statistics.median(cpu[name]):.2f} |"
        )
    ratio = statistics.median(times["ctxchat"]) / statistics.median(times["bare Textual app"])
    print(f"ctxchat / bare Textual: {ratio:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
