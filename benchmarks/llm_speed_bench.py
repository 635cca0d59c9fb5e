"""Prefill and decode speed of the bundled chat model per thread count and KV cache layout.

    nice -n 10 .venv/bin/python -m benchmarks.llm_speed_bench [--tokens 1470] [--repeats 3]

Reads one prompt of --tokens model tokens (real English prose: this project's README and
design notes) from an empty KV cache and then decodes 32 tokens, for each setup: threads,
K cache type, V cache type, flash attention. The setups run interleaved (setup A, B, C...,
then again) so that a shared machine's load falls on all of them alike; the table gives the
median of the repeats. This is what chose LocalLLM's defaults (engines/answer/llm.py).
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DECODE_TOKENS = 32
GGML_TYPES = {"f16": 1, "q4_0": 2, "q8_0": 8}


@dataclass
class Setup:
    threads: int
    type_k: str
    type_v: str
    flash_attn: bool
    decode_threads: int | None = None  # None: the same as threads (prompt reading)
    prefill_s: list[float] = field(default_factory=list)
    decode_s: list[float] = field(default_factory=list)

    @property
    def label(self) -> str:
        fa = "on" if self.flash_attn else "off"
        threads = str(self.threads)
        if self.decode_threads and self.decode_threads != self.threads:
            threads += f" (decode {self.decode_threads})"
        return f"{threads} | {self.type_k} | {self.type_v} | {fa}"


SETUPS = [
    # threads, K, V, flash attention. A quantized V needs flash attention; K does not.
    (1, "q8_0", "q8_0", True),  # the old default (cpu_count() // 2 on this machine)
    (2, "q8_0", "q8_0", True),
    (2, "f16", "f16", True),
    (2, "f16", "f16", False),
    (2, "q8_0", "f16", False),
    (2, "q8_0", "f16", True),
    (2, "f16", "q8_0", True),
    (2, "q4_0", "q4_0", True),
    (2, "q4_0", "f16", False),
]
# --threads: the shipped layout with one or two threads, and two for prompt reading with one
# for decoding (a decode step is short; a second thread mostly waits for its partner).
THREAD_SETUPS = [
    (1, "q8_0", "f16", True),
    (2, "q8_0", "f16", True),
    (2, "q8_0", "f16", True, 1),
]


def prose(n_chars: int = 60_000) -> str:
    root = Path(__file__).resolve().parent.parent
    parts = [(root / "README.md").read_text(encoding="utf-8")]
    for extra in (
        root / "benchmarks" / "README.md",
        root / "assets" / "compressor" / "MODEL_CARD.md",
    ):
        if extra.exists():
            parts.append(extra.read_text(encoding="utf-8"))
    return "\n\n".join(parts)[:n_chars]


def load(setup: Setup, n_ctx: int) -> Any:
    import llama_cpp

    from ctxchat.engines.answer.llm import LLAMA_LOG
    from ctxchat.engines.models import smollm_gguf

    LLAMA_LOG.install()  # llama.cpp's chatter to the log file, not this table
    return llama_cpp.Llama(
        model_path=str(smollm_gguf()),
        n_ctx=n_ctx,
        n_batch=512,
        n_threads=setup.decode_threads or setup.threads,
        n_threads_batch=setup.threads,
        type_k=GGML_TYPES[setup.type_k],
        type_v=GGML_TYPES[setup.type_v],
        flash_attn=setup.flash_attn,
        verbose=False,
    )


def measure(llama: Any, tokens: list[int]) -> tuple[float, float]:
    """Seconds to read `tokens` from an empty cache, and to decode DECODE_TOKENS after."""
    llama.reset()
    start = time.perf_counter()
    llama.eval(tokens)
    prefill = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(DECODE_TOKENS):
        token = llama.sample(temp=0.0)
        llama.eval([token])
    return prefill, time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tokens", type=int, default=1470, help="prompt length in model tokens")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--n-ctx", type=int, default=2048)
    ap.add_argument("--threads", action="store_true", help="only the thread comparison")
    args = ap.parse_args()
    setups = [Setup(*s) for s in (THREAD_SETUPS if args.threads else SETUPS)]
    models = {}
    for s in setups:
        try:
            models[s.label] = load(s, args.n_ctx)
        except ValueError as exc:  # a layout this build cannot make
            print(f"skip {s.label}: {exc}")
    first = next(iter(models.values()))
    tokens = first.tokenize(prose().encode("utf-8"))[: args.tokens]
    for _ in range(args.repeats):
        for s in setups:
            if s.label in models:
                prefill, decode = measure(models[s.label], tokens)
                s.prefill_s.append(prefill)
                s.decode_s.append(decode)
    base = statistics.median(setups[0].prefill_s)
    print(f"\nprompt {len(tokens)} tokens, decode {DECODE_TOKENS}, n_ctx {args.n_ctx}, medians")
    print(
        "| threads | K | V | flash attn | prefill s | prefill tok/s | vs old default "
        "| decode tok/s |"
    )
    print("|---:|---|---|---|---:|---:|---:|---:|")
    for s in setups:
        if not s.prefill_s:
            continue
        p, d = statistics.median(s.prefill_s), statistics.median(s.decode_s)
        print(
            f"| {s.label} | {p:.2f} | {len(tokens) / p:.0f} | {base / p:.2f}x | "
            f"{DECODE_TOKENS / d:.1f} |"
        )


if __name__ == "__main__":
    main()
