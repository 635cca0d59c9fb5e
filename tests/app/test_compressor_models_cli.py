"""`ctxchat models` lists what is installed; `ctxchat models pull` is the only download."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ctxchat.app.cli import main
from ctxchat.engines.compress.compressor import Compressor
from ctxchat.engines.models import minilm_dir
from ctxchat.engines.paths import cache_dir
from ctxchat.engines.select.embeddings import resolve_embed_precision
from devkit.compressor_checkpoint import tiny_bert_classifier


def test_models_lists_bundled_pulled_and_chat_models(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pulled = cache_dir("models") / "someone--tiny-llmlingua2"
    shutil.copytree(tiny_bert_classifier(tmp_path, seed=5), pulled)
    shutil.copytree(minilm_dir(), cache_dir("models") / "not-a-classifier")
    assert main(["models", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    by_name = {c["name"]: c for c in info["compressors"]}
    assert by_name["someone--tiny-llmlingua2"]["ok"] is True
    assert by_name["someone--tiny-llmlingua2"]["architecture"] == "BertForTokenClassification"
    assert by_name["not-a-classifier"]["ok"] is False
    assert info["compressors"][0]["source"] == "bundled (default)"
    assert info["chat"]["ok"] and info["chat"]["path"].endswith(".gguf")
    assert info["device"] in ("cpu", "cuda", "mps")
    assert info["precision"] in ("fp32", "bf16", "fp16")
    embedder = info["embedder"]
    assert embedder["name"] == "all-MiniLM-L6-v2"
    assert embedder["precision"] == resolve_embed_precision(info["device"])

    assert main(["models"]) == 0
    text = capsys.readouterr().out
    assert "someone--tiny-llmlingua2" in text and "chat models" in text
    assert f"embedding model: all-MiniLM-L6-v2 in {embedder['precision']}" in text
    # A pulled hub id resolves from the cache, no download.
    comp = Compressor("someone/tiny-llmlingua2", quantize=False)
    assert comp.compress("The committee approved the budget.", rate=0.5).text


def test_pull_offline_fails_with_one_line(capsys: pytest.CaptureFixture[str], monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert main(["models", "pull", "microsoft/llmlingua-2-xlm-roberta-large-meetingbank"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("ctxchat: error: could not download")
    assert not (
        cache_dir("models") / "microsoft--llmlingua-2-xlm-roberta-large-meetingbank"
    ).exists()
    assert main(["models", "pull", "not-a-hub-id"]) == 1
    assert "nor a hub id" in capsys.readouterr().err
