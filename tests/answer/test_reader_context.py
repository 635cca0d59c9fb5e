"""What the reader reads: a small local model reads the evidence sentences, any other reader
the whole context; the export (Ctrl+Y, `compress --copy`) is the whole context either way."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctxchat.engines.answer.conversation import (
    ALL,
    EVIDENCE_ONLY,
    READER_ANSWER_TOKENS,
    SMALL_READER_ANSWER_TOKENS,
    SMALL_READER_BUDGET,
    AskSettings,
    Conversation,
    ReaderChoice,
    Turn,
    answer_tokens,
    evidence_text,
    reader_budget,
    reader_order,
)
from ctxchat.engines.ingest.library import ensure_document
from ctxchat.engines.store.db import Store
from devkit.docgen import long_pdf


def test_a_small_local_reader_reads_less_than_a_big_one(tmp_path: Path) -> None:
    assert reader_budget(AskSettings()) == SMALL_READER_BUDGET == EVIDENCE_ONLY
    server = ReaderChoice(url="http://127.0.0.1:8080")
    assert reader_budget(AskSettings(reader=server)) == ALL
    big = tmp_path / "big.gguf"
    with big.open("wb") as f:  # sparse: a 1 GB file without writing 1 GB
        f.truncate(1_000_000_000)
    assert reader_budget(AskSettings(reader=ReaderChoice(model=str(big)))) == ALL
    small = tmp_path / "small.gguf"
    small.write_bytes(b"GGUF" + bytes(1000))
    assert reader_budget(AskSettings(reader=ReaderChoice(model=str(small)))) == EVIDENCE_ONLY
    assert reader_budget(AskSettings(reader_budget=300)) == 300  # as set wins


def test_a_small_local_reader_writes_shorter_answers(tmp_path: Path) -> None:
    assert answer_tokens(AskSettings()) == SMALL_READER_ANSWER_TOKENS < READER_ANSWER_TOKENS
    server = ReaderChoice(url="http://127.0.0.1:8080")
    assert answer_tokens(AskSettings(reader=server)) == READER_ANSWER_TOKENS
    big = tmp_path / "big.gguf"
    with big.open("wb") as f:  # sparse
        f.truncate(1_000_000_000)
    assert answer_tokens(AskSettings(reader=ReaderChoice(model=str(big)))) == READER_ANSWER_TOKENS
    assert answer_tokens(AskSettings(max_tokens=300)) == 300  # as set wins


def test_a_reader_of_the_evidence_is_not_shown_earlier_turns() -> None:
    with Store() as store:
        small = Conversation(store, [], AskSettings())
        big = Conversation(store, [], AskSettings(reader_budget=ALL))
        for conversation in (small, big):
            conversation.turns.append(Turn("Who keeps the lighthouse?", "Ada Brune [p. 2]"))
        earlier = [
            {"role": "user", "content": "Who keeps the lighthouse?"},
            {"role": "assistant", "content": "Ada Brune [p. 2]"},
        ]
        assert small.history() == earlier and small.reader_history() == []  # the chat keeps it
        assert big.reader_history() == earlier


def test_the_reader_reads_the_best_evidence_last_and_the_chat_shows_it_first(
    tmp_path: Path,
) -> None:
    path = tmp_path / "depot report.pdf"
    _, facts = long_pdf(path, n_pages=6, seed=9)
    with Store() as store:
        doc = ensure_document(store, path)
        conversation = Conversation(store, [doc.id], AskSettings(budget=400))
        prepared = conversation.prepare(facts[0].question)
    assert len(prepared.evidence) >= 2
    assert facts[0].answer in prepared.evidence[0].text  # shown first in the chat
    lines = prepared.reader_text.splitlines()
    assert len(lines) == len(prepared.evidence)
    assert lines[-1] == f"[p. {prepared.evidence[0].page}] {prepared.evidence[0].text}"
    assert lines[0] == f"[p. {prepared.evidence[-1].page}] {prepared.evidence[-1].text}"


@pytest.mark.slow
def test_the_bundled_model_reads_the_evidence_and_the_export_keeps_the_context(
    tmp_path: Path,
) -> None:
    path = tmp_path / "depot report.pdf"
    _, facts = long_pdf(path, n_pages=6, seed=9)
    settings = AskSettings(reader=ReaderChoice(n_ctx=1024), budget=400, max_tokens=12)
    with Store() as store:
        doc = ensure_document(store, path)
        conversation = Conversation(store, [doc.id], settings)
        try:
            prepared = conversation.prepare(facts[0].question)
            assert prepared.reader_text == evidence_text(reader_order(prepared.evidence))
            result = conversation.answer(prepared).run()
            unset = Conversation(store, [doc.id], AskSettings(reader=ReaderChoice(n_ctx=1024)))
            default_run = unset.answer(unset.prepare(facts[0].question))
        finally:
            conversation.close()
            unset.close()
    # The bundled reader's answer is as long as the ask-flow benchmark measured.
    assert default_run.stream.prompt.answer_tokens == SMALL_READER_ANSWER_TOKENS
    assert result.reader_text == prepared.reader_text  # what the model read
    assert any(facts[0].answer in e.text for e in result.evidence)
    assert result.context.compressed_tokens > 100  # the export: the whole selection
    assert len(result.context.text) > 2 * len(result.reader_text)
    assert result.stats.answer.generation.prompt_tokens < 250
