"""`ctxchat models`: which models are installed; `ctxchat models pull HUB_ID` downloads one.

Pulling is the only way ctxchat downloads a model: everything else runs from installed files.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ctxchat.engines.errors import CtxchatError

EXAMPLE_HUB_ID = "microsoft/llmlingua-2-xlm-roberta-large-meetingbank"


def register(sub: argparse._SubParsersAction) -> None:
    models = sub.add_parser(
        "models",
        help="list installed compressor and chat models; pull an LLMLingua-2 checkpoint",
        description="List the compressor models (the bundled one and any pulled) and the chat "
        "model. `ctxchat models pull HUB_ID` downloads an LLMLingua-2 checkpoint from the "
        "Hugging Face hub; nothing else downloads models.",
    )
    models.add_argument("--json", action="store_true", help="print one JSON object")
    models.set_defaults(func=cmd_models)
    actions = models.add_subparsers(dest="models_command", metavar="ACTION")
    pull = actions.add_parser(
        "pull",
        help="download an LLMLingua-2 checkpoint (explicit opt-in)",
        description=f"Download a token-classification checkpoint, e.g. {EXAMPLE_HUB_ID}, into "
        "ctxchat's model cache. Use it with --compressor HUB_ID (compress, ask), the settings screen or Compressor(HUB_ID).",
    )
    pull.add_argument("hub_id", metavar="HUB_ID", help="a Hugging Face model id (owner/name)")
    pull.set_defaults(func=cmd_pull)


def _size_mib(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / (1 << 20)


def _compressor_entry(path: Path, source: str) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": path.name, "path": str(path), "source": source}
    try:
        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return {**entry, "ok": False, "problem": f"unreadable config.json: {exc}"}
    archs = config.get("architectures") or []
    entry.update(
        ok=any("ForTokenClassification" in a for a in archs),
        architecture=", ".join(archs) or "unknown",
        model_type=config.get("model_type"),
        layers=config.get("num_hidden_layers"),
        hidden=config.get("hidden_size"),
        size_mib=round(_size_mib(path), 1),
    )
    if not entry["ok"]:
        entry["problem"] = "not a token-classification model"
    return entry


def list_models() -> dict[str, Any]:
    """Everything `ctxchat models` reports, without loading any model."""
    from ctxchat.engines.encoder import resolve_precision
    from ctxchat.engines.errors import ModelNotFoundError
    from ctxchat.engines.models import smollm_gguf, torch_device
    from ctxchat.engines.paths import cache_dir

    compressors: list[dict[str, Any]] = []
    seen: set[Path] = set()
    try:
        from ctxchat.engines.training.bundle import default_model_dir

        bundled = Path(default_model_dir())
        compressors.append(_compressor_entry(bundled, "bundled (default)"))
        seen.add(bundled.resolve())
    except (ImportError, ModelNotFoundError) as exc:
        compressors.append(
            {"name": "bundled", "source": "bundled (default)", "ok": False, "problem": str(exc)}
        )
    models_dir = cache_dir("models")
    for folder in sorted(p for p in models_dir.iterdir() if (p / "config.json").exists()):
        if folder.resolve() not in seen:
            compressors.append(_compressor_entry(folder, "pulled"))
    try:
        gguf = smollm_gguf()
        chat = {
            "name": gguf.name,
            "path": str(gguf),
            "ok": True,
            "size_mib": round(gguf.stat().st_size / (1 << 20), 1),
        }
    except ModelNotFoundError as exc:
        chat = {"name": "SmolLM2-135M-Instruct", "ok": False, "problem": str(exc)}
    from ctxchat.engines.embeddings import MODEL_ID, resolve_embed_precision

    device = torch_device()
    return {
        "device": device,
        "precision": resolve_precision(device),  # what the compressor runs in there
        "embedder": {"name": MODEL_ID, "precision": resolve_embed_precision(device)},
        "models_dir": str(models_dir),
        "compressors": compressors,
        "chat": chat,
    }


def cmd_models(args: argparse.Namespace) -> int:
    info = list_models()
    if args.json:
        print(json.dumps(info, indent=1))
        return 0
    embedder = info["embedder"]
    print(f"device: {info['device']} (compressor in {info['precision']})")
    print(f"embedding model: {embedder['name']} in {embedder['precision']}")
    print("compressor models:")
    for c in info["compressors"]:
        if c.get("ok"):
            print(
                f"  {c['name']}  [{c['source']}]  {c['architecture']}, {c['layers']} layers, "
                f"hidden {c['hidden']}, {c['size_mib']} MiB  {c['path']}"
            )
        else:
            print(f"  {c['name']}  [{c['source']}]  unusable: {c['problem']}")
    print(
        f"  (pull more with: ctxchat models pull {EXAMPLE_HUB_ID}; stored in {info['models_dir']})"
    )
    chat = info["chat"]
    print("chat model:")
    if chat["ok"]:
        print(f"  {chat['name']}  {chat['size_mib']} MiB  {chat['path']}")
    else:
        print(f"  missing: {chat['problem']}")
    return 0


def cmd_pull(args: argparse.Namespace) -> int:
    from ctxchat.engines.encoder import pull_model

    hub_id = args.hub_id.strip()
    if hub_id.count("/") != 1 or hub_id.startswith("/") or hub_id.endswith("/"):
        raise CtxchatError(
            f"{hub_id!r} is not a hub id; expected owner/name, e.g. {EXAMPLE_HUB_ID}"
        )
    print(f"downloading {hub_id} ...", flush=True)
    path = pull_model(hub_id)
    print(f"{hub_id}: {path} ({_size_mib(path):.0f} MiB)")
    return 0
