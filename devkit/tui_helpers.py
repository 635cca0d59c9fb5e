"""Shared helpers for the TUI tests: an app on a temporary library at a fixed size."""

from __future__ import annotations

from pathlib import Path

from textual import events
from textual.pilot import Pilot

from ctxchat.app.config import Config
from ctxchat.app.tui.app import CtxchatApp
from ctxchat.app.tui.widgets.prompt import PromptInput
from ctxchat.engines.store.db import Store

SIZE = (150, 40)
# Small enough for a quick CPU answer from the bundled 135M model.
TEST_CONFIG = Config(budget=300, n_ctx=2048, max_tokens=24, temperature=0.0, device="cpu")


def make_app(config: Config = TEST_CONFIG, *, preload: bool = False) -> CtxchatApp:
    return CtxchatApp(config=config, store=Store(), preload=preload)


async def settle(app: CtxchatApp, pilot: Pilot) -> None:
    """Let every worker finish and the screen catch up."""
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


async def paste(app: CtxchatApp, pilot: Pilot, text: str) -> None:
    """What a terminal sends for a drop: a bracketed paste into the focused prompt."""
    app.query_one(PromptInput).post_message(events.Paste(text))
    await settle(app, pilot)


def no_blink(app: CtxchatApp) -> None:
    app.query_one(PromptInput).cursor_blink = False


def table_names(app: CtxchatApp) -> list[str]:
    from ctxchat.app.tui.widgets.library import LibraryTable

    table = app.query_one(LibraryTable)
    return [str(table.get_row_at(i)[1]) for i in range(table.row_count)]


def pdf_named(folder: Path, name: str, pages: int = 4, seed: int = 7) -> Path:
    from devkit.docgen import long_pdf

    path = folder / name
    long_pdf(path, n_pages=pages, seed=seed)
    return path
