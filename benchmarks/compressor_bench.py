"""Compressor throughput: ctxchat against llmlingua 0.2.2 on the same checkpoint and input.

    nice -n 10 .venv/bin/python -m benchmarks.compressor_bench [--tokens 50000] [--model DIR]
        [--device cpu|cuda] [--repeat 3]

Both run in this one process over the same text (>= --tokens cl100k tokens). The model is the
project's bundled compressor when it is installed, else all-MiniLM-L6-v2's body with a random
keep/drop head (same size and speed as the bundled one). Reports tokens/s (cl100k tokens of
the input per second of compress) and the kept-word agreement with llmlingua.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

FORCE = ["\n", ".", "?", "!"]


def _model_dir(arg: str | None, tmp: Path) -> tuple[Path, str]:
    if arg:
        return Path(arg), Path(arg).name
    try:
        from ctxchat.engines.compress.bundle import default_model_dir

        return default_model_dir(), "ctxchat bundled compressor (trained)"
    except Exception:  # noqa: BLE001 - any failure means "not installed yet"
        from devkit.compressor_checkpoint import minilm_classifier

        return minilm_classifier(tmp), "all-MiniLM-L6-v2 body + random head"


def _llmlingua_path(model: Path, tmp: Path) -> Path:
    """llmlingua picks its word rules from the model name: link the folder under one."""
    if "bert-base-multilingual-cased" in str(model):
        return model
    link = tmp / "bert-base-multilingual-cased-link"
    if not link.exists():
        link.symlink_to(model.resolve(), target_is_directory=True)
    return link


def _text(min_tokens: int) -> str:
    from ctxchat.engines.tokens import count_tokens
    from devkit.compressor_checkpoint import corpus

    paragraphs = 200
    while True:
        text = corpus(paragraphs, seed=11)
        if count_tokens(text) >= min_tokens:
            return text
        paragraphs = int(paragraphs * 1.5)


def _timed(fn):  # type: ignore[no-untyped-def]
    """Result, wall seconds and CPU seconds (all threads): the CPU figure is the fairer one
    on a machine other jobs share."""
    t, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - t, time.process_time() - c


def run(
    min_tokens: int, model_arg: str | None, rate: float, device: str = "cpu", repeat: int = 3
) -> dict:
    """Every configuration `repeat` times, interleaved (llmlingua, then each ctxchat run, then
    again), so that a noisy neighbour slows all of them alike; rows report the median."""
    import statistics

    import torch

    from ctxchat.engines.compress.compressor import Compressor
    from ctxchat.engines.compress.encoder import resolve_precision
    from ctxchat.engines.store.db import Store
    from ctxchat.engines.tokens import count_tokens
    from devkit.compressor_checkpoint import offline_tiktoken
    from devkit.llmlingua_reference import agreement, llmlingua_labels

    tmp = Path(tempfile.mkdtemp(prefix="ctxchat-bench-"))
    os.environ["CTXCHAT_HOME"] = str(tmp / "home")
    offline_tiktoken(tmp / "tiktoken")
    model, model_name = _model_dir(model_arg, tmp)
    text = _text(min_tokens)
    n_tokens = count_tokens(text)
    warm = text[:3000]

    from llmlingua import PromptCompressor

    ll = PromptCompressor(
        model_name=str(_llmlingua_path(model, tmp)), use_llmlingua2=True, device_map=device
    )
    ll.compress_prompt(warm, rate=rate, force_tokens=FORCE)

    # fp32 first (the reference), then what "auto" picks on this device when that differs.
    auto = resolve_precision(device)
    precisions = ["fp32"] + ([auto] if auto != "fp32" else [])
    configs = [(p, mode) for p in precisions for mode in ("llmlingua2", "global")]
    if device == "cpu" and "int8" not in precisions:
        configs += [("int8", "llmlingua2"), ("int8", "global")]
    compressors = {}
    for precision, mode in configs:
        comp = Compressor(model, device=device, mode=mode, precision=precision)
        comp.compress(warm, rate=rate, force_tokens=FORCE)
        compressors[(precision, mode)] = comp

    timings: dict[str, list[tuple[float, float]]] = {}
    results: dict = {}
    theirs = None
    for rep in range(repeat):
        theirs, t_ll, c_ll = _timed(
            lambda: ll.compress_prompt(text, rate=rate, force_tokens=FORCE, return_word_label=True)
        )
        timings.setdefault("llmlingua", []).append((t_ll, c_ll))
        for key, comp in compressors.items():
            comp.store = Store(tmp / f"{key[0]}-{key[1]}-{rep}.db")  # empty: a cold run
            # llmlingua2 mode as llmlingua runs it (its rate passed through, not honoured):
            # the same words and the same work, so the agreement and the speed compare.
            opts = {"force_tokens": FORCE, "protect": False}
            if key[1] == "llmlingua2":
                opts["honour_rate"] = False
            cold, t_cold, c_cold = _timed(
                lambda comp=comp, opts=opts: comp.compress(text, rate=rate, **opts)
            )
            hit, t_hit, c_hit = _timed(
                lambda comp=comp, opts=opts: comp.compress(text, rate=0.33, **opts)
            )
            assert hit.stats["cache_misses"] == 0 and hit.stats["encode_seconds"] == 0.0
            comp.store.close()
            timings.setdefault(f"{key} cold", []).append((t_cold, c_cold))
            timings.setdefault(f"{key} hit", []).append((t_hit, c_hit))
            results.setdefault(key, []).append(cold)
        print(f"repeat {rep + 1}/{repeat} done", file=sys.stderr, flush=True)
    pairs = llmlingua_labels(theirs)

    def median(name: str) -> tuple[float, float]:
        runs = timings[name]
        return statistics.median(t for t, _ in runs), statistics.median(c for _, c in runs)

    rows: list[dict] = []

    def row(name: str, timing: str, **extra: object) -> None:
        seconds, cpu = median(timing)
        rows.append(
            {
                "run": name,
                "seconds": seconds,
                "cpu_seconds": cpu,
                "tokens_per_s": n_tokens / seconds,
                "tokens_per_cpu_s": n_tokens / cpu,
                "all_seconds": [round(t, 3) for t, _ in timings[timing]],
                **extra,
            }
        )
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)

    ll_dtype = str(next(ll.model.parameters()).dtype).replace("torch.float", "fp")
    row(f"llmlingua 0.2.2 compress_prompt ({ll_dtype}, padded to 512)", "llmlingua", agreement=1.0)
    for key in configs:
        precision, mode = key
        cold = results[key][-1]
        agree = agreement(pairs, cold.words, cold.keep.tolist()) if mode == "llmlingua2" else None
        ref = results.get((precisions[0], "global"))
        if mode == "global" and precision != precisions[0] and ref is not None:
            agree = float((ref[-1].keep == cold.keep).mean())  # against the first precision
        row(
            f"ctxchat {mode} ({precision}) cold",
            f"{key} cold",
            agreement=agree,
            encode_seconds=statistics.median(r.stats["encode_seconds"] for r in results[key]),
            tokenize_seconds=cold.stats.get("tokenize_seconds"),
            words_seconds=cold.stats.get("words_seconds"),
            kept_rate=cold.rate,
            window=compressors[key].chunk_pieces if mode == "global" else 510,
            batch_tokens=compressors[key].encoder.batch_tokens,
        )
        row(
            f"ctxchat {mode} ({precision}) cache hit, rate 0.33",
            f"{key} hit",
            speedup_vs_cold=median(f"{key} cold")[0] / median(f"{key} hit")[0],
        )
    return {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()} {os.cpu_count()} cores, torch threads {torch.get_num_threads()}",
        "device": _device_name(device),
        "model": model_name,
        "input_tokens": n_tokens,
        "input_words": len(pairs),
        "rate": rate,
        "repeat": repeat,
        "rows": rows,
    }


def _device_name(device: str) -> str:
    import torch

    if device == "cuda" and torch.cuda.is_available():
        return f"GPU {torch.cuda.get_device_name(0)}, torch {torch.__version__}"
    return "no GPU"


def table(report: dict) -> str:
    base = report["rows"][0]["tokens_per_s"]
    base_cpu = report["rows"][0]["tokens_per_cpu_s"]
    lines = [
        f"{report['date']}, {report['machine']}, {report.get('device', 'no GPU')}; model: {report['model']}; "
        f"input {report['input_tokens']:,} cl100k tokens ({report['input_words']:,} words), "
        f"rate {report['rate']}; median of {report.get('repeat', 1)} interleaved runs:",
        "",
        "| run | wall s | tokens/s | x llmlingua | CPU s | tokens/CPU-s | x llmlingua (CPU) "
        "| kept-word agreement | cache hit vs cold |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in report["rows"]:
        agree = r.get("agreement")
        agree_s = f"{100 * agree:.2f}%" if agree is not None else ""
        hit = r.get("speedup_vs_cold")
        lines.append(
            f"| {r['run']} | {r['seconds']:.2f} | {r['tokens_per_s']:,.0f} | "
            f"{r['tokens_per_s'] / base:.2f} | {r['cpu_seconds']:.2f} | "
            f"{r['tokens_per_cpu_s']:,.0f} | {r['tokens_per_cpu_s'] / base_cpu:.2f} | "
            f"{agree_s} | {f'{hit:,.0f}x' if hit else ''} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=50_000)
    parser.add_argument("--model", default=None, help="model folder (default: bundled or MiniLM)")
    parser.add_argument("--rate", type=float, default=0.5)
    parser.add_argument("--device", default="cpu", help="cpu (the goal's device) or cuda")
    parser.add_argument("--repeat", type=int, default=3, help="interleaved runs (median)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    report = run(args.tokens, args.model, args.rate, args.device, max(1, args.repeat))
    print(json.dumps(report, indent=1) if args.json else table(report))


if __name__ == "__main__":
    main()
