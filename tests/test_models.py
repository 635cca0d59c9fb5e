"""Which device the encoders run on: read without importing torch where the build says."""

from __future__ import annotations

import subprocess
import sys

import torch

from ctxchat.engines.models import _GPU_BUILD, torch_device


def test_gpu_builds_are_told_from_cpu_builds() -> None:
    assert _GPU_BUILD.search("cuda: Optional[str] = '12.4'\n")
    assert _GPU_BUILD.search("hip = '6.2.41133'\n")
    assert not _GPU_BUILD.search("cuda: Optional[str] = None\nhip: Optional[str] = None\n")


def test_auto_device_matches_torch_and_a_cpu_build_is_not_imported() -> None:
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    if sys.platform == "darwin" and torch.backends.mps.is_available():
        expected = "mps"
    assert torch_device("auto") == expected
    probe = (
        "import sys\nfrom ctxchat.engines.models import torch_device\n"
        "print(torch_device('auto'), 'torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    device, imported = out.stdout.split()
    assert device == expected
    cpu_build = torch.version.cuda is None and torch.version.hip is None
    if cpu_build and sys.platform != "darwin":
        assert imported == "False"  # read from torch/version.py: ~2 s saved


def test_bf16_units_agree_with_torch() -> None:
    """The /proc/cpuinfo short cut only says "none" where torch would say so too."""
    from ctxchat.engines.models import cpu_has_bf16_units

    helpers = ("_is_amx_tile_supported", "_is_avx512_bf16_supported")
    expected = any(getattr(torch.cpu, n, lambda: False)() for n in helpers)
    assert cpu_has_bf16_units() == expected


LOAD_BOTH_AT_ONCE = """
import threading
from ctxchat.engines.compress.compressor import default_compressor
from ctxchat.engines.select.embeddings import Embedder

start, errors = threading.Barrier(2), []

def load(make):
    start.wait()
    try:
        make()
    except Exception as exc:
        errors.append(repr(exc))

jobs = [lambda: Embedder(device="cpu")._load(), lambda: default_compressor(device="cpu")]
threads = [threading.Thread(target=load, args=(job,)) for job in jobs]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("errors:", errors)
"""


def test_the_embedder_and_the_compressor_load_at_once_in_two_threads() -> None:
    """As the app's workers may: transformers' lazy names, resolved by two threads at once,
    failed with "cannot import name 'AutoModelForTokenClassification'" (every time here)."""
    run = subprocess.run(
        [sys.executable, "-c", LOAD_BOTH_AT_ONCE], capture_output=True, text=True, check=True
    )
    assert run.stdout.strip().splitlines()[-1] == "errors: []"
