"""Answers beside other programs: llama.cpp threads fixed at the physical cores against the
threads chosen at each answer from the cores other programs leave free (cpu_threads.py).

    nice -n 0 .venv/bin/python -m benchmarks.threads_load_bench [--busy 0,1] [--repeats 3]

For each --busy count, that many busy-loop processes run beside the bundled SmolLM2-135M
(LocalLLM, the shipped KV layout) while it answers one prompt (--tokens of this project's
README, then up to 64 greedy tokens), the two setups interleaved; the table gives medians of
the whole answer (prompt read and decode), the threads used, and decode tokens/s.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from typing import Any

BUSY_LOOP = "while True: pass"


def answer(llm: Any, prompt: str) -> tuple[float, int, float, float, int]:
    """(seconds, threads used, decode tokens/s, seconds to the first token, tokens) for one
    greedy answer of up to 64 tokens."""
    start = time.perf_counter()
    for _ in llm.stream([{"role": "user", "content": prompt}], max_tokens=64):
        pass
    stats = llm.last_stats
    seconds = time.perf_counter() - start
    return seconds, stats.threads, stats.tokens_per_s, stats.ttft_s, stats.completion_tokens


def run(busy: int, setups: dict[str, Any], prompt: str, repeats: int) -> list[str]:
    loops = [subprocess.Popen([sys.executable, "-c", BUSY_LOOP]) for _ in range(busy)]
    try:
        time.sleep(0.5 if loops else 0)
        runs: dict[str, list[tuple[float, int, float, float, int]]] = {n: [] for n in setups}
        for _ in range(repeats):
            for name, llm in setups.items():
                llm.reset()  # read the prompt each time, as a new question would
                runs[name].append(answer(llm, prompt))
    finally:
        for p in loops:
            p.kill()
    rows = []
    for name, results in runs.items():
        secs = statistics.median(r[0] for r in results)
        threads = sorted({r[1] for r in results})
        rate = statistics.median(r[2] for r in results)
        ttft = statistics.median(r[3] for r in results)
        made = statistics.median(r[4] for r in results)
        used = "/".join(map(str, threads))
        rows.append(
            f"| {busy} | {name} | {used} | {secs:.2f} | {ttft:.2f} | {made:.0f} | {rate:.1f} |"
        )
    return rows


def main() -> None:
    from benchmarks.llm_speed_bench import prose
    from ctxchat.engines.answer.cpu_threads import default_threads
    from ctxchat.engines.answer.llm import LocalLLM

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--busy", default="0,1", help="busy-loop processes beside the model")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--tokens", type=int, default=400, help="prompt length in model tokens")
    args = ap.parse_args()
    cores = default_threads()
    setups = {
        f"fixed: {cores} threads (physical cores)": LocalLLM(n_threads=cores),
        "cores left free (default)": LocalLLM(),
    }
    llm = next(iter(setups.values()))
    prompt = (
        llm.truncate(prose(), args.tokens)
        + "\n\nWrite a long, detailed essay about the text above."
    )
    print(f"{cores} physical cores; prompt {llm.count_tokens(prompt)} tokens, up to 64 decoded")
    print("| busy loops | threads | used | answer s | first token s | tokens | decode tok/s |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    for busy in (int(b) for b in args.busy.split(",")):
        print("\n".join(run(busy, setups, prompt, args.repeats)), flush=True)


if __name__ == "__main__":
    main()
