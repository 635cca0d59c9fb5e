"""Smoothed int8 Linear layers (engines/int8.py) and the compressor's opt-in int8 precision."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from ctxchat.engines import int8  # noqa: E402
from ctxchat.engines.compress.compressor import Compressor  # noqa: E402
from ctxchat.engines.store.db import Store  # noqa: E402
from devkit.compressor_checkpoint import corpus, minilm_classifier  # noqa: E402

pytestmark = pytest.mark.skipif(not int8.int8_available(), reason="no quantized CPU kernels")


def _outlier_batch(rows: int = 512, width: int = 384, seed: int = 0) -> torch.Tensor:
    """Activations like MiniLM's: most channels small, a few 60x larger in every token."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(rows, width, generator=g)
    x[:, [7, 100, 301]] *= 60.0
    return x


def _relative_error(approx: torch.Tensor, exact: torch.Tensor) -> float:
    return float((approx - exact).norm() / exact.norm())


def test_smoothing_moves_outliers_into_the_weights() -> None:
    torch.manual_seed(0)
    linear = torch.nn.Linear(384, 256)
    x = _outlier_batch()
    exact = linear(x).detach()
    peak = x.abs().amax(0)
    smoothed = int8.SmoothInt8Linear(linear, peak, int8.SMOOTH_ALPHA, full_range=True)
    plain = int8.SmoothInt8Linear(linear, peak, 0.0, full_range=True)  # alpha 0: no smoothing
    with torch.inference_mode():
        smooth_err = _relative_error(smoothed(x), exact)
        plain_err = _relative_error(plain(x), exact)
    assert smooth_err < 0.02
    assert smooth_err < plain_err / 2
    # 3-D inputs (batch, sequence, channels) work as in the model.
    with torch.inference_mode():
        out = smoothed(x.reshape(8, 64, 384))
    assert out.shape == (8, 64, 256)


def test_input_maxima_records_every_linear_layer() -> None:
    model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2))
    x = torch.randn(32, 8)
    maxima = int8.input_maxima(model, lambda: model(x))
    assert set(maxima) == {"0", "2"}
    assert torch.allclose(maxima["0"], x.abs().amax(0))
    assert maxima["2"].shape == (16,)
    assert not any(m._forward_pre_hooks for m in model.modules())  # hooks removed


def test_calibration_text_is_fixed_and_varied() -> None:
    text = int8.calibration_text()
    assert text == int8.calibration_text()
    assert len(text.split()) > 1500
    for feature in ("https://", "## ", "東京", "Москва", "$4,381,200"):
        assert feature in text


@pytest.fixture(scope="module")
def minilm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return minilm_classifier(tmp_path_factory.mktemp("int8-models"))


@pytest.mark.slow
def test_int8_compressor_keeps_nearly_the_words_of_fp32(tmp_path: Path) -> None:
    from ctxchat.engines.compress.bundle import default_model_dir

    model = default_model_dir()  # the shipped compressor: its agreement is the one that counts
    store = Store(tmp_path / "library.db")
    text = corpus(40, seed=9)
    fp32 = Compressor(model, store=store, precision="fp32")
    quantized = Compressor(model, store=store, precision="int8")
    assert quantized.encoder.precision == "int8"
    layers = [m for m in quantized.encoder.model.modules() if isinstance(m, int8.SmoothInt8Linear)]
    assert len(layers) == 6 * 6  # q, k, v, attention out, FFN in and out in each of 6 layers
    assert isinstance(quantized.encoder.model.classifier, torch.nn.Linear)  # head stays fp32
    a = fp32.compress(text, rate=0.5, protect=False)
    b = quantized.compress(text, rate=0.5, protect=False)
    assert b.stats["cache_misses"] == 1  # fp32's cached probabilities are not reused
    assert len(a.keep) == len(b.keep) > 1000
    assert (a.keep == b.keep).mean() >= 0.975  # 98.7% on the benchmark's 51k words
    store.close()


@pytest.mark.slow
def test_int8_llmlingua2_mode_requantizes_after_adding_force_pieces(
    minilm: Path, tmp_path: Path
) -> None:
    """BERT splits "\\n" away, so llmlingua2 mode adds [NEW*] pieces: the int8 copy must be
    rebuilt from the resized fp32 model, not left with the old embedding table."""
    comp = Compressor(minilm, mode="llmlingua2", precision="int8")
    before = comp.encoder.model
    r = comp.compress(corpus(12, seed=4), rate=0.5, force_tokens=("\n", "."), protect=False)
    model = comp.encoder.model
    assert model is not before
    rows = model.get_input_embeddings().num_embeddings
    assert rows == len(comp.encoder.tokenizer) > 30522
    assert any(isinstance(m, int8.SmoothInt8Linear) for m in model.modules())
    assert 0.3 < r.rate < 0.7 and np.isfinite(np.concatenate([w.probs for w in r.word_probs])).all()
