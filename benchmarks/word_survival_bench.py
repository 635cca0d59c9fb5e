"""Word-level answer survival of the shipped compressor against baselines and its teacher.

    .venv/bin/python -m benchmarks.word_survival_bench [--no-lm] [--json OUT]

Rebuilds the held-out benchmark of the training recipe (same seeds, see
assets/compressor/metrics.json), scores every method on the same words and prints a markdown
table of answer survival at rates 0.5 and 0.33 plus words/s of the teacher and the model.
The model is the shipped one (default_model_dir(): the fp16 delta over MiniLM); words are kept
by its keep-probability until the rate's share of cl100k tokens is used.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from ctxchat.engines.compress.bundle import bundle_dir, default_model_dir
from ctxchat.engines.training import labels, survival
from ctxchat.engines.training.corpus import training_corpus
from ctxchat.engines.training.evaluate import compare_methods
from ctxchat.engines.training.recipe import RecipeSettings, split_corpus
from ctxchat.engines.training.words import word_spans


def _table(tables: dict, subset: str) -> list[str]:
    rows = [
        f"| method ({subset}) | rate 0.5 | rate 0.33 | numbers 0.33 | names 0.33 | terms 0.33 |",
        "|---|---|---|---|---|---|",
    ]
    for name, res in tables[subset].items():
        a, b = res["0.5"], res["0.33"]
        cells = [f"{b.get(k, float('nan')):.3f}" for k in ("number", "name", "term")]
        rows.append(f"| {name} | {a['all']:.3f} | {b['all']:.3f} | " + " | ".join(cells) + " |")
    return rows


def _add_engine_rows(result: dict, bench: list[survival.BenchDoc]) -> None:
    """The same model through ctxchat's compressor engine (its own words and thresholds)."""
    try:
        from ctxchat.engines.compress.compressor import Compressor
    except ImportError:  # the engine is optional here: the benchmark measures the model
        return
    engine = Compressor()
    for protect in (False, True):
        name = f"compressor engine (protect={protect})"

        def compress(doc: survival.BenchDoc, rate: float, protect: bool = protect) -> str:
            return engine.compress(doc.text, rate=rate, protect=protect).text

        for subset, table in result["tables"].items():
            chosen = [d for d in bench if subset == "all" or d.source == subset]
            table[name] = survival.survival_of_texts(chosen, compress)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--no-lm", action="store_true", help="skip the llama.cpp surprisal variants")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--json", type=Path, help="also write the raw results here")
    args = p.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

    import torch
    from transformers import AutoModelForTokenClassification, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    torch.set_num_threads(args.threads)
    settings = RecipeSettings()
    metrics_path = bundle_dir() / "metrics.json"
    variant = labels.DEFAULT_VARIANT
    if metrics_path.exists():  # rebuild exactly the benchmark the shipped model was scored on
        shipped = json.loads(metrics_path.read_text())
        settings.stdlib_words = shipped["corpus"]["stdlib_words_cap"]
        settings.generated_docs = shipped["corpus"]["generated_docs"]
        settings.corpus_seed = shipped["corpus"]["seed"]
        variant = shipped["teacher"]["variant"]
        settings.bench_generated_docs = shipped["bench"].get(
            "generated_docs", settings.bench_generated_docs
        )
        settings.bench_stdlib_words = shipped["bench"].get(
            "stdlib_words", settings.bench_stdlib_words
        )

    docs = training_corpus(settings.stdlib_words, settings.generated_docs, settings.corpus_seed)
    train_docs, _ = split_corpus(docs, settings.val_share)
    idf = labels.IdfTable([d.text[a:b] for a, b in word_spans(d.text)] for d in train_docs)
    bench = survival.bench_documents(
        idf, settings.bench_generated_docs, settings.bench_stdlib_words, settings.bench_seed
    )
    teacher = None
    if not args.no_lm:
        from ctxchat.engines.training.teacher import SurprisalModel

        teacher = SurprisalModel(n_ctx=settings.n_ctx, n_threads=settings.teacher_threads)
    path = default_model_dir()
    model = AutoModelForTokenClassification.from_pretrained(str(path))
    tokenizer = AutoTokenizer.from_pretrained(str(path))
    tokenizer.model_max_length = 10**6
    started = time.perf_counter()
    result = compare_methods(bench, idf, teacher, model, tokenizer, variant)
    result["seconds"] = round(time.perf_counter() - started, 1)
    _add_engine_rows(result, bench)

    n_questions = result["tables"]["all"]["random"]["0.5"]["questions"]
    print(f"{result['documents']} documents, {result['words']:,} words, {n_questions} questions")
    for subset in result["tables"]:
        print()
        print("\n".join(_table(result["tables"], subset)))
    print()
    print(f"teacher: {variant}; speed (words/s):", json.dumps(result["speeds"]))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
