"""`ctxchat ask` end to end, a fresh process per question: before and after, interleaved.

    nice -n 10 .venv/bin/python -m benchmarks.ask_cli_bench --home DIR [--split test] [--docs 5]

DIR is a library where the real-text benchmark's articles were added (for example by
`benchmarks.realqa_bench --prepare --home DIR`), so no question pays for embedding. For the
first question of each of the first --docs articles, `ctxchat ask PDF QUESTION --json` runs
once per setting (the whole context, `--reader-context all`; the default), alternating, and
reports wall and CPU seconds of the child process, time to first token and whether the gold
answer is in the answer. A question asked before of the same context reuses its saved KV
state (first token in ~0.01 s): measure on a library where these questions are new.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

SETTINGS = {
    "before: reads the whole context": ["--reader-context", "all"],
    "after: the default": [],
}


def ask(pdf: Path, question: str, extra: list[str]) -> tuple[float, float, dict]:
    """One `ctxchat ask` process: (wall s, CPU s, its JSON)."""
    ctxchat = Path(sys.executable).with_name("ctxchat")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    out = subprocess.run(
        [str(ctxchat), "ask", str(pdf), question, "--json", *extra],
        capture_output=True,
        text=True,
        check=True,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu, json.loads(out.stdout)


def main(argv: list[str] | None = None) -> None:
    from benchmarks import realqa

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--home", type=Path, required=True, help="a prepared library")
    parser.add_argument("--split", default="test", choices=("dev", "test"))
    parser.add_argument("--docs", type=int, default=5)
    args = parser.parse_args(argv)
    os.environ["CTXCHAT_HOME"] = str(args.home)
    rows: dict[str, list[tuple[float, float, float, bool]]] = {name: [] for name in SETTINGS}
    for article in realqa.load().articles(args.split)[: args.docs]:
        q = article.questions[0]
        for name, extra in SETTINGS.items():
            wall, cpu, result = ask(args.home / article.name, q.question, extra)
            right = q.answer.lower() in result["answer"].lower()
            rows[name].append((wall, cpu, result["stats"]["ttft_s"], right))
            print(f"{name}: {wall:.1f} s, {cpu:.1f} CPU s | {result['answer'][:80]!r}", flush=True)
    print("\n| `ctxchat ask` | median s | median CPU s | median s to first token | right |")
    print("|---|---:|---:|---:|---:|")
    for name, got in rows.items():
        wall, cpu, ttft = (statistics.median(r[k] for r in got) for k in range(3))
        print(
            f"| {name} | {wall:.1f} | {cpu:.1f} | {ttft:.2f} | {sum(r[3] for r in got)}/{len(got)} |"
        )
    print(f"\nload average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
