"""The grounding check on recorded answers: how many wrong answers it marks, and right ones.

    .venv/bin/python -m benchmarks.ask_flow_bench --split dev ... --out answers.jsonl
    .venv/bin/python -m benchmarks.grounding_bench answers.jsonl

Each line of the file is one answer of the bundled model through the ask flow (question,
gold answer, the context the model read, the answer). The check runs again here, without
the model, so its rules can be compared on the same answers: the context-only check (numbers,
names, terms) against the full check that also reads the question. An extractive answer
(ask_flow_bench --extractive) is marked, as in the app, when the reader's confidence is
below extract.MIN_CONFIDENCE. Choose rules on answers
to dev-split questions only.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from pathlib import Path


def shares(rows: Sequence[dict], flag: Callable[[dict], bool]) -> tuple[str, str]:
    wrong = [flag(r) for r in rows if not r["right"]]
    right = [flag(r) for r in rows if r["right"]]
    return f"{sum(wrong)}/{len(wrong)}", f"{sum(right)}/{len(right)}"


def main(argv: list[str] | None = None) -> None:
    from ctxchat.engines.answer.extract import MIN_CONFIDENCE
    from ctxchat.engines.answer.grounding import check_grounding

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("answers", type=Path, nargs="+", help="JSON lines from ask_flow_bench")
    args = parser.parse_args(argv)
    rows = [json.loads(line) for path in args.answers for line in path.open() if line.strip()]
    # One answer per reader and question (a resumed run may have written one twice).
    rows = list({(r["reader"], r["question"]): r for r in rows}.values())

    def unsure(r: dict) -> bool | None:
        # An extractive answer (extract.py) is marked by the reader's confidence alone.
        if r.get("mode") == "extractive" and r.get("confidence") is not None:
            return r["confidence"] < MIN_CONFIDENCE
        return None

    checks = {
        "context only (numbers, names, terms)": lambda r: (
            not check_grounding(r["answer"], r["context"]).supported
        ),
        "context and question (ctxchat)": lambda r: (
            not check_grounding(r["answer"], r["context"], r["question"]).supported
        ),
        "any mark: unsupported or declined (ctxchat)": lambda r: (
            unsure(r)
            if unsure(r) is not None
            else check_grounding(r["answer"], r["context"], r["question"]).mark is not None
        ),
    }
    readers = sorted({r["reader"] for r in rows})
    print("| reader | check | wrong answers flagged | right answers flagged |\n|---|---|---:|---:|")
    for reader in [*readers, "all"]:
        mine = [r for r in rows if reader in ("all", r["reader"])]
        for name, flag in checks.items():
            wrong, right = shares(mine, flag)
            print(f"| {reader} | {name} | {wrong} | {right} |")


if __name__ == "__main__":
    main()
