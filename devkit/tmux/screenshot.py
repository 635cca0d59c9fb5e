"""Make docs/tui.svg, the README's picture of the main screen, from a real session:
a PDF dropped in, questions answered by the bundled model, and the context panel at the
page the answer cites (when it cites one).

    python -m devkit.tmux.screenshot docs/tui.svg [WIDTHxHEIGHT] [PDF QUESTION...]

Without PDF a generated report and two of its questions are used (default size 160x42).
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path


def _generated() -> tuple[Path, list[str]]:
    from devkit.docgen import long_pdf

    folder = Path(tempfile.mkdtemp(prefix="ctxchat-shot-"))
    pdf = folder / "coastal districts report.pdf"
    _, facts = long_pdf(pdf, n_pages=12, seed=5)
    return pdf, [fact.question for fact in facts[:2]]


async def shoot(out: Path, size: tuple[int, int], pdf: Path, questions: list[str]) -> None:
    from devkit.tui_helpers import TEST_CONFIG, make_app, paste, settle

    app = make_app(TEST_CONFIG.with_changes(max_tokens=48))
    async with app.run_test(size=size) as pilot:
        await paste(app, pilot, f"'{pdf}'")
        app.clear_notifications()
        prompt = app.query_one("#prompt")
        # Two questions: the status line then shows warm times (models loaded), not the
        # first question's one-off model loading.
        for question in questions:
            prompt.value = question
            await pilot.press("enter")
            await settle(app, pilot)
        # The context panel at the answer's first cited page (a notice if it cites none),
        # then Esc: back to the chat where the panel is drawn over it.
        await pilot.press("ctrl+g", "escape")
        await pilot.pause()
        app.clear_notifications()
        prompt.cursor_blink = False
        await pilot.pause()
        app.save_screenshot(filename=out.name, path=str(out.parent))


def main(argv: list[str]) -> int:
    os.environ.setdefault("CTXCHAT_HOME", tempfile.mkdtemp(prefix="ctxchat-home-"))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    out = Path(argv[0] if argv else "docs/tui.svg").resolve()
    width, height = (int(n) for n in (argv[1] if len(argv) > 1 else "160x42").split("x"))
    pdf, questions = (Path(argv[2]), argv[3:]) if len(argv) > 3 else _generated()
    out.parent.mkdir(parents=True, exist_ok=True)
    asyncio.run(shoot(out, (width, height), pdf, questions))
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
