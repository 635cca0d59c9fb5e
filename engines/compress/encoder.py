"""Token-classification encoder: finds and loads a checkpoint, runs it in length-sorted batches.

Any LLMLingua-2 style checkpoint works: a Hugging Face token classifier whose label 1 means
"keep". This module only turns piece ids into keep probabilities; words, thresholds and the
cache live elsewhere (wordmap, thresholds, compressor).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from ctxchat.engines.errors import CompressorError, ModelNotFoundError
from ctxchat.engines.models import (
    cpu_has_bf16_units,
    quiet_transformers,
    torch_device,
    transformers_loading,
)
from ctxchat.engines.paths import cache_dir

MAX_SEQ_LEN = 512  # the LLMLingua-2 window, CLS and SEP included
# Tokens per batch (padded length x rows). CPUs gain nothing from huge batches: a batch
# whose FFN activations stay in the last-level cache runs faster. Measured (benchmarks/
# README.md) on a 2-core Zen 4 and a 16-core Xeon: fp32 is fastest at 4k tokens (1.24x and
# 1.22x the 16k rate), bf16, half the bytes a token, at 8k. GPUs want big batches.
CPU_BATCH_TOKENS = 4_096
CPU_BF16_BATCH_TOKENS = 8_192
GPU_BATCH_TOKENS = 131_072
MIN_BATCH_TOKENS = 1_024
# The pieces llmlingua adds for force tokens the tokenizer splits (e.g. "\n" in BERT).
ADDED_FORCE_TOKENS = [f"[NEW{i}]" for i in range(100)]
PRECISIONS = ("auto", "fp32", "bf16", "fp16", "int8")
# config.json key with which a model declares the window it was trained on (positions, CLS
# and SEP included); the compressor's global mode then runs it on windows of that length.
WINDOW_CONFIG_KEY = "ctxchat_window"

ProgressFn = Callable[[int, int], None]


def hub_folder_name(hub_id: str) -> str:
    return hub_id.strip("/").replace("/", "--")


def resolve_model_dir(model: str | Path) -> Path:
    """A local model folder for `model`: a path, or a hub id already pulled into the cache."""
    path = Path(model).expanduser()
    if path.is_dir():
        return path
    if path.exists():
        raise CompressorError(f"{path} is a file, not a model folder")
    pulled = cache_dir("models") / hub_folder_name(str(model))
    if (pulled / "config.json").exists():
        return pulled
    if "/" in str(model) and not str(model).startswith((".", "/", "~")):
        raise ModelNotFoundError(
            f"compressor model {model} is not downloaded; run `ctxchat models pull {model}` "
            "(the only command that downloads models)"
        )
    raise ModelNotFoundError(f"compressor model folder {path} does not exist")


def pull_model(hub_id: str) -> Path:
    """Download an LLMLingua-2 checkpoint from the Hugging Face hub (explicit user opt-in)."""
    try:
        from huggingface_hub import snapshot_download
        from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError
    except ImportError as exc:  # pragma: no cover - huggingface_hub ships with transformers
        raise ModelNotFoundError("huggingface_hub is not installed") from exc
    target = cache_dir("models") / hub_folder_name(hub_id)
    patterns = ["*.json", "*.safetensors", "*.txt", "*.model", "tokenizer*"]
    existed = target.exists()
    try:
        snapshot_download(repo_id=hub_id, local_dir=target, allow_patterns=patterns)
    except (LocalEntryNotFoundError, OSError, HfHubHTTPError) as exc:
        if not existed:
            shutil.rmtree(target, ignore_errors=True)  # no half-downloaded folder left behind
        offline = os.environ.get("HF_HUB_OFFLINE") not in (None, "", "0")
        hint = " (HF_HUB_OFFLINE is set)" if offline else " (are you offline?)"
        raise ModelNotFoundError(
            f"could not download {hub_id}{hint}: {exc}".splitlines()[0]
        ) from exc
    check_model_dir(target)
    return target


def check_model_dir(path: Path) -> dict:
    """The folder's config, or a clear error when it cannot serve as a token classifier."""
    config_file = path / "config.json"
    if not config_file.exists():
        raise CompressorError(f"{path} is not a model folder (no config.json)")
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CompressorError(f"{config_file} is not valid JSON: {exc}") from exc
    archs = config.get("architectures") or []
    if not any("ForTokenClassification" in a for a in archs):
        raise CompressorError(
            f"{path} is not a token-classification model "
            f"(architectures: {', '.join(archs) or 'none'}); use an LLMLingua-2 checkpoint"
        )
    labels = config.get("id2label") or {}
    if labels and len(labels) < 2:
        raise CompressorError(f"{path} has {len(labels)} label(s); a keep/drop model needs 2")
    has_tokenizer = (path / "tokenizer.json").exists() or (path / "tokenizer_config.json").exists()
    if not has_tokenizer:
        raise CompressorError(f"{path} has no tokenizer files")
    return config


