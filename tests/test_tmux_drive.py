"""The real app in a real terminal: tmux pastes a generated PDF's path (a drop), the test
asks a question, waits for the streamed answer and copies the prompt with Ctrl+Y."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ctxchat.app.config import Config, save_config
from ctxchat.engines.store import Store
from tests.docgen import long_pdf
from tests.tmux.drive import drive

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]


def test_drop_ask_copy_in_tmux(tmp_path: Path, ctxchat_home: Path) -> None:
    pdf = tmp_path / "drive report (final).pdf"
    _, facts = long_pdf(pdf, n_pages=5, seed=5)
    question = facts[0].question
    # Small and quick: the bundled 135M model with a short answer.
    save_config(Config(budget=300, n_ctx=2048, max_tokens=24, temperature=0.0))

    result = drive(pdf, question, ctxchat_home)

    assert result.clipboard.rstrip().endswith(f"Question: {question}")
    assert "[p." in result.clipboard
    store = Store()
    [doc] = store.documents()
    assert doc.name == pdf.name and doc.pages == 5
    [chat] = store.chats()
    messages = store.messages(chat["id"])
    assert [m["role"] for m in messages] == ["user", "assistant"]
    assert messages[0]["content"] == question and messages[1]["content"].strip()
    assert any("Copied the prompt" in screen for screen in result.screens)
