"""The settings screen offers the bundled, pulled and local-server chat models."""

from __future__ import annotations

import json

import pytest
from textual.app import App
from textual.widgets import Input, Select

from ctxchat.app.config import Config
from ctxchat.app.tui.screens.settings import PICK_GGUF, PICK_SERVER, SettingsScreen
from ctxchat.engines.hub import target_path
from tests.fake_servers import fake_openai_server


class Host(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.saved: list[Config | None] = []

    def on_mount(self) -> None:
        self.push_screen(SettingsScreen(Config()), self.saved.append)


def fake_pull(repo: str, file: str) -> str:
    """A pulled model as `models pull` leaves it: the GGUF and its .json beside it."""
    path = target_path(repo, file)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"GGUF" + bytes(64))
    info = {"repo": repo, "file": file, "sha256": "0" * 64, "size": 68}
    path.with_name(file + ".json").write_text(json.dumps(info))
    return str(path)


@pytest.mark.asyncio
async def test_picking_a_model_fills_the_fields_and_saves(monkeypatch: pytest.MonkeyPatch) -> None:
    pulled = fake_pull("Qwen/Qwen2.5-1.5B-Instruct-GGUF", "qwen2.5-1.5b-instruct-q4_k_m.gguf")
    with fake_openai_server(["llama3.2:3b", "gemma3:1b"]) as port:
        monkeypatch.setenv("CTXCHAT_SERVER_PORTS", f"Ollama={port}")
        app = Host()
        async with app.run_test(size=(120, 50)) as pilot:
            await pilot.pause()
            await app.workers.wait_for_complete()  # the screen's server search
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, SettingsScreen)
            picker = screen.query_one("#pick-model", Select)
            values = [value for _, value in picker._options if isinstance(value, str)]
            url = f"http://127.0.0.1:{port}"
            assert values == [
                PICK_GGUF,
                PICK_GGUF + pulled,
                f"{PICK_SERVER}{url}\tllama3.2:3b",
                f"{PICK_SERVER}{url}\tgemma3:1b",
            ]
            picker.value = PICK_GGUF + pulled
            await pilot.pause()
            assert screen.query_one("#set-chat_model", Input).value == pulled
            picker.value = f"{PICK_SERVER}{url}\tgemma3:1b"
            await pilot.pause()
            assert screen.query_one("#set-chat_model", Input).value == ""
            assert screen.query_one("#set-server_url", Input).value == url
            await pilot.press("ctrl+s")
            await pilot.pause()
    saved = app.saved[0]
    assert saved is not None
    assert (saved.chat_model, saved.server_url, saved.server_model) == ("", url, "gemma3:1b")
