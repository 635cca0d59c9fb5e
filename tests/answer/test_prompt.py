"""Prompt layout within n_ctx, citations, streaming answers, KV states saved across restarts."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ctxchat.engines.answer.kvstate import KVStateStore, state_key
from ctxchat.engines.answer.llm import LocalLLM
from ctxchat.engines.answer.prompt import (
    SYSTEM_PROMPT,
    answer_stream,
    build_messages,
    context_pages,
    fit_prompt,
    parse_citations,
    stray_citation_mark,
    stray_citations,
)
from ctxchat.engines.tokens import count_tokens, truncate_to_tokens

N_CTX = 1024
FACTS = [
    "The harbour of Quellton opened in 1871.",
    "The lighthouse keeper is Ada Brune.",
    "The ferry to Mava leaves at nine every morning.",
    "The old mill burned down in 1902.",
]
CONTEXT = "\n".join(f"[p. {n}] {fact}" for n, fact in enumerate(FACTS, start=1))


def long_context(pages: int) -> str:
    filler = "The committee reviewed the budget of the northern district in detail. "
    return "\n".join(f"[p. {n}] {filler * 6}{FACTS[n % len(FACTS)]}" for n in range(1, pages))


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("answer-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CTXCHAT_HOME", str(path))
        yield path


@pytest.fixture(scope="module")
def llm(home: Path) -> Iterator[LocalLLM]:
    model = LocalLLM(n_ctx=N_CTX)
    yield model
    model.close()


# -- citations (pure) -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "pages"),
    [
        ("It opened in 1871 [p. 3].", [3]),
        ("See [p. 3] and [p.7], also [P. 3].", [3, 7]),
        ("Both [p. 3, 7] say so.", [3, 7]),
        ("Across [pp. 4-6].", [4, 5, 6]),
        ("In [report.pdf, p. 12].", [12]),
        ("No citation here, page 3, (p. 4).", []),
        ("A year [1871] is not a page.", []),
    ],
)
def test_parse_citations(text: str, pages: list[int]) -> None:
    assert parse_citations(text) == pages


def test_citations_outside_the_context_are_dropped() -> None:
    assert context_pages(CONTEXT) == [1, 2, 3, 4]
    assert parse_citations("[p. 2] and [p. 40]", context_pages(CONTEXT)) == [2]


def test_context_sits_in_the_system_message_before_history_and_question() -> None:
    history = [
        {"role": "user", "content": "Who keeps the lighthouse?"},
        {"role": "assistant", "content": "Ada Brune [p. 2]."},
    ]
    messages = build_messages(CONTEXT, "When did the mill burn?", history)
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert messages[0]["content"].startswith(SYSTEM_PROMPT)
    assert messages[0]["content"].endswith(CONTEXT)
    # byte-identical system message across turns: that is what prefix reuse needs
    assert build_messages(CONTEXT, "other")[0] == messages[0]


# -- fitting within n_ctx ---------------------------------------------------------------


def test_prompt_that_fits_is_left_alone(llm: LocalLLM) -> None:
    prompt = fit_prompt(llm, CONTEXT, "Who is the keeper?", answer_tokens=128)
    assert prompt.context == CONTEXT and prompt.notes == [] and prompt.dropped_turns == 0
    assert prompt.prompt_tokens == llm.count_prompt_tokens(prompt.messages)


def test_too_long_context_is_compressed_harder_to_fit(llm: LocalLLM) -> None:
    context = long_context(40)
    asked: list[int] = []

    def recompress(budget: int) -> str:
        asked.append(budget)
        return truncate_to_tokens(context, budget)

    prompt = fit_prompt(
        llm, context, "Who is the keeper?", answer_tokens=200, recompress=recompress
    )
    assert asked and asked[0] < count_tokens(context)
    assert prompt.prompt_tokens + prompt.answer_tokens <= N_CTX
    assert any("compressed the context harder" in note for note in prompt.notes)


def test_without_a_recompressor_the_context_is_cut_and_that_is_said(llm: LocalLLM) -> None:
    prompt = fit_prompt(llm, long_context(40), "Who is the keeper?", answer_tokens=200)
    assert prompt.prompt_tokens + prompt.answer_tokens <= N_CTX
    assert any("cut the context" in note for note in prompt.notes)


def test_oldest_history_is_dropped_first(llm: LocalLLM) -> None:
    turns = []
    for n in range(12):
        turns += [
            {"role": "user", "content": f"Question {n}: " + "tell me more about it. " * 10},
            {"role": "assistant", "content": f"Answer {n}: " + "it is described there. " * 10},
        ]
    prompt = fit_prompt(llm, CONTEXT, "Last question?", turns, answer_tokens=256)
    kept = prompt.messages[1:-1]
    assert prompt.dropped_turns > 0
    assert kept == turns[2 * prompt.dropped_turns :]  # the newest turns survive
    assert prompt.prompt_tokens + prompt.answer_tokens <= N_CTX
    assert any("oldest turn" in note for note in prompt.notes)


# -- streaming answers ------------------------------------------------------------------


def test_answer_streams_and_reports_stats(llm: LocalLLM) -> None:
    stream = answer_stream(llm, CONTEXT, "Who is the lighthouse keeper?", max_tokens=40)
    pieces = list(stream)
    answer = stream.result
    assert answer is not None and len(pieces) > 1
    assert answer.text == "".join(pieces).strip() and not answer.cancelled
    assert set(answer.pages) <= {1, 2, 3, 4}
    stats = answer.stats.as_dict()
    assert stats["kv_type"] == "q8_0" and stats["kv_mib"] == pytest.approx(llm.kv_cache_mib, 0.01)
    assert stats["prompt_tokens"] == stream.prompt.prompt_tokens
    assert stats["completion_tokens"] >= len(pieces)
    assert stats["ttft_s"] > 0 and stats["finish"] in {"stop", "length", "loop"}


def test_cancelled_answer_saves_no_state(llm: LocalLLM, home: Path) -> None:
    store = KVStateStore(home / "kv-cancel")
    cancel = threading.Event()
    stream = answer_stream(
        llm,
        long_context(6),
        "Write everything you know.",
        max_tokens=200,
        cancel=cancel,
        kv_store=store,
    )
    for n, _ in enumerate(stream):
        if n == 1:
            cancel.set()
    assert stream.result is not None and stream.result.cancelled
    assert stream.result.stats.generation.finish == "cancelled"
    assert store.total_bytes() == 0 and not list(store.folder.iterdir())


def test_context_state_survives_a_restart(llm: LocalLLM, home: Path) -> None:
    store = KVStateStore(home / "kv-restart")
    context = long_context(6)
    first = answer_stream(llm, context, "Who is the keeper?", max_tokens=8, kv_store=store).run()
    assert first.stats.kv_saved and store.total_bytes() > 0

    follow_up = "When did the mill burn down?"
    llm.reset()  # reference: the follow-up read from scratch
    cold = answer_stream(llm, context, follow_up, max_tokens=12).run()

    restarted = LocalLLM(n_ctx=N_CTX)
    try:
        warm = answer_stream(restarted, context, follow_up, max_tokens=12, kv_store=store).run()
    finally:
        restarted.close()
    assert warm.stats.kv_restored
    assert warm.text == cold.text  # same greedy continuation
    assert warm.stats.generation.evaluated_tokens < cold.stats.generation.evaluated_tokens / 3
    assert warm.stats.generation.reused_tokens >= llm.count_tokens(context)


# -- the KV state folder ------------------------------------------------------------------


def test_state_store_round_trip_and_lru_bound(tmp_path: Path) -> None:
    store = KVStateStore(tmp_path / "kv", max_bytes=2500)
    keys = [state_key("model", "q8_0", 1024, f"context {n}") for n in range(3)]
    assert len(set(keys)) == 3
    store.save(keys[0], [1, 2, 3], b"a" * 1000)
    store.save(keys[1], [4, 5], b"b" * 1000)
    loaded = store.load(keys[0])  # used: now the most recent
    assert loaded is not None and loaded.tokens == [1, 2, 3] and loaded.blob == b"a" * 1000
    store.save(keys[2], [6], b"c" * 1000)
    assert keys[1] not in store  # least recently used went first
    assert keys[0] in store and keys[2] in store
    assert store.total_bytes() <= 2500
    assert store.save("big", [1], b"x" * 5000) is None  # larger than the bound: not kept
    assert not [p for p in store.folder.iterdir() if p.name.endswith(".tmp")]


def test_damaged_state_file_is_ignored_and_removed(tmp_path: Path) -> None:
    store = KVStateStore(tmp_path / "kv")
    key = state_key("model", "f16", 512, "ctx")
    path = store.save(key, [1, 2, 3], b"state" * 100)
    assert path is not None
    path.write_bytes(path.read_bytes()[:-10])
    assert store.load(key) is None
    assert key not in store


def test_a_citation_of_a_page_the_model_never_read_is_marked_with_the_right_page():
    read = "[p. 13, Western Star Trucks] A subsidiary of the German Daimler AG."
    assert stray_citations("Daimler AG [p. 13]", read) == []
    assert stray_citations("Daimler AG [p. 1]", read) == [1]
    assert stray_citations("Daimler AG [pp. 12-13]", read) == [12]
    assert stray_citation_mark([], [13]) is None
    mark = stray_citation_mark([1], [13])
    assert mark == "p. 1 is not in the text the model read: the answer matches p. 13"
    assert stray_citation_mark([1], []).endswith("check the evidence")
