"""How long `ctxchat ask` takes per question on a long PDF: the old chat-model setup vs the new.

    nice -n 10 .venv/bin/python -m benchmarks.ask_latency_bench --pdf BOOK.pdf [--repeats 3]

Part 1 (interleaved, in process): for each question, a fresh LocalLLM as `ask` makes one,
the question's context (select only, as `ask` sends local models), then the answer streamed
from an empty KV cache, once with the old setup and once with the new defaults, alternating.
The compression is cached after the first pass, so both setups pay the same for it.
Part 2: `ctxchat ask BOOK QUESTION --json` as a user runs it (a new process: imports, model
load, compression, answer), new defaults, the saved KV states removed before each run.

The default questions were written for "A Wikipedia Reader" (the 432-page book of the
real-document benchmark); pass --questions FILE (one per line) for another PDF.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

QUESTIONS = [
    "Who created the series That's My Bush!?",
    "How many rooms does the highest hotel tower in Iran have?",
    "When was the computer scientist Les Earnest born?",
    "Which motorcycle company did Rex merge with in 1922?",
]


@dataclass
class Setup:
    name: str
    llm: dict[str, Any]  # LocalLLM keyword arguments
    budget: int
    ttft: list[float] = field(default_factory=list)
    total: list[float] = field(default_factory=list)
    prompt: list[int] = field(default_factory=list)


def setups() -> list[Setup]:
    from ctxchat.app.config import Config

    config = Config()
    old = {"n_ctx": 4096, "kv_type": "q8_0", "type_v": "q8_0", "n_threads": 1}
    return [
        Setup("old: 1 thread, K q8_0 / V q8_0, n_ctx 4096, budget 1500", old, 1500),
        Setup(
            f"new defaults: n_ctx {config.n_ctx}, budget {config.budget}",
            {"n_ctx": config.n_ctx},
            config.budget or 1500,
        ),
    ]


def ask_once(store: Any, doc_id: int, question: str, setup: Setup, max_tokens: int) -> None:
    from ctxchat.engines.answer.llm import LocalLLM
    from ctxchat.engines.answer.prompt import answer_stream
    from ctxchat.engines.pipeline import compress_documents

    start = time.perf_counter()
    llm = LocalLLM(**setup.llm)
    try:
        context = compress_documents(
            store, [doc_id], query=question, budget=setup.budget, prune=False
        ).text
        stream = answer_stream(llm, context, question, max_tokens=max_tokens)
        first = None
        for _ in stream:
            first = first or time.perf_counter()
        end = time.perf_counter()
        setup.ttft.append((first or end) - start)
        setup.total.append(end - start)
        setup.prompt.append(llm.last_stats.prompt_tokens)
    finally:
        llm.close()


def in_process(pdf: Path, questions: list[str], repeats: int, max_tokens: int) -> None:
    from ctxchat.engines.ingest.library import ensure_document
    from ctxchat.engines.store.db import Store

    runs = setups()
    with Store() as store:
        doc = ensure_document(store, pdf)
        for r in range(repeats):
            for q in questions:
                for s in runs if r % 2 == 0 else reversed(runs):
                    ask_once(store, doc.id, q, s, max_tokens)
            print(f"pass {r + 1}/{repeats} done", file=sys.stderr, flush=True)
    print(f"\nin process, {len(questions)} questions x {repeats}, medians (s from question):")
    print("| setup | prompt tokens | time to first token s | answer done s |")
    print("|---|---:|---:|---:|")
    for s in runs:
        print(
            f"| {s.name} | {statistics.median(s.prompt):,.0f} | "
            f"{statistics.median(s.ttft):.2f} | {statistics.median(s.total):.2f} |"
        )
    old, new = runs
    ratio = statistics.median(old.ttft) / statistics.median(new.ttft)
    print(
        f"time to first token: new is {ratio:.1f}x faster; answer done "
        f"{statistics.median(old.total) / statistics.median(new.total):.1f}x"
    )


def end_to_end(pdf: Path, questions: list[str], repeats: int, home: Path) -> None:
    exe = Path(sys.executable).with_name("ctxchat")
    walls, ttfts = [], []
    for _ in range(repeats):
        for q in questions:
            shutil.rmtree(home / "cache" / "kv", ignore_errors=True)  # no saved KV reuse
            start = time.perf_counter()
            out = subprocess.run(
                [str(exe), "ask", str(pdf), q, "--json"], capture_output=True, text=True
            )
            walls.append(time.perf_counter() - start)
            if out.returncode != 0:
                raise SystemExit(f"ctxchat ask failed: {out.stderr.strip()[-300:]}")
            ttfts.append(json.loads(out.stdout)["stats"]["ttft_s"])
    print(
        f"\n`ctxchat ask --json`, new defaults, {len(walls)} runs: median {statistics.median(walls):.1f} s "
        f"end to end (min {min(walls):.1f}, max {max(walls):.1f}); model's first token "
        f"{statistics.median(ttfts):.2f} s after the prompt was ready"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pdf", type=Path, required=True)
    ap.add_argument("--questions", type=Path, help="one question per line")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--max-tokens", type=int, default=128)
    ap.add_argument("--skip-in-process", action="store_true")
    ap.add_argument("--home", type=Path, help="a CTXCHAT_HOME that already holds the PDF")
    args = ap.parse_args()
    questions = QUESTIONS
    if args.questions:
        questions = [q for q in args.questions.read_text().splitlines() if q.strip()]
    home = args.home or Path(tempfile.mkdtemp(prefix="ctxchat-ask-bench-"))
    os.environ["CTXCHAT_HOME"] = str(home)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        if not args.skip_in_process:
            in_process(args.pdf.resolve(), questions, args.repeats, args.max_tokens)
        end_to_end(args.pdf.resolve(), questions, args.repeats, home)
    finally:
        if not args.home:
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
