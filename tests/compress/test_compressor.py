"""The word-level compressor on a small real checkpoint: rates, cache, protection, errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ctxchat.engines.compress import compressor as compressor_module
from ctxchat.engines.compress.compressor import Compressor, default_compressor
from ctxchat.engines.errors import CompressorError, ModelNotFoundError
from ctxchat.engines.models import minilm_dir
from ctxchat.engines.store.db import Store
from ctxchat.engines.tokens import count_tokens
from devkit.compressor_checkpoint import corpus, tiny_bert_classifier

TEXT = corpus(25, seed=2)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_bert_classifier(tmp_path_factory.mktemp("models"), seed=3)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "library.db")
    yield s
    s.close()


@pytest.fixture
def comp(model_dir: Path, store: Store) -> Compressor:
    return Compressor(model_dir, store=store, quantize=False)


def _in_order(words: list[str], text: str) -> bool:
    pos = 0
    for w in words:
        found = text.find(w, pos)
        if found < 0:
            return False
        pos = found + len(w)
    return True


def test_global_mode_hits_the_rate_and_keeps_original_words(comp: Compressor) -> None:
    r = comp.compress(TEXT, rate=0.4, protect=False)
    assert r.original_tokens == count_tokens(TEXT)
    assert r.compressed_tokens == count_tokens(r.text)
    assert 0.3 <= r.rate <= 0.5
    assert len(r.words) == len(r.keep) > 300
    kept = [w for w, k in zip(r.words, r.keep, strict=True) if k]
    # Kept words appear in the output as written in the input, in order.
    assert _in_order(kept, r.text)
    assert r.stats["mode"] == "global" and r.stats["cache_misses"] == 1


def test_rate_one_keeps_the_text_exactly(comp: Compressor) -> None:
    text = "  Zürich, 東京 and São Paulo:\n\nthe café's menu costs $4.50!  "
    r = comp.compress(text, rate=1.0)
    assert r.text == text.strip()
    assert r.keep.all()


def test_lower_rate_keeps_fewer_words_and_a_subset(comp: Compressor) -> None:
    high = comp.compress(TEXT, rate=0.6, protect=False)
    low = comp.compress(TEXT, rate=0.2, protect=False)
    assert low.keep.sum() < high.keep.sum()
    assert not (low.keep & ~high.keep).any()  # one global threshold: nested selections


def test_second_compression_runs_no_model(model_dir: Path, store: Store) -> None:
    comp = Compressor(model_dir, store=store, quantize=False)
    first = comp.compress(TEXT, rate=0.5)
    calls = comp.encoder.forward_calls
    again = comp.compress(TEXT, rate=0.25)
    assert comp.encoder.forward_calls == calls
    assert again.stats["cache_hits"] == 1 and again.stats["cache_misses"] == 0
    assert again.stats["encode_seconds"] == 0.0
    assert again.compressed_tokens < first.compressed_tokens
    # The payload lives in the SQLite file: a new compressor on the same store hits it too.
    rows = store.conn.execute("SELECT COUNT(*), MAX(LENGTH(payload)) FROM keep_probs").fetchone()
    assert rows[0] == 1 and rows[1] < 20 * len(first.words) + 64
    other = Compressor(model_dir, store=Store(store.path), quantize=False)
    third = other.compress(TEXT, rate=0.5)
    assert third.stats["cache_hits"] == 1 and third.text == first.text


def test_cache_key_separates_modes_but_not_force_or_protect(comp: Compressor) -> None:
    comp.compress(TEXT, rate=0.5)
    r = comp.compress(TEXT, rate=0.5, force_tokens=(), protect=False)
    assert r.stats["cache_hits"] == 1
    r = comp.compress(TEXT, rate=0.5, mode="llmlingua2")
    assert r.stats["cache_misses"] == 1
    options = {row[0] for row in comp.store.conn.execute("SELECT options FROM keep_probs")}
    assert {json.loads(o)["mode"] for o in options} == {"global", "llmlingua2"}


def test_list_input_keeps_pieces_in_order(comp: Compressor) -> None:
    pieces = [
        "The committee approved the budget on 3 March 2024.",
        "",
        "Grace Hopper reviewed the final survey in Kyoto.",
        "The committee approved the budget on 3 March 2024.",
    ]
    r = comp.compress(pieces, rate=0.5)
    assert len(r.pieces) == 4
    assert r.pieces[1] == ""
    assert r.pieces[0] == r.pieces[3]
    assert "2024" in r.pieces[0] and "3" in r.pieces[0]
    assert r.text == "\n\n".join(p for p in r.pieces if p)
    assert r.stats["cache_misses"] == 2  # the repeated sentence is computed once


def test_target_tokens_is_a_ceiling(comp: Compressor) -> None:
    for target in (50, 200, 600):
        r = comp.compress(TEXT, target_tokens=target, protect=False)
        assert r.compressed_tokens <= target
        assert r.compressed_tokens >= 0.7 * target
    r = comp.compress(TEXT, target_tokens=10**6)
    assert r.keep.all()


@pytest.mark.parametrize(
    ("mode", "rate"),
    [("global", 0.5), ("global", 0.33), ("global", 0.2), ("llmlingua2", 0.5), ("llmlingua2", 0.33)],
)
def test_rate_is_the_kept_share_of_the_output_tokens(
    comp: Compressor, mode: str, rate: float
) -> None:
    """rate=r: the output holds r of the input's cl100k tokens, within 0.02, in both modes.

    llmlingua2 mode runs without protection here: this random test model gives most words a
    probability of exactly 1.0, which llmlingua's rule keeps whenever its threshold is 1.0, so
    with the corpus' many protected numbers and dates on top no percentile gets down to 0.33
    (and 32% of its tokens are such words: llmlingua's rule cannot go below that).
    Protected words are kept past a rate below their own share (22% of this corpus).
    """
    for text in (TEXT, corpus(120, seed=11)):
        r = comp.compress(text, rate=rate, mode=mode, protect=mode == "global" and rate > 0.25)
        assert r.compressed_tokens == count_tokens(r.text)
        assert abs(r.rate - rate) <= 0.02, (mode, rate, r.rate)


@pytest.mark.parametrize("mode", ["global", "llmlingua2"])
def test_target_tokens_is_a_ceiling_in_both_modes(comp: Compressor, mode: str) -> None:
    text = corpus(120, seed=11)
    for target in (100, 700, 2000):
        r = comp.compress(text, target_tokens=target, mode=mode, protect=mode == "global")
        assert target - 0.02 * r.original_tokens <= r.compressed_tokens <= target


def test_llmlingua_rate_passthrough_keeps_less_than_asked(comp: Compressor) -> None:
    """honour_rate=False is llmlingua 0.2.2's own rule (per-chunk percentile of the rate)."""
    text = corpus(120, seed=11)
    raw = comp.compress(text, rate=0.5, mode="llmlingua2", honour_rate=False, protect=False)
    honoured = comp.compress(text, rate=0.5, mode="llmlingua2", protect=False)
    assert raw.stats["llmlingua_rate"] == 0.5
    assert abs(honoured.rate - 0.5) <= 0.02
    assert raw.rate < honoured.rate


def test_protect_keeps_numbers_urls_identifiers_and_markdown(comp: Compressor) -> None:
    text = (
        "# Quarterly report\n\n"
        "- The pipeline_id 8841 failed on 2024-05-01 at 13:45.\n"
        "- See https://example.org/runs/77 and call `retry_job(8841)` with version 3.14.2.\n"
        "1. The HTTP gateway and getUserName kept costing $1,250.50 every month.\n"
        + " ".join(["The long and rather unremarkable sentence went on and on."] * 30)
    )
    r = comp.compress(text, rate=0.1)
    for must in (
        "# Quarterly report",
        "pipeline_id",
        "8841",
        "2024-05-01",
        "13:45",
        "https://example.org/runs/77",
        "`retry_job(8841)`",
        "3.14.2",
        "HTTP",
        "getUserName",
        "$1,250.50",
    ):
        assert must in r.text, must
    assert r.text.startswith("# Quarterly report\n")
    assert "\n- " in r.text and "\n1." in r.text
    bare = comp.compress(text, rate=0.1, protect=False, force_tokens=())
    assert sum(m in bare.text for m in ("8841", "2024", "13:45", "HTTP", "getUserName")) < 5


def test_force_tokens_are_kept(comp: Compressor) -> None:
    r = comp.compress(TEXT, rate=0.2, protect=False)
    words = np.array(r.words, dtype=object)
    for mark in (".", "?", "!"):
        assert r.keep[words == mark].all()
    # Paragraph breaks stay (two merge when every word of the paragraph between is dropped).
    assert TEXT.count("\n\n") > 5 and r.text.count("\n\n") >= TEXT.count("\n\n") // 2


def test_cjk_and_accents_survive_unchanged(comp: Compressor) -> None:
    text = "会议在北京举行，李雷讨论了预算。 Zoë Müller visited Reykjavík and São Paulo in 2019."
    r = comp.compress(text, rate=0.7)
    kept = [w for w, k in zip(r.words, r.keep, strict=True) if k]
    assert kept and all(w in r.text for w in kept)
    assert "Zoe" not in r.text and "muller" not in r.text  # no tokenizer normalisation
    assert "2019" in r.text


def test_progress_reports_every_chunk(model_dir: Path, store: Store) -> None:
    comp = Compressor(model_dir, store=store, quantize=False, batch_size=2)
    calls: list[tuple[int, int]] = []
    text = corpus(60, seed=9)
    r = comp.compress(text, rate=0.5, on_progress=lambda d, t: calls.append((d, t)))
    total = r.stats["chunks"]
    assert total > 3
    assert calls[0] == (0, total) and calls[-1] == (total, total)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_large_input_streams_in_bounded_windows(model_dir: Path, store: Store) -> None:
    text = corpus(900, seed=4)  # ~100k tokens: many tokenizer blocks and encoder batches
    assert len(text) > 2 * 65_536
    comp = Compressor(model_dir, store=store, quantize=False)
    r = comp.compress(text, rate=0.3)
    assert r.stats["chunks"] >= r.original_tokens // 400
    assert 0.2 <= r.rate <= 0.4
    wp = r.word_probs[0]
    assert (np.diff(wp.starts) > 0).all() and (wp.ends <= len(text)).all()


@pytest.mark.parametrize(
    ("text", "kwargs", "message"),
    [
        ("", {}, "empty"),
        ("  \n\t ", {}, "empty"),
        ([], {}, "empty"),
        ("some text", {"rate": 0}, "rate must be in"),
        ("some text", {"rate": 1.5}, "rate must be in"),
        ("some text", {"rate": -0.1}, "rate must be in"),
        ("some text", {"rate": 0.5, "target_tokens": 10}, "not both"),
        ("some text", {"target_tokens": 0}, "positive"),
        ("some text", {"mode": "fast"}, "unknown compression mode"),
        (42, {}, "string"),
    ],
)
def test_bad_input_raises_clear_errors(
    comp: Compressor, text: object, kwargs: dict, message: str
) -> None:
    with pytest.raises(CompressorError, match=message):
        comp.compress(text, **kwargs)  # type: ignore[arg-type]


def test_bad_model_folders_raise_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(CompressorError, match="not a token-classification model"):
        Compressor(minilm_dir())  # a BertModel (sentence embeddings), not a classifier
    with pytest.raises(CompressorError, match="no config.json"):
        Compressor(tmp_path)
    with pytest.raises(ModelNotFoundError, match="does not exist"):
        Compressor(tmp_path / "missing")
    with pytest.raises(ModelNotFoundError, match="ctxchat models pull"):
        Compressor("microsoft/llmlingua-2-xlm-roberta-large-meetingbank")
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(CompressorError, match="not valid JSON"):
        Compressor(tmp_path)


def test_default_compressor_needs_the_bundled_model(
    model_dir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from ctxchat.engines.compress import bundle

    def missing() -> Path:
        raise ModelNotFoundError("the default compressor model is missing")

    monkeypatch.setattr(compressor_module, "_DEFAULT", {})
    monkeypatch.setattr(bundle, "default_model_dir", missing)
    with pytest.raises(ModelNotFoundError, match="default compressor"):
        default_compressor()
    monkeypatch.setattr(bundle, "default_model_dir", lambda: tmp_path)
    with pytest.raises(ModelNotFoundError, match="default compressor"):
        default_compressor()
    monkeypatch.setattr(bundle, "default_model_dir", lambda: model_dir)
    comp = default_compressor()
    assert comp is default_compressor()
    assert comp.model_id.startswith(model_dir.name)
    assert comp.compress("The committee approved the budget.", rate=0.5).text


def test_precision_follows_the_device() -> None:
    from ctxchat.engines.compress.encoder import resolve_precision
    from ctxchat.engines.models import cpu_has_bf16_units

    assert resolve_precision("cuda") == "fp16"
    assert resolve_precision("cpu") == ("bf16" if cpu_has_bf16_units() else "fp32")
    assert resolve_precision("cpu", "int8") == "int8"
    assert resolve_precision("cuda", "fp32") == "fp32"
    with pytest.raises(CompressorError, match="unknown precision"):
        resolve_precision("cpu", "fp8")
    with pytest.raises(CompressorError, match="CUDA"):
        resolve_precision("cpu", "fp16")
    with pytest.raises(CompressorError, match="CPU option"):
        resolve_precision("cuda", "bf16")


def test_bf16_keeps_nearly_the_words_of_fp32_and_caches_apart(
    model_dir: Path, store: Store
) -> None:
    text = corpus(8, seed=5)
    fp32 = Compressor(model_dir, device="cpu", store=store, precision="fp32")
    bf16 = Compressor(model_dir, device="cpu", store=store, precision="bf16")
    assert (fp32.encoder.precision, bf16.encoder.precision) == ("fp32", "bf16")
    # The body runs in bf16 (no autocast), the keep/drop head in fp32; batches are cache-sized.
    torch = pytest.importorskip("torch")
    model = bf16.encoder.model
    assert model.get_input_embeddings().weight.dtype == torch.bfloat16
    assert model.classifier.weight.dtype == torch.float32
    assert bf16.encoder.batch_tokens == 2 * fp32.encoder.batch_tokens
    a = fp32.compress(text, rate=0.5)
    b = bf16.compress(text, rate=0.5)
    assert b.stats["cache_misses"] == 1  # fp32 probabilities are not reused for bf16
    assert len(a.keep) == len(b.keep) > 200
    assert (a.keep == b.keep).mean() >= 0.98


def test_global_windows_follow_the_window_a_model_declares(
    model_dir: Path, tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from ctxchat.engines.compress.compressor import GLOBAL_CHUNK_PIECES
    from ctxchat.engines.compress.encoder import WINDOW_CONFIG_KEY

    assert Compressor(model_dir, store=store).chunk_pieces == GLOBAL_CHUNK_PIECES
    declared = tmp_path / "declared"
    shutil.copytree(model_dir, declared)
    config = json.loads((declared / "config.json").read_text())
    config[WINDOW_CONFIG_KEY] = 64
    (declared / "config.json").write_text(json.dumps(config))
    comp = Compressor(declared, store=store)
    assert comp.chunk_pieces == 62  # CLS and SEP take two positions
    assert Compressor(declared, store=store, chunk_pieces=200).chunk_pieces == 200
    widths: list[int] = []
    forward = comp.encoder._forward

    def recording_forward(rows: list, width: int) -> list:
        widths.append(width)
        return forward(rows, width)

    monkeypatch.setattr(comp.encoder, "_forward", recording_forward)
    r = comp.compress(TEXT, rate=0.5, protect=False)
    # Every window the encoder saw fits the declared 64 positions.
    assert r.stats["chunks"] > 5 and widths and max(widths) <= 64


def test_a_device_this_machine_lacks_is_a_clear_error(model_dir: Path) -> None:
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU")
    with pytest.raises(CompressorError, match="no CUDA GPU"):
        Compressor(model_dir, device="cuda")
    with pytest.raises(CompressorError, match="unknown device"):
        Compressor(model_dir, device="tpu")


def test_gpu_batch_fits_free_memory() -> None:
    from ctxchat.engines.compress.encoder import (
        GPU_BATCH_TOKENS,
        MIN_BATCH_TOKENS,
        gpu_batch_tokens,
    )

    gib = 1 << 30
    # MiniLM in fp16 on an 80 GB card: the cap. xlm-roberta-large on a 2 GB card: what fits.
    assert gpu_batch_tokens(78 * gib, 384, 1536, 2) == GPU_BATCH_TOKENS
    small = gpu_batch_tokens(2 * gib, 1024, 4096, 2)
    assert MIN_BATCH_TOKENS < small < GPU_BATCH_TOKENS
    assert small * (2 * 4096 + 8 * 1024) * 2 <= 2 * gib // 4
    assert gpu_batch_tokens(1 << 20, 1024, 4096, 4) == MIN_BATCH_TOKENS


def test_cuda_runs_fp16_with_a_memory_sized_batch(model_dir: Path, store: Store) -> None:
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA GPU here (runs on the GPU machine)")
    from ctxchat.engines.compress.encoder import GPU_BATCH_TOKENS, MIN_BATCH_TOKENS

    gpu = Compressor(model_dir, device="cuda", store=store)
    assert gpu.encoder.precision == "fp16"
    assert MIN_BATCH_TOKENS <= gpu.encoder.batch_tokens <= GPU_BATCH_TOKENS
    cpu = Compressor(model_dir, device="cpu", store=store, precision="fp32")
    a, b = cpu.compress(TEXT, rate=0.5), gpu.compress(TEXT, rate=0.5)
    assert b.stats["cache_misses"] == 1
    assert (a.keep == b.keep).mean() >= 0.98
