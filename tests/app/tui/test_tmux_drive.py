"""The real app in a real terminal: tmux pastes a generated PDF's path (a drop), the test
asks a question, waits for the streamed answer and copies the prompt with Ctrl+Y."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ctxchat.app.config import Config, save_config
from ctxchat.engines.store.db import Store
from devkit.docgen import long_pdf
from devkit.tmux.drive import drive

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]


@pytest.mark.parametrize(
    ("size", "pages"), [((160, 45), 5), ((80, 24), 40)], ids=["160x45", "80x24-40-pages"]
)
def test_drop_ask_copy_in_tmux(
    tmp_path: Path, ctxchat_home: Path, size: tuple[int, int], pages: int
) -> None:
    pdf = tmp_path / "drive report (final).pdf"
    _, facts = long_pdf(pdf, n_pages=pages, seed=5)
    question = facts[0].question
    # Small and quick: the bundled 135M model with a short answer.
    save_config(Config(budget=300, n_ctx=2048, max_tokens=24, temperature=0.0))

    result = drive(pdf, question, ctxchat_home, size=size)

    assert result.clipboard.rstrip().endswith(f"Question: {question}")
    assert "[p." in result.clipboard
    store = Store()
    [doc] = store.documents()
    assert doc.name == pdf.name and doc.pages == pages
    [chat] = store.chats()
    messages = store.messages(chat.id)
    assert [m.role for m in messages] == ["user", "assistant"]
    assert messages[0].content == question and messages[1].content.strip()
    assert any("Copied the prompt" in screen for screen in result.screens)
    # Read on screen without resizing: the question and the answer's start in the chat.
    answer_start = " ".join(messages[1].content.split()[:3])
    assert question[:40] in result.answer_screen and answer_start in result.answer_screen
    print(f"first screen at {size[0]}x{size[1]}: {result.first_paint_s:.2f} s")
