"""How soon a cancel stops the bundled model while it reads a long prompt (prefill).

    nice -n 10 .venv/bin/python -m benchmarks.cancel_bench [--tries 5] [--tokens 1500]

A ~1,500-token prompt is streamed from a thread; a cancel is set at a few moments inside
its prefill; the time from the cancel to the stream's end is measured. Before LocalLLM
read prompts with llama.cpp's abort callback on, a cancel waited for the whole prefill.
"""

from __future__ import annotations

import argparse
import os
import statistics
import threading
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def one_try(llm, messages, delay: float) -> tuple[float, int, int]:
    """(seconds from cancel to the end, prompt tokens read, prompt tokens)."""
    cancel = threading.Event()
    ended: list[float] = []

    def run() -> None:
        for _ in llm.stream(messages, max_tokens=8, cancel=cancel):
            pass
        ended.append(time.perf_counter())

    worker = threading.Thread(target=run)
    llm.reset()
    worker.start()
    time.sleep(delay)
    cancel.set()
    pressed = time.perf_counter()
    worker.join()
    stats = llm.last_stats
    return ended[0] - pressed, stats.evaluated_tokens, stats.prompt_tokens


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tries", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=1500)
    parser.add_argument(
        "--before", action="store_true", help="the old way: the prompt read in one go"
    )
    args = parser.parse_args(argv)

    from ctxchat.engines.answer.llm import LocalLLM
    from ctxchat.engines.answer.prompt import build_messages

    llm = LocalLLM(n_ctx=4096)
    if args.before:  # create_completion reads the whole prompt, deaf to the cancel
        llm._prefill = lambda tokens, cancel: True  # type: ignore[method-assign]
    line = "[p. 3] The depot on the river kept its ledgers in the north wing of the hall. "
    context = line * max(1, args.tokens // llm.count_tokens(line))
    messages = build_messages(context, "What is kept in the north wing?")
    waits = []
    for k in range(args.tries):
        wait, read, total = one_try(llm, messages, delay=0.5 + 0.7 * k)
        waits.append(wait)
        print(f"cancel at {0.5 + 0.7 * k:.1f} s: stopped after {wait:.3f} s, read {read}/{total}")
    llm.close()
    print(
        f"median {statistics.median(waits):.3f} s, max {max(waits):.3f} s, {os.cpu_count()} cores"
    )


if __name__ == "__main__":
    main()
