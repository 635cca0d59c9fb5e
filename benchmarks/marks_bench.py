"""Signals for the marks, on recorded answers: which tell a wrong answer from a right one?

    nice -n 10 .venv/bin/python -m benchmarks.ask_flow_bench --split dev ... \
        --extractive off,on --out both.jsonl
    .venv/bin/python -m benchmarks.marks_bench both.jsonl

Each question was answered twice in one run: written (--extractive off) and extractive for
every kind with candidates (on). The flow's answer is the extractive one for the kinds of
extract.EXTRACT_KINDS (when the evidence is not weak), else the written one, as in the app.
Each rule below marks some of these answers; the table says how many wrong and right ones
it marks. No model runs here. Choose on dev-split answers only.
"""

from __future__ import annotations

import argparse
import json
import math
import re
from collections.abc import Callable
from pathlib import Path

_WORD = re.compile(r"[\w\u00c0-\u024f]+")
_CITE = re.compile(r"\[[^\]]*\]")
_TOKEN = re.compile(r"[A-Za-z0-9]+")


def flat(text: str) -> str:
    return " " + " ".join(w.lower() for w in _WORD.findall(_CITE.sub(" ", text))) + " "


def signals(written: dict, extracted: dict, kinds: frozenset[str]) -> dict:
    """One question's answer in the flow and the signals the rules read."""
    from ctxchat.engines.answer.answer_type import OTHER, new_things
    from ctxchat.engines.answer.grounding import _STOPWORDS, _stem, check_grounding

    question = written["question"]
    candidates = extracted.get("candidates") or []
    use_extracted = (
        written["kind"] in kinds and extracted["mode"] == "extractive" and not written["weak"]
    )
    shown = extracted if use_extracted else written
    top = max((s for _, s in candidates), default=0.0)
    weights = [math.exp(s - top) for _, s in candidates]
    shares = [(t, w / sum(weights)) for (t, _), w in zip(candidates, weights, strict=True)]
    answer = flat(written["answer"])

    def content(text: str) -> set[str]:
        return {
            _stem(w) for w in _TOKEN.findall(text) if w.lower() not in _STOPWORDS and len(w) > 2
        }

    asked = content(question)
    if use_extracted:
        things = [_CITE.sub("", shown["answer"]).strip()]
    else:
        things = new_things(_CITE.sub(" ", shown["answer"]), question, OTHER)
    overlap = max(
        (
            len(asked & content(s)) / max(1, len(asked))
            for s in shown["evidence"]
            if any(flat(t) in flat(s) for t in things)
        ),
        default=0.0,
    )
    grounding = check_grounding(written["answer"], written["context"], question)
    return {
        "right": shown["right"],
        "extracted": use_extracted,
        "confidence": extracted.get("confidence") or 0.0,
        "margin": candidates[0][1] - candidates[1][1] if len(candidates) > 1 else 9.0,
        "cosine": written["scores"][0] if written["scores"] else 0.0,
        "not_grounded": grounding.mark is not None,
        "has_best": bool(candidates) and flat(candidates[0][0]) in answer,
        "named_share": sum(p for t, p in shares if flat(t) in answer),
        "candidates": bool(candidates),
        "overlap": overlap,
    }


def main(argv: list[str] | None = None) -> None:
    from ctxchat.engines.answer.extract import EXTRACT_KINDS, MIN_CONFIDENCE

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "answers", type=Path, help="JSON lines of ask_flow_bench --extractive off,on"
    )
    parser.add_argument(
        "--kinds", help="kinds answered by extraction, joined by + (default: the app's)"
    )
    args = parser.parse_args(argv)
    kinds = frozenset(args.kinds.split("+")) if args.kinds else EXTRACT_KINDS
    pairs: dict[str, dict[str, dict]] = {}
    for line in args.answers.open():
        if line.strip():
            row = json.loads(line)
            mode = "on" if "answer: extractive" in row["reader"] else "off"
            pairs.setdefault(row["question"], {})[mode] = row
    rows = [signals(p["off"], p["on"], kinds) for p in pairs.values() if len(p) == 2]

    def shipped(r: dict, threshold: float = MIN_CONFIDENCE) -> bool:
        return r["confidence"] < threshold if r["extracted"] else r["not_grounded"]

    def written(r: dict) -> bool:
        return not r["extracted"] and r["candidates"]

    rules: dict[str, Callable[[dict], bool]] = {
        f"as shipped: extractive below {MIN_CONFIDENCE} confidence, written not grounded": shipped,
        "extractive below 0.5": lambda r: shipped(r, 0.5),
        "extractive below 0.7": lambda r: shipped(r, 0.7),
        "extractive: best span's margin over the runner-up below 0.5": lambda r: (
            r["margin"] < 0.5 if r["extracted"] else r["not_grounded"]
        ),
        "+ a written answer without the reader's best span": lambda r: (
            shipped(r) or (written(r) and not r["has_best"])
        ),
        "+ a written answer naming candidates worth under 5% of the reader's probability": lambda r: (
            shipped(r) or (written(r) and r["named_share"] < 0.05)
        ),
        "+ best evidence cosine below 0.45": lambda r: shipped(r) or r["cosine"] < 0.45,
        "+ the answer in no sentence holding 30% of the question's words": lambda r: (
            shipped(r) or r["overlap"] < 0.3
        ),
    }
    right = sum(r["right"] for r in rows)
    print(f"{len(rows)} questions, {right} right; kinds extracted: {'+'.join(sorted(kinds))}")
    print("| rule | wrong answers marked | right answers marked |\n|---|---:|---:|")
    for name, rule in rules.items():
        wrong_marked = sum(rule(r) for r in rows if not r["right"])
        right_marked = sum(rule(r) for r in rows if r["right"])
        print(f"| {name} | {wrong_marked}/{len(rows) - right} | {right_marked}/{right} |")


if __name__ == "__main__":
    main()
