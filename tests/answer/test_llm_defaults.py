"""LocalLLM's construction defaults: threads per physical core, the measured KV layout."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from ctxchat.app.config import Config
from ctxchat.engines.answer.cpu_threads import default_threads
from ctxchat.engines.answer.llm import (
    DEFAULT_KV_TYPE,
    DEFAULT_N_CTX,
    KV_LAYOUTS,
    LLAMA_LOG,
    LocalLLM,
)


def reported_kv_mib() -> float:
    log = Path(LLAMA_LOG.path or "").read_text(encoding="utf-8")
    return float(re.findall(r"llama_kv_cache: size =\s*([\d.]+) MiB", log)[-1])


def test_defaults_follow_the_layout_table_and_the_cores() -> None:
    model = LocalLLM(n_ctx=512)
    try:
        type_v, _ = KV_LAYOUTS[DEFAULT_KV_TYPE]
        assert (model.kv_type, model.type_v) == (DEFAULT_KV_TYPE, type_v)
        assert model._llama.n_threads == default_threads()
        assert model.kv_cache_mib == pytest.approx(reported_kv_mib(), abs=0.01)
        assert model.state_key_parts[1] == model.kv_layout
    finally:
        model.close()
    assert inspect.signature(LocalLLM).parameters["n_ctx"].default == DEFAULT_N_CTX
    assert Config().n_ctx == DEFAULT_N_CTX  # the app asks for what the engine was sized for


def test_a_quantized_v_cache_can_be_asked_for_and_is_smaller() -> None:
    sizes = {}
    for type_v in ("f16", "q8_0"):
        model = LocalLLM(n_ctx=512, kv_type="q8_0", type_v=type_v, n_threads=1)
        try:
            assert model.kv_layout == ("q8_0" if type_v == "q8_0" else "q8_0/f16")
            assert model.kv_cache_mib == pytest.approx(reported_kv_mib(), abs=0.01)
            assert model.complete([{"role": "user", "content": "Say hi."}], max_tokens=4)
            sizes[type_v] = model.kv_cache_mib
        finally:
            model.close()
    assert sizes["q8_0"] < sizes["f16"]


def test_an_answer_uses_the_cores_free_now_unless_threads_were_chosen() -> None:
    question = [{"role": "user", "content": "Say hello."}]
    model = LocalLLM(n_ctx=512)
    chosen = LocalLLM(n_ctx=512, n_threads=1)
    try:
        "".join(model.stream(question, max_tokens=4))
        assert 1 <= model.last_stats.threads <= default_threads()
        assert model.last_stats.as_dict()["threads"] == model.last_stats.threads
        "".join(chosen.stream(question, max_tokens=4))
        assert chosen.last_stats.threads == 1
    finally:
        model.close()
        chosen.close()
