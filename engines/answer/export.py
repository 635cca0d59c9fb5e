"""The ready-to-paste prompt that `ctxchat compress --copy/--output` and the TUI's copy and
save produce, so both hand another chat exactly the same text."""

from __future__ import annotations

from ctxchat.engines.results import Compressed

INSTRUCTION = (
    "Answer using only the document excerpts below. Markers such as [p. 3] give the page "
    "each excerpt comes from; cite them. [...] marks skipped text."
)


def export_prompt(compressed: Compressed, question: str | None, follows: str | None = None) -> str:
    """An instruction line, the compressed context with its page markers, then the question;
    a follow-up ("where is it headquartered?") with the earlier questions it leans on, which
    the other chat has not seen."""
    parts = [INSTRUCTION, compressed.text.strip()]
    question = (question or "").strip()
    if question and follows:
        parts.append(f"Asked before: {follows.strip()}")
    if question:
        parts.append(f"Question: {question}")
    return "\n\n".join(parts) + "\n"
