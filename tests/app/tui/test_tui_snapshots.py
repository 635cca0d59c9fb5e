"""Snapshot tests of the main screens (pytest-textual-snapshot; update with
`pytest tests/app/tui/test_tui_snapshots.py --snapshot-update` after checking the new pictures).

Content is deterministic: seeded PDFs, no dates, timings or temporary paths on screen,
and no background model loading (preload=False), so the status line is stable.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot

from ctxchat.app.config import Config
from ctxchat.app.tui.dropped import ContextPiece, piece_from_source
from ctxchat.app.tui.widgets.chat import ChatView
from ctxchat.app.tui.widgets.context import ContextPanel
from devkit.tui_helpers import SIZE, make_app, no_blink, paste, pdf_named, settle

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


# -- the layout at the sizes people use: 80x24 (most terminals' default), 120x36, 200x50 --

SIZES = [(80, 24), (120, 36), (200, 50)]
SOURCE_P2 = (
    "The library board catalogued the reconstruction of storehouses without reaching a "
    "conclusion. The access code of the Amberley depot is 93767, as the survey found."
)
SOURCE_P3 = "Inspections resumed in spring. The depot reopened in May."


async def a_conversation(pilot: Pilot, tmp_path: Path) -> None:
    """A document in the library, a question, an answer citing p. 2 and the context sent
    (set directly: no chat model, so the picture is the same on every machine)."""
    app = pilot.app
    no_blink(app)
    pdf = pdf_named(tmp_path, "coastal districts annual report.pdf", pages=3, seed=3)
    await paste(app, pilot, str(pdf))
    app.clear_notifications()
    chat = app.query_one(ChatView)
    await chat.add_question("What is the access code of the Amberley depot?")
    await chat.add_answer("The access code of the Amberley depot is 93767 [p. 2].")
    kept_p2 = "library board reconstruction storehouses . access code Amberley depot 93767,"
    pieces = [
        piece_from_source(kept_p2, SOURCE_P2, page=2),
        piece_from_source("Inspections resumed in spring.", SOURCE_P3, page=3),
    ]
    app.query_one(ContextPanel).set_context(pieces, title="Context sent · 24 tokens")
    await settle(app, pilot)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_first_screen(snap_compare, size: tuple[int, int]) -> None:
    async def before(pilot: Pilot) -> None:
        no_blink(pilot.app)

    assert snap_compare(make_app(CONFIG), terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_conversation(snap_compare, tmp_path: Path, size: tuple[int, int]) -> None:
    async def before(pilot: Pilot) -> None:
        await a_conversation(pilot, tmp_path)

    assert snap_compare(make_app(CONFIG), terminal_size=size, run_before=before)


def test_library_over_the_chat_at_80x24(snap_compare, tmp_path: Path) -> None:
    async def before(pilot: Pilot) -> None:
        await a_conversation(pilot, tmp_path)
        await pilot.press("ctrl+l")
        await pilot.pause()

    assert snap_compare(make_app(CONFIG), terminal_size=(80, 24), run_before=before)


def test_cited_page_over_the_chat_at_80x24(snap_compare, tmp_path: Path) -> None:
    async def before(pilot: Pilot) -> None:
        await a_conversation(pilot, tmp_path)
        await pilot.press("ctrl+g")  # the answer's [p. 2]
        await pilot.pause()
        await pilot.pause()

    assert snap_compare(make_app(CONFIG), terminal_size=(80, 24), run_before=before)
