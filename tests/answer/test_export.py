"""engines.export: the one ready-to-paste prompt shared by the CLI and the TUI."""

from __future__ import annotations

from pathlib import Path

from ctxchat.engines.answer.export import INSTRUCTION, export_prompt
from ctxchat.engines.pipeline import compress_file
from ctxchat.engines.store.db import Store
from devkit import docgen


def test_prompt_is_instruction_context_then_question(tmp_path: Path) -> None:
    report, facts = docgen.long_pdf(tmp_path / "report.pdf", n_pages=6, facts_every=2)
    fact = facts[0]
    store = Store()
    result = compress_file(report.path, fact.question, budget=80, store=store, prune=False)
    prompt = export_prompt(result, f"  {fact.question}  ")

    instruction, rest = prompt.split("\n\n", 1)
    assert instruction == INSTRUCTION
    context, question = rest.rsplit("\n\n", 1)
    assert context == result.text.strip()
    assert f"[p. {fact.page}]" in context and fact.answer in context
    assert question == f"Question: {fact.question}\n"


def test_without_a_question_there_is_no_question_line(tmp_path: Path) -> None:
    report, _ = docgen.long_pdf(tmp_path / "report.pdf", n_pages=3, facts_every=2)
    result = compress_file(report.path, "depot", budget=60, store=Store(), prune=False)
    for question in (None, "", "   "):
        prompt = export_prompt(result, question)
        assert "Question:" not in prompt
        assert prompt == f"{INSTRUCTION}\n\n{result.text.strip()}\n"
