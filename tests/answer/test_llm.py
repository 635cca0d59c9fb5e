"""LocalLLM on the bundled SmolLM2-135M GGUF (real llama.cpp), RemoteLLM's failure path."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ctxchat.engines.answer.llm import (
    KV_TYPE_IDS,
    LLAMA_LOG,
    LocalLLM,
    RemoteLLM,
    kv_cache_bytes,
    open_llm,
)
from ctxchat.engines.errors import LLMError
from ctxchat.engines.models import smollm_gguf

pytestmark = pytest.mark.slow

N_CTX = 1024
SYSTEM = (
    "Answer from the excerpts in one short sentence.\n\nExcerpts:\n"
    "[p. 1] The harbour of Quellton opened in 1871. [p. 2] The lighthouse keeper is Ada Brune. "
    "[p. 3] The ferry to Mava leaves at nine every morning."
)


def ask(question: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": question}]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    # Module fixtures run before conftest's per-test home: give them their own.
    path = tmp_path_factory.mktemp("llm-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CTXCHAT_HOME", str(path))
        yield path


@pytest.fixture(scope="module")
def llm(home: Path) -> Iterator[LocalLLM]:
    model = LocalLLM(n_ctx=N_CTX, kv_type="q8_0")
    yield model
    model.close()


def test_loads_bundled_model_with_requested_context_and_offload(llm: LocalLLM) -> None:
    import llama_cpp

    assert llm.n_ctx == N_CTX
    assert llm.model_path == smollm_gguf()
    assert llm.gpu_offload == llama_cpp.llama_supports_gpu_offload()
    assert re.fullmatch(r"[0-9a-f]{16}", llm.model_id)


def test_kv_cache_size_matches_llama_cpp_and_shrinks_with_quantization(home: Path) -> None:
    sizes = {}
    for kv_type in KV_TYPE_IDS:
        model = LocalLLM(n_ctx=N_CTX, kv_type=kv_type)
        try:
            sizes[kv_type] = model.kv_cache_mib
            log = Path(LLAMA_LOG.path or "").read_text(encoding="utf-8")
            reported = re.findall(r"llama_kv_cache: size =\s*([\d.]+) MiB", log)[-1]
            assert model.kv_cache_mib == pytest.approx(float(reported), abs=0.01)
        finally:
            model.close()
    assert sizes["f16"] > sizes["q8_0"] > sizes["q4_0"]


def test_kv_cache_bytes_formula() -> None:
    # 2048 cells x 30 layers x (192 + 192) values, f16 = 2 bytes each: llama.cpp says 45 MiB
    assert kv_cache_bytes(2048, 30, 192, 192, "f16") == 45 * 2**20
    assert kv_cache_bytes(2048, 30, 192, 192, "q8_0") == 45 * 2**20 * 34 // 64
    assert kv_cache_bytes(2048, 30, 192, 192, "q4_0") == 45 * 2**20 * 18 // 64


def test_loading_prints_nothing_and_logs_to_the_data_dir(
    home: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    model = LocalLLM(n_ctx=512, kv_type="f16")
    model.close()
    out, err = capfd.readouterr()
    assert out == "" and err == ""  # fd 1/2 untouched: the TUI draws there
    log = home / "logs" / "llama.log"
    assert "llama_model_loader" in log.read_text(encoding="utf-8")


def test_stream_yields_pieces_and_consistent_stats(llm: LocalLLM) -> None:
    messages = ask("Who is the lighthouse keeper?")
    pieces = list(llm.stream(messages, max_tokens=32, temperature=0.0))
    stats = llm.last_stats
    assert len(pieces) > 1 and "".join(pieces).strip()
    assert stats.prompt_tokens == llm.count_prompt_tokens(messages)
    assert stats.reused_tokens + stats.evaluated_tokens == stats.prompt_tokens
    assert len(pieces) <= stats.completion_tokens <= 32
    assert 0 < stats.ttft_s <= stats.seconds
    assert stats.finish in {"stop", "length"}
    assert set(stats.as_dict()) >= {"ttft_s", "tokens_per_s", "completion_tokens"}


def test_greedy_is_deterministic_and_max_tokens_caps(llm: LocalLLM) -> None:
    messages = ask("When does the ferry to Mava leave?")
    llm.reset()
    first = llm.complete(messages, max_tokens=6)
    assert llm.last_stats.completion_tokens <= 6
    llm.reset()
    assert llm.complete(messages, max_tokens=6) == first


def test_stop_sequence_ends_the_answer_before_it(llm: LocalLLM) -> None:
    messages = ask("When did the harbour of Quellton open?")
    full = llm.complete(messages, max_tokens=24)
    words = full.split()
    assert len(words) >= 3, full
    stop = " " + words[2]
    cut = llm.complete(messages, max_tokens=24, stop=[stop])
    assert cut == full[: full.index(stop)]


def test_cancel_stops_generation_early(llm: LocalLLM) -> None:
    cancel = threading.Event()
    pieces = []
    for piece in llm.stream(
        [{"role": "user", "content": "Write a long story about a dog and a cat."}],
        max_tokens=200,
        cancel=cancel,
    ):
        pieces.append(piece)
        if len(pieces) == 3:
            cancel.set()
    assert len(pieces) == 3
    assert llm.last_stats.finish == "cancelled"
    assert llm.last_stats.completion_tokens < 10


def test_follow_up_reuses_the_context_prefix(llm: LocalLLM) -> None:
    llm.reset()
    llm.complete(ask("Who is the lighthouse keeper?"), max_tokens=8)
    first = llm.last_stats
    assert first.reused_tokens == 0
    llm.complete(ask("When does the ferry leave?"), max_tokens=8)
    follow = llm.last_stats
    system_tokens = llm.count_tokens(SYSTEM)
    assert follow.reused_tokens >= system_tokens
    assert follow.evaluated_tokens < first.evaluated_tokens / 3


def test_restored_state_continues_exactly_like_a_fresh_read(llm: LocalLLM, home: Path) -> None:
    question = ask("Who is the lighthouse keeper?")
    follow = ask("When did the harbour open?")
    llm.reset()
    llm.complete(question, max_tokens=8)
    tokens, blob = llm.export_state()
    llm.reset()
    fresh = llm.complete(follow, max_tokens=12)
    fresh_evaluated = llm.last_stats.evaluated_tokens

    restarted = LocalLLM(n_ctx=N_CTX, kv_type="q8_0")  # a new process would do the same
    try:
        restarted.import_state(tokens, blob)
        assert restarted.complete(follow, max_tokens=12) == fresh
        assert restarted.last_stats.evaluated_tokens < fresh_evaluated / 3
    finally:
        restarted.close()


def test_missing_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(LLMError, match=r"cannot load model .*no such file"):
        LocalLLM(tmp_path / "nope.gguf", n_ctx=512)


def test_file_that_is_not_gguf_is_rejected(tmp_path: Path) -> None:
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"not a model" * 100)
    with pytest.raises(LLMError, match="not a GGUF file"):
        LocalLLM(bad, n_ctx=512)


def test_truncated_gguf_fails_cleanly(tmp_path: Path) -> None:
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(smollm_gguf().read_bytes()[: 1 << 20])
    with pytest.raises(LLMError, match="cannot load model"):
        LocalLLM(broken, n_ctx=512)


def test_model_larger_than_free_memory_is_refused(tmp_path: Path) -> None:
    from ctxchat.engines.answer.llm import available_memory_bytes

    free = available_memory_bytes()
    if free is None:
        pytest.skip("free memory is not known on this system")
    huge = tmp_path / "huge.gguf"
    with open(huge, "wb") as f:  # sparse: takes no disk space
        f.write(b"GGUF")
        f.truncate(free + (4 << 30))
    with pytest.raises(LLMError, match="GiB is free"):
        LocalLLM(huge, n_ctx=512, gpu=False)


def test_unknown_kv_type_is_refused() -> None:
    with pytest.raises(LLMError, match="unknown KV cache type"):
        LocalLLM(n_ctx=512, kv_type="q2_k")


def test_unreachable_server_is_a_clear_error() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    with pytest.raises(LLMError, match=f"cannot reach {re.escape(url)}"):
        open_llm(url=url)
    remote = RemoteLLM(url)
    with pytest.raises(LLMError, match="cannot reach"):
        list(remote.stream([{"role": "user", "content": "hi"}]))
