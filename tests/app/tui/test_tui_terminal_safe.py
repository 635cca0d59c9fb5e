"""No terminal control from a document, file name, server or model reaches the screen.

A hostile .txt (and a PDF with a hostile name) carries an OSC 52 clipboard write, CSI
sequences, the one-character CSI U+009B and a bidi override; a fake local server lists a
model named like that and the model's answer carries them too. Every widget the TUI draws
must show them escaped (engines/terminal_text.py), never raw.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.app import App
from textual.geometry import Region
from textual.widgets import Markdown, Select

from ctxchat.app.config import Config
from ctxchat.app.tui.screens.chats import ChatsScreen
from ctxchat.app.tui.screens.settings import SettingsScreen
from ctxchat.app.tui.widgets.chat import ChatView
from ctxchat.app.tui.widgets.prompt import PromptInput
from devkit.tui_helpers import SIZE, make_app, paste, pdf_named, settle, table_names
from tests.fake_servers import fake_openai_server

pytestmark = pytest.mark.asyncio

OSC52 = "\x1b]52;c;aGFja2Vk\x07"  # writes "hacked" to the clipboard
CSI = "\x1b[2J\x1b[31m"  # clear the screen, go red
C1_CSI = "\x9b1;1H"  # cursor home, with the one-character CSI
BIDI = "\u202e"  # right-to-left override
HOSTILE = OSC52 + CSI + C1_CSI + BIDI
RAW = ("\x1b", "\x07", "\x9b", "\u202e")


def drawn_text(app: App[object]) -> str:
    """Everything the widgets of the current screen (toasts included) render, as text."""
    parts = []
    for widget in app.screen.query("*"):
        width, height = widget.size
        if width and height:
            strips = widget.render_lines(Region(0, 0, width, height))
            parts.extend(segment.text for strip in strips for segment in strip)
    parts.append(app.export_screenshot())
    return "".join(parts)


def assert_no_controls(app: App[object]) -> str:
    text = drawn_text(app)
    found = [ascii(c) for c in RAW if c in text]
    assert not found, f"raw terminal controls drawn: {found}"
    return text


def hostile_txt(folder: Path) -> Path:
    path = folder / f"notes{HOSTILE}.txt"
    sentences = [
        f"The depot ledger lists {HOSTILE} forty crates of copper wire.",
        "The night guard signs the ledger at nine.",
        f"Shipments leave on Tuesdays{CSI} from the north gate.",
    ]
    path.write_text(" ".join(sentences * 6) + "\n", encoding="utf-8")
    return path


@pytest.mark.slow  # the bundled model answers the question
async def test_documents_names_answers_and_chats_are_drawn_escaped(tmp_path: Path) -> None:
    txt = hostile_txt(tmp_path)
    pdf = pdf_named(tmp_path, f"report{C1_CSI}{BIDI}.pdf", pages=2)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await paste(app, pilot, f"'{txt}'")
        await paste(app, pilot, f"'{pdf}'")
        assert len(table_names(app)) == 2, app.notices
        prompt = app.query_one(PromptInput)
        prompt.focus()
        await paste(app, pilot, f"How many crates{HOSTILE}?")  # pasted text, not a path
        assert_no_controls(app)
        await pilot.press("enter")
        await settle(app, pilot)
        # The model's answer enters like a streamed one, with the controls in it.
        answer = await app.query_one(ChatView).add_answer()
        stream = Markdown.get_stream(answer)
        await stream.write(f"Forty crates [p. 1]{OSC52} and ")
        await stream.write(f"{CSI}{C1_CSI}{BIDI}done.")
        await stream.stop()
        app.say(f"Added {txt.name}", title=txt.name)
        app.status_info.model = f"model{HOSTILE}"
        app.show_status()
        await pilot.pause()
        text = assert_no_controls(app)
        # The hostile parts are on screen, escaped, not lost.
        assert "\\x1b]52;c;aGFja2Vk\\x07" in text and "\\u202e" in text and "\\x9b" in text
        # Saved chats: the question is the chat's title.
        app.push_screen(ChatsScreen(app.store.chats()))
        await pilot.pause()
        assert "\\x1b" in assert_no_controls(app)


async def test_server_model_names_are_drawn_escaped(monkeypatch: pytest.MonkeyPatch) -> None:
    with fake_openai_server([f"llama{HOSTILE}:3b"]) as port:
        monkeypatch.setenv("CTXCHAT_SERVER_PORTS", f"Ollama={port}")
        app = App[None]()
        async with app.run_test(size=(120, 50)) as pilot:
            app.push_screen(SettingsScreen(Config()))
            await settle(app, pilot)  # type: ignore[arg-type]
            await pilot.press("tab")  # the picker, opened to show its options
            await pilot.press("enter")
            await pilot.pause()
            assert "llama\\x1b" in assert_no_controls(app)
            # Picking it fills the server model field.
            await pilot.press("escape")  # the list closes; the screen stays
            picker = app.screen.query_one("#pick-model", Select)
            picker.value = next(v for _, v in picker._options if "llama" in str(v))
            await pilot.pause()
            assert "llama\\x1b" in str(app.screen.query_one("#set-server_model").value)
            assert_no_controls(app)
