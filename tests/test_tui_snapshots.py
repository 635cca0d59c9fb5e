"""Snapshot tests of the main screens (pytest-textual-snapshot; update with
`pytest tests/test_tui_snapshots.py --snapshot-update` after checking the new pictures).

Content is deterministic: seeded PDFs, no dates, timings or temporary paths on screen,
and no background model loading (preload=False), so the status line is stable.
"""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot

from ctxchat.app.config import Config
from ctxchat.app.tui.dropped import ContextPiece
from ctxchat.app.tui.widgets.context import ContextPanel
from tests.tui_helpers import SIZE, make_app, no_blink, paste, pdf_named, settle

CONFIG = Config(device="cpu")


def test_main_screen_empty(snap_compare) -> None:
    async def before(pilot: Pilot) -> None:
        no_blink(pilot.app)

    assert snap_compare(make_app(CONFIG), terminal_size=SIZE, run_before=before)


def test_main_screen_with_library(snap_compare, tmp_path: Path) -> None:
    pdfs = [
        pdf_named(tmp_path, "coastal districts annual report.pdf", pages=5, seed=3),
        pdf_named(tmp_path, "depot inventory.pdf", pages=2, seed=4),
    ]

    async def before(pilot: Pilot) -> None:
        app = pilot.app
        no_blink(app)
        await paste(app, pilot, "\n".join(map(str, pdfs)))
        app.clear_notifications()
        await pilot.press("ctrl+l", "down", "space")  # second document: not in use
        await settle(app, pilot)

    assert snap_compare(make_app(CONFIG), terminal_size=SIZE, run_before=before)


def test_context_panel_kept_and_dropped_words(snap_compare) -> None:
    async def before(pilot: Pilot) -> None:
        app = pilot.app
        no_blink(app)
        words = "The locker number of the Dunmore depot is , as the survey found 93670 .".split()
        keep = [
            True,
            True,
            True,
            False,
            True,
            True,
            True,
            True,
            False,
            False,
            False,
            False,
            True,
            True,
        ]
        pieces = [
            ContextPiece(words, keep, page=3, doc_name="depot report.pdf"),
            ContextPiece(["Inspections", "resumed", "in", "spring."], [True] * 4, page=4),
        ]
        app.query_one(ContextPanel).set_context(pieces, title="Context sent · 18 tokens")
        await pilot.pause()

    assert snap_compare(make_app(CONFIG), terminal_size=SIZE, run_before=before)


def test_settings_screen(snap_compare) -> None:
    async def before(pilot: Pilot) -> None:
        no_blink(pilot.app)

    assert snap_compare(make_app(CONFIG), terminal_size=SIZE, press=["f2"], run_before=before)
