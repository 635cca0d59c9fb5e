"""The NumPy MiniLM (questions, headings) against the torch model, on the real weights."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest

from ctxchat.engines.models import minilm_dir
from ctxchat.engines.select import embeddings
from ctxchat.engines.select.embeddings import DIM, MAX_LENGTH, SMALL_BATCH, Embedder
from ctxchat.engines.select.numpy_minilm import erf, gelu, load_numpy_minilm, read_safetensors

LONG = (
    "The Forth Bridge is a cantilever railway bridge across the Firth of Forth in the east of "
    "Scotland, nine miles west of central Edinburgh. Completed in 1890, it is considered a "
    "symbol of Scotland and is a World Heritage Site. It was designed by the English engineers "
    "Sir John Fowler and Sir Benjamin Baker. Construction of the bridge began in 1882 and it "
    "was opened on 4 March 1890 by the Prince of Wales, the future King Edward VII. "
) * 4  # ~400 word pieces: cut at MAX_LENGTH like the torch path

TEXTS = [
    "Who created the series That's My Bush!?",
    "How many rooms does the highest hotel tower in Iran have?",
    "When was the computer scientist Les Earnest born?",
    "Which motorcycle company did Rex merge with in 1922?",
    "hey so like what did the paper actually find about sleep and memory lol",
    "ok but why does the bridge need so many steel tubes",
    "Photosynthesis converts light energy into chemical energy stored in glucose.",
    "The committee postponed its decision until the auditors had reviewed the accounts.",
    "Table 3: Results on the test split (accuracy, %).",
    "2.1 Related Work",
    "Abstract",
    "x",
    "?",
    "Ünïcödé façade: a naïve café in Zürich served crème brûlée.",
    "東京は日本の首都です。",
    "Москва — столица России.",
    "E = mc² and ∑ᵢ xᵢ² ≥ 0 — with “smart quotes” and an emoji 🙂.",
    "DNA-PKcs phosphorylates p53 at Ser15 in vitro (n = 12, p < 0.01).",
    "   leading and trailing spaces   ",
    LONG,
    LONG[:600],
]


@pytest.fixture(scope="module")
def torch_fp32() -> Embedder:
    return Embedder(device="cpu", precision="fp32")


def test_vectors_match_the_torch_model(torch_fp32: Embedder) -> None:
    expected = torch_fp32.encode(TEXTS)
    got = load_numpy_minilm(MAX_LENGTH).encode(TEXTS)
    assert got.shape == (len(TEXTS), DIM) and got.dtype == np.float32
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    cosines = (got * expected).sum(1)
    worst = int(np.argmin(cosines))
    assert cosines.min() >= 0.9999, (TEXTS[worst][:60], float(cosines.min()))


def test_token_ids_match_the_hf_tokenizer(torch_fp32: Embedder) -> None:
    torch_fp32.encode(TEXTS[:1])  # loads the HF tokenizer
    hf = torch_fp32._tokenizer(TEXTS, truncation=True, max_length=MAX_LENGTH)["input_ids"]
    ours = load_numpy_minilm(MAX_LENGTH).token_ids(TEXTS)
    assert ours == hf
    assert len(ours[TEXTS.index(LONG)]) == MAX_LENGTH
    assert ours[0][0] == 101 and ours[0][-1] == 102  # [CLS] ... [SEP]


def test_mapped_weights_equal_safetensors_own_loader() -> None:
    from safetensors.numpy import load_file

    path = minilm_dir() / "model.safetensors"
    ours, theirs = read_safetensors(path), load_file(str(path))
    assert ours.keys() == theirs.keys()
    for name, array in theirs.items():
        assert ours[name].dtype == array.dtype and np.array_equal(ours[name], array), name


def test_gelu_is_the_exact_erf_form() -> None:
    x = np.linspace(-8, 8, 4001, dtype=np.float32)
    exact = np.array([math.erf(float(v)) for v in x])
    assert np.abs(erf(x) - exact).max() < 1e-6
    # BERT's gelu, not the tanh approximation (they differ by ~1e-3 near |x| = 2).
    expected = np.array([v * 0.5 * (1 + math.erf(v / math.sqrt(2))) for v in x.astype(float)])
    assert np.abs(gelu(x) - expected).max() < 1e-5


def test_only_small_batches_without_a_loaded_torch_model_use_numpy() -> None:
    assert embeddings._small_batch_model(0) is None
    assert embeddings._small_batch_model(SMALL_BATCH + 1) is None
    embeddings.default_embedder()._load()  # as after indexing in this process
    assert embeddings._small_batch_model(1) is None
    vec = embeddings.embed(["What did the auditors review?"])
    ref = load_numpy_minilm(MAX_LENGTH).encode(["What did the auditors review?"])
    assert float(vec[0] @ ref[0]) > 0.999  # torch path (maybe bf16), same direction


QUESTION_SCRIPT = """
import json, sys
from ctxchat.engines.select.selector import query_vector
v = query_vector("so who designed the forth bridge?")
heavy = sorted(m for m in ("torch", "transformers") if m in sys.modules)
print(json.dumps({"heavy": heavy, "norm": float((v * v).sum()), "vec": v[:8].tolist()}))
"""


def test_a_question_embeds_without_importing_torch_or_transformers(
    torch_fp32: Embedder,
) -> None:
    run = subprocess.run(
        [sys.executable, "-c", QUESTION_SCRIPT], capture_output=True, text=True, check=True
    )
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["heavy"] == []
    assert abs(result["norm"] - 1.0) < 1e-4
    expected = torch_fp32.encode(["so who designed the forth bridge?"])[0][:8]
    assert np.allclose(result["vec"], expected, atol=1e-4)
