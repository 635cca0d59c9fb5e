"""Extractive answers against free generation, on answers recorded by ask_flow_bench.

    nice -n 10 .venv/bin/python -m benchmarks.ask_flow_bench --split dev ... --out dev.jsonl
    nice -n 10 .venv/bin/python -m benchmarks.extract_bench dev.jsonl [--model GGUF]

For each recorded question (the evidence sentences the reader read, the gold answer, the
free answer of the bundled model) the candidates of engines/answer/extract.py are scored by
the reader (--model: another GGUF) in a few prompt layouts and ways of adding up token
log-probabilities; a question with no candidate keeps its free answer. Reported: right
answers, the share whose candidates hold the gold answer (the ceiling), and the median
seconds the scoring took. Choose on the dev split only.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

Aggregate = Callable[[Sequence[float]], float]
AGGREGATES: dict[str, Aggregate] = {
    "sum": lambda lp: sum(lp),
    "mean": lambda lp: sum(lp) / len(lp),
    "first": lambda lp: lp[0],
    "sum/sqrt(n)": lambda lp: sum(lp) / len(lp) ** 0.5,
}


def contains_answer(answer: str, gold: str) -> bool:
    from benchmarks.ask_flow_bench import contains_answer as contains

    return contains(answer, gold)


def main(argv: list[str] | None = None) -> None:
    from ctxchat.engines.answer.extract import candidate_spans
    from ctxchat.engines.answer.llm import LocalLLM
    from ctxchat.engines.answer.prompt import build_messages

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("answers", type=Path)
    parser.add_argument("--model", help="a GGUF (default: the bundled SmolLM2-135M)")
    parser.add_argument("--leads", default=",Answer:", help="comma-separated assistant leads")
    parser.add_argument("--out", type=Path, help="write per-question scores as JSON lines")
    args = parser.parse_args(argv)
    rows = [json.loads(line) for line in args.answers.open() if line.strip()]
    rows = list({r["question"]: r for r in rows}.values())
    llm = LocalLLM(args.model, n_ctx=4096)
    leads = args.leads.split(",")
    right = {(lead, agg): 0 for lead in leads for agg in AGGREGATES}
    ceiling = with_spans = free = 0
    seconds: list[float] = []
    out = args.out.open("w") if args.out else None
    for row in rows:
        free += row["right"]
        spans = candidate_spans(row["question"], row["evidence"])
        if not spans:
            for key in right:
                right[key] += row["right"]
            continue
        with_spans += 1
        ceiling += any(contains_answer(s.text, row["gold"]) for s in spans)
        messages = build_messages(row["context"], row["question"])
        record = {"question": row["question"], "gold": row["gold"], "free": row["answer"]}
        for lead in leads:
            llm.reset()
            t = time.perf_counter()
            logprobs = llm.continuation_logprobs(messages, [s.text for s in spans], lead)
            seconds.append(time.perf_counter() - t)
            record[lead or "-"] = [[s.text, lp] for s, lp in zip(spans, logprobs, strict=True)]
            for name, agg in AGGREGATES.items():
                best = max(range(len(spans)), key=lambda i: agg(logprobs[i]))
                right[(lead, name)] += contains_answer(spans[best].text, row["gold"])
        if out:
            out.write(json.dumps(record) + "\n")
    n = len(rows)
    print(f"{n} questions, {with_spans} with candidates, gold among them: {ceiling}")
    print(f"free generation: {free}/{n}")
    print("| lead | score | right |\n|---|---|---:|")
    for (lead, name), k in right.items():
        print(f"| {lead or '(none)'} | {name} | {k}/{n} ({k / n:.0%}) |")
    print(f"median scoring s (prompt read cold + candidates): {statistics.median(seconds):.2f}")


if __name__ == "__main__":
    main()
