"""Choosing the teacher's weights on a dev set, never on the held-out benchmark.

The dev set is the recipe's validation documents (split_corpus) plus generated documents of a
dev seed (neither the training seed nor the benchmark's): generated documents keep their
recorded facts as cloze questions, stdlib ones get automatically picked answers, exactly as the
benchmark builds its questions. The grid varies the weight of LM surprisal against IDF, with
the rules on (numbers, names, identifiers, negations first; stop words last).

    python -m ctxchat.engines.training.devset   # prints the grid (llama.cpp pass over ~7k words)
"""

from __future__ import annotations

import random

from ctxchat.engines.training import labels, survival
from ctxchat.engines.training.corpus import Doc
from ctxchat.engines.training.generated import generate_documents
from ctxchat.engines.training.survival import BenchDoc

# (surprisal, idf, rules): from IDF alone to surprisal alone, rules always on.
DEV_GRID: dict[str, tuple[float, float, bool]] = {
    "idf+rules": (0.0, 1.0, True),
    "surprisal.15+idf.85+rules": (0.15, 0.85, True),
    "surprisal.25+idf.75+rules": (0.25, 0.75, True),
    "surprisal.33+idf.67+rules": (0.33, 0.67, True),
    "surprisal.5+idf.5+rules": (0.5, 0.5, True),
    "surprisal.67+idf.33+rules": (0.67, 0.33, True),
    "surprisal+rules": (1.0, 0.0, True),
}
DEV_SEED = 3_000  # extra dev documents and question order; neither corpus seed 1 nor bench 7000


def dev_bench(
    val_docs: list[Doc],
    idf: labels.IdfTable,
    generated_docs: int,
    corpus_seed: int,
    extra_generated: int = 0,
) -> list[BenchDoc]:
    """Cloze questions on the validation documents (facts of generated ones, auto answers else)
    plus `extra_generated` documents generated with DEV_SEED."""
    rng = random.Random(DEV_SEED)
    facts = {g.title: g for g in generate_documents(generated_docs, seed=corpus_seed)}
    extra = generate_documents(extra_generated, seed=DEV_SEED) if extra_generated else []
    out = [BenchDoc(g.title, g.text, "generated", survival.fact_items(g, rng)) for g in extra]
    for d in val_docs:
        if d.source == "generated":
            items = survival.fact_items(facts[d.title], rng)
        else:
            items = survival.auto_items(d, idf, rng)
        if items:
            out.append(BenchDoc(d.title, d.text, d.source, items))
    return out


def grid_survival(
    bench: list[BenchDoc], grid: dict[str, tuple[float, float, bool]] = DEV_GRID
) -> dict[str, dict]:
    """Answer survival of each weighting; docs carry extra["surprisal"] and extra["idf"]."""
    return {
        name: survival.survival(
            bench,
            lambda doc, w=weights: labels.weighted_scores(
                doc.words, doc.extra["surprisal"], doc.extra["idf"], w
            ),
        )
        for name, weights in grid.items()
    }


def format_grid(results: dict[str, dict]) -> list[str]:
    rows = ["| teacher weights (dev) | rate 0.5 | rate 0.33 | numbers | names | terms |"]
    rows.append("|---|---:|---:|---:|---:|---:|")
    for name, res in results.items():
        a, b = res["0.5"], res["0.33"]
        kinds = " | ".join(f"{b.get(k, float('nan')):.3f}" for k in ("number", "name", "term"))
        rows.append(f"| {name} | {a['all']:.3f} | {b['all']:.3f} | {kinds} |")
    return rows


def main() -> None:
    import time

    from ctxchat.engines.training.corpus import training_corpus
    from ctxchat.engines.training.recipe import RecipeSettings, split_corpus
    from ctxchat.engines.training.teacher import SurprisalModel
    from ctxchat.engines.training.words import word_spans

    s = RecipeSettings()
    docs = training_corpus(s.stdlib_words, s.generated_docs, s.corpus_seed)
    train_docs, val_docs = split_corpus(docs, s.val_share)
    idf = labels.IdfTable([d.text[a:b] for a, b in word_spans(d.text)] for d in train_docs)
    bench = dev_bench(val_docs, idf, s.generated_docs, s.corpus_seed, s.dev_generated_docs)
    teacher = SurprisalModel(n_ctx=s.n_ctx, n_threads=s.teacher_threads)
    started = time.perf_counter()
    for doc in bench:
        doc.extra["idf"] = idf(doc.words)
        doc.extra["surprisal"] = teacher.word_surprisal(doc.text, doc.spans)
    words = sum(len(d.words) for d in bench)
    questions = sum(len(d.items) for d in bench)
    speed = words / (time.perf_counter() - started)
    print(
        f"{len(bench)} dev documents, {words:,} words, {questions} questions, {speed:.0f} words/s"
    )
    print("\n".join(format_grid(grid_survival(bench))))


if __name__ == "__main__":
    main()
