"""Pilot tests of the terminal app's flows that need no chat model: drops, ingest, library,
settings, chats, export. The ask flow with the bundled model is in test_tui_answer.py."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest

from ctxchat.app.config import Config, load_config
from ctxchat.app.tui.screens.settings import SettingsScreen
from ctxchat.app.tui.widgets.library import LibraryTable
from ctxchat.app.tui.widgets.prompt import PromptInput
from ctxchat.engines.store.db import Store
from devkit.docgen import encrypted_pdf, garbage_pdf
from devkit.tui_helpers import SIZE, make_app, paste, pdf_named, settle, table_names


@pytest.fixture
def pdfs(tmp_path: Path) -> list[Path]:
    return [
        pdf_named(tmp_path, "field report 2024.pdf", pages=3, seed=1),
        pdf_named(tmp_path, "naïve café (draft).pdf", pages=2, seed=2),
    ]


def _escaped(path: Path) -> str:
    return "".join("\\" + c if c in " ()" else c for c in str(path))


DROP_SPELLINGS = {
    "raw": lambda ps: "\n".join(str(p) for p in ps),
    "single-quoted": lambda ps: " ".join(f"'{p}'" for p in ps),
    "double-quoted": lambda ps: " ".join(f'"{p}"' for p in ps),
    "backslash-escaped": lambda ps: " ".join(_escaped(p) for p in ps) + " ",
    "file-uri": lambda ps: "\r\n".join(f"file://{quote(str(p))}" for p in ps),
}


@pytest.mark.parametrize("spelling", list(DROP_SPELLINGS))
@pytest.mark.asyncio
async def test_dropped_pdfs_are_ingested(pdfs: list[Path], spelling: str) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await paste(app, pilot, DROP_SPELLINGS[spelling](pdfs))
        assert sorted(table_names(app)) == sorted(p.name for p in pdfs)
        assert app.query_one(PromptInput).value == ""  # a drop is not typed text
        docs = Store().documents()
        assert {d.pages for d in docs} == {3, 2}
        assert app.session.used == {d.id for d in docs}  # new documents are in use
        assert any("field report 2024.pdf: added, 3 pages" in n for n in app.notices)


@pytest.mark.asyncio
async def test_a_document_an_older_ctxchat_read_is_read_again_when_the_app_starts(
    pdfs: list[Path],
) -> None:
    from ctxchat.engines.ingest.library import add_path
    from ctxchat.engines.pipeline import add_text

    with Store() as store:
        doc = add_path(store, pdfs[0]).document
        pasted = add_text(store, "Text given through the Python API has no file.", name="notes")
        store.conn.execute("UPDATE documents SET reader=0")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert "reading again with this version's fixes: field report 2024.pdf" in app.notices
        assert not any("notes" in n for n in app.notices)  # no file to read: not named
        assert any(
            "field report 2024.pdf: read again (an older ctxchat had read it), 3 pages" in n
            for n in app.notices
        )
        assert not app.read_by_older(pdfs[0])
        assert {d.id for d in Store().documents()} == {doc.id, pasted.id}  # the same ids
    with Store() as store:
        assert store.document(doc.id).reader > 0


@pytest.mark.asyncio
async def test_an_older_reading_whose_file_moved_is_named_and_read_again_on_drop(
    pdfs: list[Path], tmp_path: Path
) -> None:
    from ctxchat.engines.ingest.library import add_path

    moved = tmp_path / "moved"
    moved.mkdir()
    with Store() as store:
        doc = add_path(store, pdfs[0]).document
        store.conn.execute("UPDATE documents SET reader=0 WHERE id=?", (doc.id,))
    copy = moved / pdfs[0].name
    pdfs[0].rename(copy)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert any(
            n.startswith("read by an older ctxchat: field report 2024.pdf, and the file moved.")
            for n in app.notices
        )
        await paste(app, pilot, str(copy))
        assert any(
            "field report 2024.pdf: read again (an older ctxchat had read it), 3 pages" in n
            for n in app.notices
        )
        assert [d.id for d in Store().documents()] == [doc.id]
    with Store() as store:
        assert store.document(doc.id).reader > 0


@pytest.mark.asyncio
async def test_a_typed_path_is_added_not_asked(pdfs: list[Path]) -> None:
    """A terminal without bracketed paste types a drop as keys; a person may type a path."""
    from ctxchat.app.tui.widgets.chat import Question

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*str(pdfs[1]), "enter")
        await settle(app, pilot)
        assert table_names(app) == [pdfs[1].name]
        assert any(f"{pdfs[1].name}: added, 2 pages" in n for n in app.notices)
        assert not app.query(Question)  # nothing was asked
        assert app.query_one(PromptInput).value == ""


@pytest.mark.asyncio
async def test_ingest_reports_progress_per_page(pdfs: list[Path]) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await paste(app, pilot, str(pdfs[0]))
        assert app.progress_log[pdfs[0].name] == [(1, 3), (2, 3), (3, 3)]
        assert not app.query("IngestProgress")  # the bar goes once the file is in


@pytest.mark.asyncio
async def test_pasted_text_goes_into_the_prompt() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await paste(app, pilot, "What is the vault code\nof the Amberley depot?")
        assert app.query_one(PromptInput).value == "What is the vault code of the Amberley depot?"
        assert table_names(app) == []


@pytest.mark.asyncio
async def test_bad_files_are_notified_and_the_app_keeps_running(tmp_path: Path) -> None:
    bad = garbage_pdf(tmp_path / "broken.pdf")
    locked = encrypted_pdf(tmp_path / "locked.pdf")
    good = pdf_named(tmp_path, "good.pdf", pages=2)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await paste(app, pilot, f"{bad}\n{locked}\n{good}")
        assert table_names(app) == ["good.pdf"]
        errors = [n for n in app.notices if "good.pdf" not in n]
        assert len(errors) == 2
        assert any("password" in n.lower() for n in errors)
        assert app.is_running


@pytest.mark.asyncio
async def test_drop_with_focus_on_the_library(pdfs: list[Path]) -> None:
    from textual import events

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+l")
        assert isinstance(app.focused, LibraryTable)
        app.post_message(events.Paste(f"'{pdfs[1]}'"))  # as the driver does
        await settle(app, pilot)
        assert table_names(app) == [pdfs[1].name]


@pytest.mark.asyncio
async def test_space_toggles_use_and_delete_removes(pdfs: list[Path]) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await paste(app, pilot, "\n".join(map(str, pdfs)))
        await pilot.press("ctrl+l")
        first = Store().documents()[0].id
        await pilot.press("space")
        await pilot.pause()
        assert first not in app.session.used
        await pilot.press("space")
        await pilot.pause()
        assert first in app.session.used
        await pilot.press("delete")
        await pilot.pause()
        assert len(table_names(app)) == 1
        assert first not in {d.id for d in Store().documents()}


@pytest.mark.asyncio
async def test_settings_are_saved_to_the_config_file() -> None:
    app = make_app(Config())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f2")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SettingsScreen)
        screen.query_one("#set-budget").value = ""
        screen.query_one("#set-rate").value = "0.2"
        screen.query_one("#set-n_ctx").value = "2048"
        screen.query_one("#set-kv_type").value = "q4_0"
        screen.query_one("#set-precision").value = "int8"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not isinstance(app.screen, SettingsScreen)
    saved = load_config()
    assert (saved.rate, saved.budget, saved.n_ctx, saved.kv_type) == (0.2, None, 2048, "q4_0")
    assert saved.precision == "int8"
    assert app.status_info.kv_type == "q4_0"
    # The compressor the session prunes with follows the saved settings.
    setup = app.session.compressor_setup()
    assert (setup.model, setup.device, setup.precision) == (None, "auto", "int8")


@pytest.mark.asyncio
async def test_settings_reject_a_bad_value_and_stay_open() -> None:
    app = make_app(Config())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f2")
        await pilot.pause()
        app.screen.query_one("#set-rate").value = "2"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, SettingsScreen)
        assert "rate" in str(app.screen.query_one("#settings-error").render())
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, SettingsScreen)
    assert load_config() == Config()


@pytest.mark.asyncio
async def test_every_action_is_in_the_command_palette() -> None:
    app = make_app()
    async with app.run_test(size=SIZE):
        titles = {c.title for c in app.get_system_commands(app.screen)}
    for title in (
        "Copy prompt",
        "Save prompt",
        "Settings",
        "Open chat",
        "New chat",
        "Toggle dropped words",
        "Cancel answer",
        "Library",
        "Context",
        "Cited page",
    ):
        assert title in titles


def test_app_start_imports_no_model_library() -> None:
    # The first paint must not wait for torch / transformers / llama.cpp.
    import subprocess
    import sys

    code = (
        "import sys, ctxchat.app.tui.app, ctxchat.app.tui.main; "
        "print(sorted(m for m in ('torch', 'transformers', 'llama_cpp') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_dropped_words_are_recovered_between_kept_words() -> None:
    from ctxchat.app.tui.dropped import align_kept

    source = "Intro text. The locker number of the Dunmore depot is, as found, 93670.".split()
    kept = "locker number Dunmore depot 93670.".split()
    words, flags = align_kept(kept, source)
    assert words == "locker number of the Dunmore depot is, as found, 93670.".split()
    assert flags == [True, True, False, False, True, True, False, False, False, True]


def test_unmatched_kept_words_stay_kept() -> None:
    from ctxchat.app.tui.dropped import align_kept

    words, flags = align_kept(["alpha", "zeta", "beta"], ["alpha", "x", "beta"])
    assert words == ["alpha", "zeta", "x", "beta"]
    assert flags == [True, True, False, True]


def _add_to_library(*paths: Path) -> list[int]:
    """What `ctxchat add` does before the app is opened."""
    from ctxchat.engines.ingest.library import add_path

    store = Store()
    try:
        return [add_path(store, p).document.id for p in paths]
    finally:
        store.close()


def _marks(app) -> list[str]:
    table = app.query_one(LibraryTable)
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


@pytest.mark.asyncio
async def test_the_latest_document_is_in_use_at_start(pdfs: list[Path]) -> None:
    first, latest = _add_to_library(*pdfs)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.session.used == {latest}
        assert _marks(app) == ["○", "●"]


@pytest.mark.asyncio
async def test_the_documents_in_use_are_kept_for_the_next_start(
    pdfs: list[Path], tmp_path: Path
) -> None:
    first, latest = _add_to_library(*pdfs)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+l", "space")  # the cursor's row, the first: both in use
        await pilot.pause()
        assert app.session.used == {first, latest}
    again = make_app()  # the terminal was closed, the app opened again
    async with again.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert again.session.used == {first, latest}
        assert _marks(again) == ["●", "●"]
    # A document added from the command line since then is the one in use, as on a first
    # start: `ctxchat add x.pdf`, then the app, is asking about x.pdf.
    [added] = _add_to_library(pdf_named(tmp_path, "third.pdf", pages=2, seed=21))
    after_add = make_app()
    async with after_add.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert after_add.session.used == {added}


def test_an_unreadable_choice_falls_back_to_the_newest_document(pdfs: list[Path]) -> None:
    from ctxchat.app.tui.in_use import in_use_path
    from ctxchat.app.tui.session import Session

    _, latest = _add_to_library(*pdfs)
    with Store() as store:
        in_use_path(store.path).write_text('{"doc_ids": [1, 2')  # cut off mid-write
        session = Session(store, Config())
        session.restore_used()
        assert session.used == {latest}


@pytest.mark.asyncio
async def test_asking_with_no_document_in_use_keeps_the_question(pdfs: list[Path]) -> None:
    from ctxchat.app.tui.session import NO_DOCUMENT
    from ctxchat.app.tui.widgets.chat import Question

    _add_to_library(pdfs[0])
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+l", "space")  # the only document: no longer in use
        await pilot.pause()
        assert app.session.used == set()
        await pilot.press("tab", *"what is the code?", "enter")
        await settle(app, pilot)
        assert NO_DOCUMENT in app.notices
        assert app.query_one(PromptInput).value == "what is the code?"
        assert not app.query(Question)  # nothing was asked
        assert not app.session.llm_loaded  # and the chat model was never called


@pytest.mark.asyncio
async def test_export_with_no_document_in_use_says_so() -> None:
    from ctxchat.app.tui.session import NO_DOCUMENT

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"a question", "ctrl+y")
        await settle(app, pilot)
        assert NO_DOCUMENT in app.notices
        assert app.last_copy is None


@pytest.mark.asyncio
async def test_tab_goes_from_the_library_to_the_prompt(pdfs: list[Path]) -> None:
    _add_to_library(*pdfs)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+l", "space", "space")
        await pilot.pause()
        await pilot.press("tab")
        assert isinstance(app.focused, PromptInput)
        await pilot.press(*"who found it?")
        assert app.query_one(PromptInput).value == "who found it?"
        await pilot.press("shift+tab")
        assert isinstance(app.focused, LibraryTable)


@pytest.mark.asyncio
async def test_the_prompt_has_focus_after_a_drop(pdfs: list[Path]) -> None:
    from textual import events

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+l")
        app.post_message(events.Paste(f"'{pdfs[0]}'"))
        await settle(app, pilot)
        assert table_names(app) == [pdfs[0].name]
        assert isinstance(app.focused, PromptInput)


@pytest.mark.asyncio
async def test_status_shows_the_resolved_device() -> None:
    from ctxchat.engines.models import torch_device

    app = make_app(Config(device="auto"))
    async with app.run_test(size=SIZE) as pilot:
        assert "auto ·" in app.status_info.render_line()  # nothing resolved at first paint
        app.resolve_device_worker()
        await settle(app, pilot)
        line = str(app.query_one("#status").render())
        assert f"{torch_device('auto')} ·" in line and "auto" not in line


@pytest.mark.asyncio
async def test_copy_is_the_shared_export_prompt(tmp_path: Path) -> None:
    from ctxchat.engines.answer.export import export_prompt
    from ctxchat.engines.tokens import count_tokens

    report = pdf_named(tmp_path, "depot.pdf", pages=4, seed=5)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await paste(app, pilot, str(report))
        await pilot.press(*"Which depot was inspected?", "ctrl+y")
        await settle(app, pilot)
        expected = export_prompt(app.session.last_compressed, "Which depot was inspected?")
        assert app.clipboard == expected
        assert f"Copied the prompt: {count_tokens(expected):,} tokens" in app.notices[-1]


@pytest.mark.asyncio
async def test_page_keys_scroll_the_chat_from_the_prompt() -> None:
    from ctxchat.app.tui.widgets.chat import ChatView

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        chat = app.query_one(ChatView)
        for i in range(60):
            await chat.add_notice(f"line {i}")
        await pilot.pause()
        chat.scroll_end(animate=False)
        await pilot.pause()
        bottom = chat.scroll_y
        assert bottom > 0 and isinstance(app.focused, PromptInput)
        await pilot.press("pageup")
        await pilot.pause()
        assert chat.scroll_y < bottom


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("again", "words"), [(False, "Adding a.pdf"), (True, "Reading again a.pdf")]
)
async def test_the_ingest_bar_names_what_it_does(again: bool, words: str) -> None:
    from textual.app import App, ComposeResult
    from textual.widgets import Label

    from ctxchat.app.tui.widgets.library import IngestProgress

    class Bar(App):
        def compose(self) -> ComposeResult:
            yield IngestProgress("a.pdf", again=again)

    async with Bar().run_test() as pilot:
        label = pilot.app.query_one(".ingest-name", Label)
        assert str(label.render()) == words


@pytest.mark.asyncio
@pytest.mark.parametrize("early", [True, False])
async def test_a_finished_index_invites_the_question_again(pdfs: list[Path], early: bool) -> None:
    """An answer read while the index was being built is marked "early answer"; once the
    index is whole the note goes and the app says that asking again reads all of it."""
    from ctxchat.app.tui.messages import IndexProgressed
    from ctxchat.engines.select.indexing import IndexProgress

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await paste(app, pilot, str(pdfs[0]))
        await settle(app, pilot)
        app.status_info.early_index = 60 if early else None
        doc_id = Store().documents()[0].id
        app.post_message(IndexProgressed(doc_id, pdfs[0].name, IndexProgress(doc_id, 9, 9)))
        await settle(app, pilot)
        assert app.status_info.early_index is None
        invited = any(f"{pdfs[0].name} is fully indexed: ask again" in n for n in app.notices)
        assert invited == early