def model_fingerprint(path: Path) -> str:
    """A short id that changes when the weights change (cache keys depend on it).

    Hashing a 2 GB checkpoint takes seconds, so only sizes and the head and tail bytes of each
    weight file go in, plus the whole config.
    """
    h = hashlib.sha1((path / "config.json").read_bytes())
    for f in sorted(path.iterdir()):
        if f.suffix not in (".safetensors", ".bin", ".pt") or not f.is_file():
            continue
        size = f.stat().st_size
        h.update(f"{f.name}:{size}".encode())
        with f.open("rb") as fh:
            h.update(fh.read(1 << 16))
            fh.seek(max(0, size - (1 << 16)))
            h.update(fh.read(1 << 16))
    return f"{path.name}@{h.hexdigest()[:12]}"


class Encoder:
    """One loaded checkpoint on one device. Thread-safe: one forward pass at a time."""

    def __init__(
        self,
        path: Path,
        *,
        device: str = "auto",
        quantize: bool | None = None,
        batch_tokens: int | None = None,
        precision: str = "auto",
    ) -> None:
        check_model_dir(path)
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        import torch

        self.path = path
        self.device = torch_device(device)
        _check_device_available(torch, self.device)
        tokenizer, model = _load_pretrained(path)
        if not getattr(tokenizer, "is_fast", False):
            raise CompressorError(f"{path} needs a fast tokenizer (tokenizer.json)")
        model.eval()
        self.tokenizer = tokenizer
        self.model = model
        self.max_len = min(MAX_SEQ_LEN, int(getattr(model.config, "max_position_embeddings", 512)))
        self.model_id = model_fingerprint(path)
        self.cls_id = _first_id(tokenizer.cls_token_id, tokenizer.bos_token_id)
        self.sep_id = _first_id(tokenizer.sep_token_id, tokenizer.eos_token_id)
        self.pad_id = _first_id(tokenizer.pad_token_id, 0)
        self._lock = threading.Lock()
        self._torch = torch
        wanted = "int8" if quantize and self.device == "cpu" else precision
        self.precision = resolve_precision(self.device, wanted)
        self.quantized = self.precision == "int8"
        if self.precision in ("fp16", "bf16"):
            _to_half_precision(model, torch.float16 if self.precision == "fp16" else torch.bfloat16)
        if self.device != "cpu":
            model.to(self.device)
        self._base_model = model
        self.model = model
        if batch_tokens is None and self.device == "cuda":
            free_bytes, _ = torch.cuda.mem_get_info()
            cfg = model.config
            batch_tokens = gpu_batch_tokens(
                free_bytes,
                int(getattr(cfg, "hidden_size", 1024)),
                int(getattr(cfg, "intermediate_size", 4096)),
                2 if self.precision == "fp16" else 4,
            )
        if batch_tokens is None:
            batch_tokens = default_batch_tokens(self.device, self.precision)
        self.batch_tokens = batch_tokens
        self.forward_calls = 0
        if self.quantized:
            self.model = self._int8_model(model)

    def ensure_added_force_tokens(self) -> None:
        """Add llmlingua's [NEW0]..[NEW99] pieces the way it does (same seed, same resize).

        llmlingua stands these in for force tokens the tokenizer splits; a checkpoint trained
        by LLMLingua-2 already has them, ours get llmlingua's own random rows so that both
        tools see identical inputs.
        """
        vocab = self.tokenizer.get_vocab()
        rows = self._base_model.get_input_embeddings().num_embeddings
        if all(t in vocab for t in ADDED_FORCE_TOKENS) and rows >= len(self.tokenizer):
            return
        from transformers.utils import logging as hf_logging

        torch = self._torch
        verbosity = hf_logging.get_verbosity()
        hf_logging.set_verbosity_error()  # resize announces its init scheme on stdout
        embeddings = self._base_model.get_input_embeddings()
        dtype = embeddings.weight.dtype
        try:
            with self._lock, torch.random.fork_rng(devices=[]):
                torch.manual_seed(42)
                self.tokenizer.add_special_tokens({"additional_special_tokens": ADDED_FORCE_TOKENS})
                # The new rows are drawn from the old rows' mean and covariance: do it in fp32,
                # as llmlingua does, whatever precision the encoder runs in.
                embeddings.float()
                self._base_model.resize_token_embeddings(len(self.tokenizer))
                self._base_model.get_input_embeddings().to(dtype)
        finally:
            hf_logging.set_verbosity(verbosity)
            if self.model is not self._base_model:
                self.model = self._int8_model(self._base_model)

    def _int8_model(self, model):  # type: ignore[no-untyped-def]
        """The smoothed int8 copy of `model`, calibrated on a fixed text (engines/int8.py)."""
        from ctxchat.engines import int8

        text = int8.calibration_text()
        ids = np.asarray(self.tokenizer(text, add_special_tokens=False)["input_ids"], np.int64)
        step = self.max_len - 2
        chunks = [ids[i : i + step] for i in range(0, len(ids), step)]
        previous, self.model = self.model, model

        def calibrate() -> None:
            self.keep_probs(chunks)

        try:
            maxima = int8.input_maxima(model, calibrate)
        finally:
            self.model = previous
        return int8.quantize_smoothed(model, maxima)

    def keep_probs(
        self,
        chunks: Sequence[np.ndarray],
        on_progress: ProgressFn | None = None,
        progress_offset: int = 0,
        progress_total: int | None = None,
    ) -> list[np.ndarray]:
        """P(keep) for every piece of every chunk (piece ids without CLS/SEP).

        Chunks are sorted by length and padded only to the longest of their batch. A chunk
        longer than the window minus CLS/SEP loses its SEP, as in llmlingua.
        """
        out: list[np.ndarray | None] = [None] * len(chunks)
        order = sorted(range(len(chunks)), key=lambda i: len(chunks[i]))
        total = progress_total if progress_total is not None else len(chunks)
        done = progress_offset
        pos = 0
        while pos < len(order):
            width = min(len(chunks[order[pos]]) + 2, self.max_len)
            # Rows fit the token budget at the width of the longest row of the batch.
            end = pos + 1
            while end < len(order):
                w = min(len(chunks[order[end]]) + 2, self.max_len)
                if (end - pos + 1) * w > self.batch_tokens:
                    break
                width = w
                end += 1
            batch = order[pos:end]
            try:
                probs = self._forward([chunks[i] for i in batch], width)
            except RuntimeError as exc:
                if "out of memory" not in str(exc).lower() or self.batch_tokens <= MIN_BATCH_TOKENS:
                    raise
                self.batch_tokens //= 2  # CUDA OOM: halve the batch and retry
                self._torch.cuda.empty_cache()
                continue
            for i, p in zip(batch, probs, strict=True):
                out[i] = p
            pos = end
            done += len(batch)
            if on_progress is not None:
                on_progress(done, total)
        return out  # type: ignore[return-value]

    def _forward(self, rows: list[np.ndarray], width: int) -> list[np.ndarray]:
        torch = self._torch
        ids = np.full((len(rows), width), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        lengths = []
        for r, piece_ids in enumerate(rows):
            seq = np.concatenate(([self.cls_id], piece_ids, [self.sep_id]))[:width]
            ids[r, : len(seq)] = seq
            mask[r, : len(seq)] = 1
            lengths.append(min(len(piece_ids), width - 1))
        with self._lock, torch.inference_mode():
            t_ids = torch.from_numpy(ids).to(self.device)
            t_mask = torch.from_numpy(mask).to(self.device)
            logits = self.model(input_ids=t_ids, attention_mask=t_mask).logits
            probs = torch.softmax(logits.float(), dim=-1)[..., 1].cpu().numpy()
            self.forward_calls += 1
        return [probs[r, 1 : 1 + n].astype(np.float32) for r, n in enumerate(lengths)]


def default_batch_tokens(device: str, precision: str = "fp32") -> int:
    """Tokens per forward pass: large on GPUs, cache-sized on CPUs (bf16 fits twice as many)."""
    if device != "cpu":
        return GPU_BATCH_TOKENS
    return CPU_BF16_BATCH_TOKENS if precision == "bf16" else CPU_BATCH_TOKENS


def gpu_batch_tokens(free_bytes: int, hidden: int, intermediate: int, dtype_bytes: int) -> int:
    """Tokens per forward pass that fit in a quarter of the GPU's free memory.

    Per token, a layer holds at most its FFN activation twice (before and after GELU) and a
    few hidden-size tensors (input, residual, q, k, v, attention output); that bounds the
    peak, and the quarter leaves room for the allocator and other programs. An OOM still
    halves the batch (keep_probs).
    """
    per_token = (2 * intermediate + 8 * hidden) * dtype_bytes
    fit = free_bytes // 4 // max(per_token, 1)
    return int(max(MIN_BATCH_TOKENS, min(GPU_BATCH_TOKENS, fit)))


def resolve_precision(device: str, requested: str = "auto") -> str:
    """The number format the encoder runs in on `device`.

    auto: fp16 on CUDA; on a CPU, bf16 where it has bf16 matrix units (AMX / AVX-512 BF16:
    about 1.7x the fp32 speed, 99.9% of kept words unchanged, benchmarks/README.md), else fp32.
    int8 (smoothed dynamic int8 Linear layers, engines/int8.py, CPU only) is opt-in: faster
    still on CPUs with VNNI, the same answer survival, but 1.3% of kept words differ from fp32
    (1.5% from llmlingua in llmlingua2 mode, over the 1% the equivalence goal allows).
    """
    if requested not in PRECISIONS:
        raise CompressorError(
            f"unknown precision {requested!r}; choose one of {', '.join(PRECISIONS)}"
        )
    if requested == "auto":
        if device == "cuda":
            return "fp16"
        return "bf16" if device == "cpu" and cpu_has_bf16_units() else "fp32"
    if requested == "fp16" and device != "cuda":
        raise CompressorError("fp16 needs a CUDA GPU; use bf16 or fp32 on this device")
    if requested in ("bf16", "int8") and device != "cpu":
        raise CompressorError(f"{requested} is a CPU option here; use fp16 on {device}")
    if requested == "int8":
        from ctxchat.engines.int8 import int8_available

        if not int8_available():
            raise CompressorError("this torch build has no quantized CPU kernels; use fp32")
    return requested


def _load_pretrained(path: Path):  # type: ignore[no-untyped-def]
    """(tokenizer, token-classification model) from a local folder."""
    with transformers_loading():
        from transformers import AutoModelForTokenClassification, AutoTokenizer

        quiet_transformers()
        try:
            tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
            model = AutoModelForTokenClassification.from_pretrained(path, local_files_only=True)
        except (OSError, ValueError, KeyError) as exc:
            raise CompressorError(f"cannot load the compressor model in {path}: {exc}") from exc
    return tokenizer, model


def _check_device_available(torch, device: str) -> None:  # type: ignore[no-untyped-def]
    """A clear error for a device this machine or torch build lacks (not a torch traceback)."""
    if device == "cuda" and not torch.cuda.is_available():
        raise CompressorError("no CUDA GPU is available to torch here; use --device cpu or auto")
    mps = getattr(torch.backends, "mps", None)
    if device == "mps" and not (mps is not None and mps.is_available()):
        raise CompressorError("Apple's MPS device is not available here; use --device cpu or auto")
    if device not in ("cpu", "cuda", "mps"):
        raise CompressorError(f"unknown device {device!r}; use auto, cpu, cuda or mps")


def _to_half_precision(model, dtype) -> None:  # type: ignore[no-untyped-def]
    """Cast the encoder to fp16/bf16 but keep the keep/drop head in fp32.

    A whole-model cast beats autocast on CPU (no fp32<->bf16 copies around every matrix
    product; half the memory traffic in GELU, LayerNorm and the residual adds), and the fp32
    head keeps keep-probabilities finely resolved, so fewer words tie at a threshold.
    """
    model.to(dtype)
    head = getattr(model, "classifier", None)
    if head is None:
        return
    head.float()
    head.register_forward_pre_hook(lambda _module, args: tuple(a.float() for a in args))


def _first_id(*candidates: int | None) -> int:
    for c in candidates:
        if c is not None:
            return int(c)
    return 0


_ENCODERS: dict[tuple, Encoder] = {}
_ENCODERS_LOCK = threading.Lock()


def load_encoder(
    path: Path,
    *,
    device: str = "auto",
    quantize: bool | None = None,
    batch_tokens: int | None = None,
    precision: str = "auto",
) -> Encoder:
    """A process-wide shared Encoder per (folder, device, precision, batch budget)."""
    key = (str(path.resolve()), torch_device(device), quantize, batch_tokens, precision)
    with _ENCODERS_LOCK:
        enc = _ENCODERS.get(key)
        if enc is None:
            enc = Encoder(
                path,
                device=device,
                quantize=quantize,
                batch_tokens=batch_tokens,
                precision=precision,
            )
            _ENCODERS[key] = enc
        return enc
