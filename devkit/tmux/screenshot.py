"""Make docs/tui.svg, the README's picture of the main screen, from a real session:
a generated PDF dropped in, a question answered by the bundled model, and the context
panel at the page the answer cites (when it cites one).

    python -m devkit.tmux.screenshot docs/tui.svg [WIDTHxHEIGHT]   (default 160x42)
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path


async def shoot(out: Path, size: tuple[int, int]) -> None:
    from devkit.docgen import long_pdf
    from devkit.tui_helpers import TEST_CONFIG, make_app, paste, settle

    folder = Path(tempfile.mkdtemp(prefix="ctxchat-shot-"))
    pdf = folder / "coastal districts report.pdf"
    _, facts = long_pdf(pdf, n_pages=12, seed=5)
    app = make_app(TEST_CONFIG.with_changes(max_tokens=48))
    async with app.run_test(size=size) as pilot:
        await paste(app, pilot, f"'{pdf}'")
        app.clear_notifications()
        prompt = app.query_one("#prompt")
        # Two questions: the status line then shows warm times (models loaded), not the
        # first question's one-off model loading.
        for fact in facts[:2]:
            prompt.value = fact.question
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
    out.parent.mkdir(parents=True, exist_ok=True)
    asyncio.run(shoot(out, (width, height)))
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
