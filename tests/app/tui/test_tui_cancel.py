"""Esc stops an answer while the model is still reading a long prompt (prefill), and the
question goes back into the input. Real bundled SmolLM2 model, real PDF."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from ctxchat.app.tui.widgets.chat import Notice
from ctxchat.app.tui.widgets.prompt import PromptInput
from ctxchat.engines.answer.llm import LocalLLM
from devkit.docgen import long_pdf
from devkit.tui_helpers import SIZE, TEST_CONFIG, make_app, paste, settle

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]


async def test_escape_during_prefill_stops_the_prompt_reading(tmp_path: Path) -> None:
    path = tmp_path / "long report.pdf"
    long_pdf(path, n_pages=40, seed=21)
    # ~1,500 tokens of context, all read (a small reader reads only the evidence by default):
    # the bundled model needs many seconds to read it here.
    config = TEST_CONFIG.with_changes(budget=1500, n_ctx=4096, max_tokens=64, reader_context="all")
    app = make_app(config)
    async with app.run_test(size=SIZE) as pilot:
        await paste(app, pilot, str(path))
        question = "What is written about every depot in the report?"
        prompt = app.query_one(PromptInput)
        prompt.value = question
        await pilot.press("enter")
        for _ in range(2400):  # the context is chosen and the model starts reading it
            await asyncio.sleep(0.05)
            if app.status_info.state.startswith("answering"):
                break
        assert app.status_info.state.startswith("answering"), app.notices
        await asyncio.sleep(0.5)  # well inside the prefill of ~1,500 tokens
        assert not app._answer_text  # no token yet: still reading the prompt
        pressed = time.perf_counter()
        await pilot.press("escape")
        await settle(app, pilot)
        stopped_after = time.perf_counter() - pressed

        llm = app.session.llm()
        assert isinstance(llm, LocalLLM)
        stats = llm.last_stats
        assert stats.finish == "cancelled" and stats.completion_tokens == 0
        assert stats.prompt_tokens > 1000
        assert stats.evaluated_tokens < stats.prompt_tokens  # stopped inside the prompt
        assert app.status_info.state == "cancelled"
        assert any("cancelled" in str(n.render()) for n in app.query(Notice))
        assert prompt.value == question  # back in the input, as oterm does
        assert stopped_after < 10, stopped_after  # generous: a full prefill takes far longer
