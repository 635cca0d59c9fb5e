"""`ctxchat models`: which models are installed or served here; `ctxchat models pull` gets one.

Pulling is the only way ctxchat downloads a model: everything else runs from installed files.
`pull NAME` (a curated chat model) or `pull HUB_ID FILE.gguf` downloads a GGUF chat model;
`pull HUB_ID` an LLMLingua-2 compressor checkpoint.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path

from ctxchat.engines.answer.servers import discover
from ctxchat.engines.errors import CtxchatError
from ctxchat.engines.hub import CURATED, curated, pulled_models
from ctxchat.engines.results import JSONObject

EXAMPLE_HUB_ID = "microsoft/llmlingua-2-xlm-roberta-large-meetingbank"


def register(sub: argparse._SubParsersAction) -> None:
    models = sub.add_parser(
        "models",
        help="list chat and compressor models and local servers; pull a model",
        description="List the chat models (bundled and pulled GGUFs, and the models of "
        "OpenAI-compatible servers running here: Ollama, LM Studio, llama.cpp server), the "
        "compressor models, and the curated chat models `ctxchat models pull NAME` downloads. "
        "Pulling is the only way ctxchat downloads anything.",
    )
    models.add_argument("--json", action="store_true", help="print one JSON object")
    models.set_defaults(func=cmd_models)
    actions = models.add_subparsers(dest="models_command", metavar="ACTION")
    pull = actions.add_parser(
        "pull",
        help="download a chat model (NAME, or HUB_ID FILE.gguf) or a compressor (HUB_ID)",
        description="`pull NAME`: a curated chat model (see `ctxchat models`), e.g. "
        "qwen2.5-1.5b. `pull HUB_ID FILE.gguf`: any GGUF file of a Hugging Face repo. Both "
        "show progress, resume an interrupted download and check its SHA-256; use the model "
        "with `ask --model PATH` or the settings screen. `pull HUB_ID`: an LLMLingua-2 "
        f"compressor checkpoint, e.g. {EXAMPLE_HUB_ID}, for --compressor HUB_ID. "
        "CTXCHAT_HUB_URL points at another hub.",
    )
    pull.add_argument("hub_id", metavar="NAME|HUB_ID", help="curated name or owner/name")
    pull.add_argument("file", metavar="FILE", nargs="?", help="a .gguf file in that repo")
    pull.add_argument("--sha256", metavar="HEX", help="the file's expected SHA-256")
    pull.set_defaults(func=cmd_pull)


def _size_mib(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / (1 << 20)


def _compressor_entry(path: Path, source: str) -> JSONObject:
    entry: JSONObject = {"name": path.name, "path": str(path), "source": source}
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


def list_models() -> JSONObject:
    """Everything `ctxchat models` reports, without loading any model."""
    from ctxchat.engines.compress.encoder import resolve_precision
    from ctxchat.engines.errors import ModelNotFoundError
    from ctxchat.engines.models import torch_device
    from ctxchat.engines.paths import cache_dir

    compressors: list[JSONObject] = []
    seen: set[Path] = set()
    try:
        from ctxchat.engines.compress.bundle import default_model_dir

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
    from ctxchat.engines.select.embeddings import MODEL_ID, resolve_embed_precision

    device = torch_device()
    return {
        "device": device,
        "precision": resolve_precision(device),  # what the compressor runs in there
        "embedder": {"name": MODEL_ID, "precision": resolve_embed_precision(device)},
        "models_dir": str(models_dir),
        "compressors": compressors,
        "chat": _bundled_chat(),
        "chat_models": chat_models(),
        "curated": [asdict(m) for m in CURATED],
        "servers": [s.as_dict() for s in discover()],
    }


def _bundled_chat() -> JSONObject:
    from ctxchat.engines.errors import ModelNotFoundError
    from ctxchat.engines.models import smollm_gguf

    try:
        gguf = smollm_gguf()
    except ModelNotFoundError as exc:
        return {"name": "SmolLM2-135M-Instruct", "ok": False, "problem": str(exc)}
    size = round(gguf.stat().st_size / (1 << 20), 1)
    return {"name": gguf.name, "path": str(gguf), "ok": True, "size_mib": size}


def chat_models() -> list[JSONObject]:
    """The GGUF chat models on this machine: the bundled one, then every pulled one."""
    bundled = _bundled_chat()
    found = [{**bundled, "source": "bundled (default)"}] if bundled["ok"] else []
    for m in pulled_models():
        name = Path(m.file).name
        found.append(
            {
                "name": name,
                "path": str(m.path),
                "ok": True,
                "size_mib": round(m.size / (1 << 20), 1),
                "source": f"pulled from {m.repo}",
            }
        )
    return found


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
    _print_chat(info)
    return 0


def _print_chat(info: JSONObject) -> None:
    print("chat models (ask --model PATH, or the settings screen):")
    for c in info["chat_models"]:
        print(f"  {c['name']}  [{c['source']}]  {c['size_mib']} MiB  {c['path']}")
    if not info["chat"]["ok"]:
        print(f"  bundled model missing: {info['chat']['problem']}")
    have = {Path(c["path"]).name for c in info["chat_models"]}
    print("curated chat models (ctxchat models pull NAME):")
    for m in info["curated"]:
        mark = "pulled" if m["file"] in have else f"~{m['size_mb']:,} MB"
        print(f"  {m['name']:<13} {mark:>9}  {m['note']}")
    print("servers on this machine (ask --llm-url URL):")
    if not info["servers"]:
        print("  none found (Ollama :11434, LM Studio :1234, llama.cpp server :8080)")
    for srv in info["servers"]:
        models = ", ".join(srv["models"]) or "no models loaded"
        print(f"  {srv['name']}  {srv['url']}  {models}")


def cmd_pull(args: argparse.Namespace) -> int:
    hub_id = args.hub_id.strip()
    pick = curated(hub_id)
    if pick is not None:
        if args.file:
            raise CtxchatError(f"{hub_id} is a curated name: pull it without a FILE")
        return _pull_gguf(pick.repo, pick.file, args.sha256 or pick.sha256)
    if hub_id.count("/") != 1 or hub_id.startswith("/") or hub_id.endswith("/"):
        names = ", ".join(m.name for m in CURATED)
        raise CtxchatError(
            f"{hub_id!r} is neither a curated model ({names}) nor a hub id (owner/name)"
        )
    if args.file:
        if not args.file.lower().endswith(".gguf"):
            raise CtxchatError(f"{args.file!r} is not a .gguf file")
        return _pull_gguf(hub_id, args.file, args.sha256)
    from ctxchat.engines.compress.encoder import pull_model

    print(f"downloading {hub_id} ...", flush=True)
    path = pull_model(hub_id)
    print(f"{hub_id}: {path} ({_size_mib(path):.0f} MiB)")
    return 0


def _pull_gguf(repo: str, file: str, sha256: str | None) -> int:
    from ctxchat.app.progress import ProgressBar
    from ctxchat.engines.hub import download

    with ProgressBar(file, unit="MiB") as bar:
        model = download(
            repo,
            file,
            sha256=sha256,
            progress=lambda done, total: bar.update(
                done >> 20, None if total is None else total >> 20
            ),
        )
    print(f"{repo}/{file}: {model.path} ({model.size / 2**20:.0f} MiB, sha256 {model.sha256})")
    print(f"use it: ctxchat ask DOC QUESTION --model {model.path}")
    return 0
