"""The ask flow exists once (engines.conversation): the CLI and the TUI give a question the
same context, the pruning rule per reader, the loop guard and the grounding check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ctxchat.app.ask_settings import ask_settings
from ctxchat.app.cli import main
from ctxchat.app.config import Config, save_config
from ctxchat.app.tui.widgets.chat import Answer, ChatView, Notice
from ctxchat.app.tui.widgets.prompt import PromptInput
from ctxchat.engines.answer.conversation import ReaderChoice, prune_for_reader
from ctxchat.engines.answer.grounding import NOT_FOUND, check_grounding
from ctxchat.engines.answer.loopguard import LoopGuard
from ctxchat.engines.store.db import Store
from devkit.docgen import long_pdf
from devkit.tui_helpers import SIZE, make_app, settle

# -- the pruning rule -------------------------------------------------------------------


def test_whole_sentences_for_a_local_reader_pruning_for_a_server_or_export() -> None:
    local, server = ReaderChoice(), ReaderChoice(url="http://127.0.0.1:8080")
    assert prune_for_reader(local) is False
    assert prune_for_reader(server) is None  # the pipeline prunes when it can
    assert prune_for_reader(None) is None  # an exported prompt, as `compress --copy`
    assert prune_for_reader(local, True) is True  # --prune wins
    assert prune_for_reader(server, False) is False


def test_cli_flags_and_tui_config_meet_in_the_same_settings() -> None:
    config = Config(budget=400, n_ctx=2048, max_tokens=30, temperature=0.0, device="cpu")
    tui = ask_settings(config)
    cli = ask_settings(config, budget=None, rate=None, model=None, url=None, prune=None)
    assert tui == cli
    assert tui.reader == ReaderChoice(n_ctx=2048, kv_type="q8_0")
    assert ask_settings(config, budget=99).budget == 99


# -- the loop guard ---------------------------------------------------------------------


def feed_all(text: str, size: int = 3) -> tuple[LoopGuard, str]:
    guard = LoopGuard()
    said = ""
    for i in range(0, len(text), size):
        said += text[i : i + size]
        if guard.feed(text[i : i + size]):
            break
    return guard, said


def test_loop_guard_stops_a_sentence_said_again() -> None:
    sentence = "He died in 1087. He was also the first of his family to rule over England. "
    guard, said = feed_all("William was the duke [p. 4]. " + sentence * 12)
    assert guard.looping
    assert said.count("first of his family") <= 2 and len(said) < len(sentence) * 3


def test_loop_guard_stops_a_phrase_loop_without_sentence_ends() -> None:
    guard, said = feed_all("The record is 123.5 / 15 = 1.23, " + "which is 1.23 / 15 = 0.08, " * 20)
    assert guard.looping and said.count("which is") <= 4


def test_loop_guard_lets_an_ordinary_answer_through() -> None:
    answer = (
        "The permit serial of the Larkspur depot is 83298 [p. 2]. It was issued in 1998. "
        "The depot closed in 2004. Yes. Yes."
    )
    guard, said = feed_all(answer)
    assert not guard.looping and said == answer


# -- the grounding check ----------------------------------------------------------------

BOOK = (
    "[p. 12] Fifty Shades of Grey is a 2015 film directed by Sam Taylor-Johnson. "
    "It was produced by Focus Features. [p. 13] Don Shula holds the record with 347 wins."
)


def test_grounding_accepts_an_answer_the_context_holds() -> None:
    for answer in (
        "It was directed by Sam Taylor-Johnson [p. 12].",
        "Don Shula, with 347 wins [p. 13].",
        "The film was produced by Focus Features.",
    ):
        g = check_grounding(answer, BOOK)
        assert g.supported and g.mark is None, (answer, g)


def test_grounding_marks_names_and_numbers_the_context_lacks() -> None:
    wrong_name = check_grounding("It was directed by James Taylor-Johnson.", BOOK)
    assert not wrong_name.supported and "James" in wrong_name.missing
    assert wrong_name.mark == NOT_FOUND
    wrong_number = check_grounding("The NFL has a record of 123.5 wins, 123.5 / 15 = 1.23.", BOOK)
    assert not wrong_number.supported and "123.5" in wrong_number.missing
    off_topic = check_grounding("Bananas ripen quickly beside apples in warm kitchens.", BOOK)
    assert not off_topic.supported


def test_a_declined_answer_is_not_marked() -> None:
    g = check_grounding("The document does not say.", BOOK)
    assert g.supported and g.declined


# -- one flow: the CLI and the TUI send the same context --------------------------------


@pytest.mark.slow
@pytest.mark.asyncio
async def test_cli_and_tui_send_the_same_context(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "depot report.pdf"
    _, facts = long_pdf(path, n_pages=8, seed=4)
    question = facts[1].question
    config = Config(budget=250, n_ctx=2048, max_tokens=16, temperature=0.0, device="cpu")
    save_config(config)  # the settings both front ends read

    assert main(["ask", str(path), question, "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)

    app = make_app(config)
    async with app.run_test(size=SIZE) as pilot:
        app.add_paths([path])
        await settle(app, pilot)
        prompt = app.query_one(PromptInput)
        prompt.value = question
        await pilot.press("enter")
        await settle(app, pilot)
        tui_evidence = [e.as_dict() for e in app.last_result.evidence]
        # Evidence first: shown above the answer, with its document and page.
        chat = list(app.query_one(ChatView).children)
        shown = [w for w in chat if isinstance(w, Notice) and "Evidence (" in str(w.render())]
        answer = next(w for w in chat if isinstance(w, Answer))
        assert shown and chat.index(shown[0]) < chat.index(answer)
        assert "depot report.pdf, p. " in str(shown[0].render())

    store = Store()
    chats = store.chats()  # both recorded their turn: the newest is the TUI's
    assert len(chats) == 2
    cli_context, tui_context = (store.messages(c.id)[1].context for c in reversed(chats))
    assert cli_context and cli_context == tui_context
    assert facts[1].sentence in cli_context  # whole sentences for the local reader
    assert cli["stats"]["pruned"] is False
    assert cli["evidence"] == tui_evidence


@pytest.mark.slow
def test_python_api_asks_and_a_question_the_document_cannot_answer_is_weak(
    tmp_path: Path,
) -> None:
    import ctxchat
    from ctxchat.engines.answer.conversation import AskSettings, Conversation, ReaderChoice
    from ctxchat.engines.ingest.library import ensure_document

    path = tmp_path / "depot report.pdf"
    _, facts = long_pdf(path, n_pages=6, seed=9)
    settings = AskSettings(reader=ReaderChoice(n_ctx=1024), budget=200, max_tokens=16)
    result = ctxchat.ask(path, facts[0].question, settings)
    assert isinstance(result, ctxchat.AskResult) and result.answer
    assert result.evidence and facts[0].answer in result.evidence[0].text
    assert not result.weak_evidence
    assert result.stats.context_tokens <= 200 and result.stats.answer.kv_type == "q8_0"

    with Store() as store:
        doc = ensure_document(store, path)
        conversation = Conversation(store, [doc.id], settings)
        off_topic = conversation.prepare("Who directed the film Fifty Shades of Grey?")
        on_topic = conversation.prepare(facts[0].question)
    assert off_topic.weak and not on_topic.weak
    assert max(e.score for e in off_topic.evidence) < max(e.score for e in on_topic.evidence)


# -- a reader dropped while it answers ----------------------------------------------------


@pytest.mark.slow
def test_a_reader_dropped_mid_answer_finishes_it_and_is_closed_after(tmp_path: Path) -> None:
    from ctxchat.engines.answer.conversation import AskSettings, Conversation, ReaderChoice
    from ctxchat.engines.ingest.library import ensure_document

    path = tmp_path / "depot report.pdf"
    _, facts = long_pdf(path, n_pages=4, seed=3)
    settings = AskSettings(
        reader=ReaderChoice(n_ctx=1024), budget=200, max_tokens=24, extractive=False
    )
    with Store() as store:
        conversation = Conversation(store, [ensure_document(store, path).id], settings)
        run = conversation.ask(facts[0].question)
        old = conversation.reader()
        pieces = iter(run)
        first = next(pieces)
        conversation.drop_reader()  # the settings changed while the model writes
        assert old._llama is not None  # type: ignore[attr-defined]  # still answering
        rest = "".join(pieces)  # llama.cpp kept writing with the dropped model
        assert run.result is not None and run.result.answer.strip()
        assert (first + rest).strip().startswith(run.result.answer.strip()[:5])
        assert old._llama is None  # type: ignore[attr-defined]  # closed once it ended
        assert not conversation.reader_loaded
        fresh = conversation.reader()  # the next question opens a new one
        assert fresh is not old
        conversation.drop_reader()  # nothing running: closed at once
        assert fresh._llama is None  # type: ignore[attr-defined]
        conversation.close()
