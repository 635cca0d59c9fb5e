"""The ask flow end to end with the bundled SmolLM2 model: streamed answer, cancel,
follow-ups, saved chats reopened, and the compressed prompt copied or saved."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ctxchat.app.tui.screens.chats import ChatsScreen
from ctxchat.app.tui.widgets.chat import Answer, Notice, Question
from ctxchat.app.tui.widgets.context import ContextPanel
from ctxchat.app.tui.widgets.prompt import PromptInput
from ctxchat.engines.store.db import Store
from ctxchat.engines.tokens import count_tokens
from devkit.docgen import long_pdf
from devkit.tui_helpers import SIZE, TEST_CONFIG, make_app, paste, settle

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]


@pytest.fixture
def report(tmp_path: Path) -> tuple[Path, str, str]:
    """A 6-page PDF with a planted fact: (path, question, answer)."""
    path = tmp_path / "depot report.pdf"
    _, facts = long_pdf(path, n_pages=6, seed=11)
    return path, facts[0].question, facts[0].answer


async def ask(app, pilot, question: str) -> None:
    prompt = app.query_one(PromptInput)
    prompt.value = question
    prompt.focus()
    await pilot.press("enter")
    await settle(app, pilot)


async def test_a_question_the_document_does_not_answer_says_so_above_its_evidence(
    report,
) -> None:
    path, _, _ = report
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await paste(app, pilot, f"'{path}'")
        await ask(app, pilot, "Who directed the film Fifty Shades of Grey?")
        [shown] = [n for n in app.query(Notice) if "evidence" in n.classes]
        lines = str(shown.render()).splitlines()
        # Read first: how far to trust the sentences below it.
        assert lines[0].startswith("The document may not answer this")
        assert any(line.startswith("Evidence (depot report.pdf, p. ") for line in lines[1:])


async def start_an_essay(app, pilot) -> None:
    """Ask for a long answer and return once its first tokens have streamed."""
    app.query_one(PromptInput).value = "Write a long essay about every depot in the report."
    await pilot.press("enter")
    for _ in range(600):
        await asyncio.sleep(0.05)
        if len(app._answer_text) >= 3:
            break
    assert app._answer_text, "no token arrived"


def answer_texts(app) -> list[str]:
    return [a.source for a in app.query(Answer)]


async def test_ask_streams_an_answer_and_saves_the_chat(report) -> None:
    path, question, _ = report
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await paste(app, pilot, f"'{path}'")
        await ask(app, pilot, question)
        answers = answer_texts(app)
        assert len(answers) == 1 and answers[0].strip(), app.notices
        assert [q.content for q in app.query(Question)] == [question]
        # The context panel shows the whole context with its page markers (what Ctrl+Y
        # copies), and says the bundled small model read only the evidence of it.
        panel = app.query_one(ContextPanel)
        assert panel.plain_text and "[p." in panel.plain_text
        title = str(app.query_one("#context-title").render())
        assert title.startswith("Context · ") and title.endswith("model read evidence")
        status = app.status_info.render_line()
        assert "tokens" in status and "->" in status and "KV q8_0" in status
        assert app.status_info.original_tokens > app.status_info.compressed_tokens
        assert app.status_info.state == "ready"
        # Saved in the store: one chat, the question and the streamed answer.
        store = Store()
        chats = store.chats()
        assert len(chats) == 1
        messages = store.messages(chats[0].id)
        assert [m.role for m in messages] == ["user", "assistant"]
        assert messages[1].content == "".join(app._answer_text)
        assert messages[1].context == panel.plain_text
        assert messages[1].stats["kv_type"] == "q8_0"

        # A follow-up keeps the conversation (the chat and its record; the small reader
        # itself reads only this question's evidence: conversation.reader_history).
        await ask(app, pilot, "Which page says so?")
        assert len(answer_texts(app)) == 2
        assert len(app.session.turns) == 2
        assert [m.role for m in store.messages(chats[0].id)] == ["user", "assistant"] * 2


async def test_escape_cancels_a_streaming_answer(report) -> None:
    path, question, _ = report
    app = make_app(TEST_CONFIG.with_changes(max_tokens=400))
    async with app.run_test(size=SIZE) as pilot:
        await paste(app, pilot, str(path))
        prompt = app.query_one(PromptInput)
        await start_an_essay(app, pilot)
        await pilot.press("escape")
        await settle(app, pilot)
        notices = [str(n.render()) for n in app.query(Notice)]
        assert any("cancelled" in n for n in notices)
        assert not any("stopped at" in n for n in notices)  # cancelled, not cut
        assert app.status_info.state == "cancelled"
        assert len(app._answer_text) < 400
        # Keys still work and the app can ask again after a cancel.
        assert app.is_running and app.focused is prompt


async def test_an_answer_cut_at_its_length_limit_says_so(report) -> None:
    path, _, _ = report
    app = make_app(TEST_CONFIG.with_changes(max_tokens=5))
    async with app.run_test(size=SIZE) as pilot:
        await paste(app, pilot, str(path))
        await ask(app, pilot, "Write a long essay about every depot in the report.")
        notices = [str(n.render()) for n in app.query(Notice)]
        assert any(
            "stopped at its limit of 5 tokens (F2: Max answer tokens)" in n for n in notices
        ), notices


async def test_a_model_changed_in_the_settings_mid_answer_finishes_it_first(report) -> None:
    from dataclasses import replace

    path, question, _ = report
    app = make_app(replace(TEST_CONFIG, max_tokens=200))
    async with app.run_test(size=SIZE) as pilot:
        await paste(app, pilot, f"'{path}'")
        await start_an_essay(app, pilot)
        old = app.session.llm()
        # What saving the settings screen (F2, Ctrl+S) does, at once: a context size that
        # needs another model, while the essay streams.
        app.apply_config(replace(app.config, n_ctx=1024))
        assert app._answering and old._llama is not None  # not freed under the essay
        await settle(app, pilot)
        assert old._llama is None  # closed once the essay ended, not left to the GC
        await ask(app, pilot, question)
        assert app.session.llm() is not old and app.session.llm().n_ctx == 1024
        assert len(answer_texts(app)) == 2 and answer_texts(app)[1].strip()


async def test_copy_and_save_the_compressed_prompt(report) -> None:
    path, question, _ = report
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await paste(app, pilot, str(path))
        app.query_one(PromptInput).value = question
        await pilot.press("ctrl+y")
        await settle(app, pilot)
        copied = app.clipboard  # what Textual sent as OSC 52
        assert copied.rstrip().endswith(f"Question: {question}")
        assert "[p." in copied and app.session.last_compressed.text.strip() in copied
        tokens = count_tokens(copied)
        assert any(f"Copied the prompt: {tokens:,} tokens" in n for n in app.notices)
        assert "OSC 52" in app.last_copy.methods

        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.last_export is not None
        assert app.last_export.read_text(encoding="utf-8") == copied


async def test_saved_chat_reopens(report) -> None:
    path, question, _ = report
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await paste(app, pilot, str(path))
        await ask(app, pilot, question)
        first_answer = answer_texts(app)[0]
        await pilot.press("ctrl+n")
        await settle(app, pilot)
        assert not app.query(Answer)
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert isinstance(app.screen, ChatsScreen)
        await pilot.press("enter")
        await settle(app, pilot)
        assert [q.content for q in app.query(Question)] == [question]
        assert answer_texts(app) == [first_answer]
        assert app.session.chat_id is not None and len(app.session.turns) == 1


async def test_typing_after_the_library_asks_the_question(report) -> None:
    """Space on a document, Tab, type, Enter: the question is asked about that document."""
    from ctxchat.engines.ingest.library import add_path

    path, question, _ = report
    doc_id = add_path(Store(), path).document.id  # `ctxchat add`, then the app is opened
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+l", "space", "space")  # off, then on again
        await pilot.pause()
        assert app.session.used == {doc_id}
        await pilot.press("tab", *question, "enter")
        await settle(app, pilot)
        assert [q.content for q in app.query(Question)] == [question]
        answers = answer_texts(app)
        assert len(answers) == 1 and answers[0].strip(), app.notices
        assert app.session.last_compressed is not None
        assert app.query_one(PromptInput).value == ""


async def test_a_new_question_while_an_answer_streams_takes_its_place(report) -> None:
    path, question, _ = report
    app = make_app(TEST_CONFIG.with_changes(max_tokens=400))
    async with app.run_test(size=SIZE) as pilot:
        await paste(app, pilot, str(path))
        prompt = app.query_one(PromptInput)
        await start_an_essay(app, pilot)
        # Asked before the essay ends: the essay stops, the new answer is shown whole.
        await ask(app, pilot, question)
        answers = app.query(Answer)
        assert len(answers) == 2
        assert answers[1].source.strip() == "".join(app._answer_text).strip() != ""
        assert app.last_result is not None and app.last_result.question == question
        assert app.status_info.state == "ready"
        # The superseded question is not put back in the input; the chat says why the essay
        # stopped, once, and does not call it cancelled.
        assert prompt.value == ""
        notices = [str(n.render()) for n in app.query(Notice)]
        assert notices.count("Stopped for the next question.") == 1
        assert not any("cancelled" in n for n in notices)


async def test_a_follow_up_says_how_it_was_read_above_its_evidence(tmp_path: Path) -> None:
    from devkit.docgen import sectioned_pdf

    companies = [("Corvane Robotics", "Lyon"), ("Hemmick Tools", "Sheffield")]
    path = sectioned_pdf(
        tmp_path / "companies.pdf",
        [(n, f"{n} makes machines. It is headquartered in {c}.") for n, c in companies],
    )
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await paste(app, pilot, f"'{path}'")
        await ask(app, pilot, "Where is Corvane Robotics headquartered?")
        await ask(app, pilot, "what about Hemmick Tools?")
        await ask(app, pilot, "who founded it?")
        shown = [str(n.render()) for n in app.query(Notice) if "evidence" in n.classes]
        assert len(shown) == 3 and not shown[0].startswith("Read")
        assert shown[1].startswith("Read as: Where is Hemmick Tools headquartered?\n")
        assert "Sheffield" in shown[1] and "Lyon" not in shown[1]
        assert shown[2].startswith("Read with: Where is Hemmick Tools headquartered?\n")
        # The chat shows the questions as typed.
        assert [q.content for q in app.query(Question)][1] == "what about Hemmick Tools?"
        # Reopened, the chat still knows what the swap was read as.
        await pilot.press("ctrl+n")
        await settle(app, pilot)
        await pilot.press("ctrl+o")
        await pilot.pause()
        await pilot.press("enter")
        await settle(app, pilot)
        turns = app.session.turns
        assert len(turns) == 3 and turns[1].asked == "Where is Hemmick Tools headquartered?"
        assert turns[0].asked == "Where is Corvane Robotics headquartered?"
