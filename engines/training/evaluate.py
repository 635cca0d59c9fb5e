"""Answer survival of every method (baselines, teacher variants, the student) on one bench."""

from __future__ import annotations

import time

import numpy as np

from ctxchat.engines.training import labels, survival
from ctxchat.engines.training.student import word_keep_probs
from ctxchat.engines.training.survival import BenchDoc

SUBSETS = ("all", "generated", "stdlib-docstrings")
STUDENT = "trained model"


def compare_methods(
    bench: list[BenchDoc],
    idf: labels.IdfTable,
    teacher=None,
    model=None,
    tokenizer=None,
    teacher_variant: str = labels.DEFAULT_VARIANT,
) -> dict:
    """Survival tables per subset and method, and words/s of the teacher and the student.

    teacher (a SurprisalModel) is optional: without it only the variants without surprisal run.
    The teacher's words/s is what labelling new text costs: the LM pass, IDF and the rules.
    """
    speeds: dict[str, float] = {}
    words = sum(len(d.words) for d in bench)
    started = time.perf_counter()
    for doc in bench:
        doc.extra["idf"] = idf(doc.words)
        if teacher is not None:
            doc.extra["surprisal"] = teacher.word_surprisal(doc.text, doc.spans)
            labels.teacher_scores(
                doc.words, doc.extra["surprisal"], doc.extra["idf"], teacher_variant
            )
    if teacher is not None:
        speeds["teacher_words_per_second"] = round(words / (time.perf_counter() - started), 1)

    methods: dict[str, survival.ScoreFn] = {
        "random": survival.random_scores(),
        "stop words": survival.stop_word_scores(),
    }
    for variant in labels.VARIANTS:
        if labels.uses_lm(variant) and teacher is None:
            continue
        methods[f"teacher: {variant}"] = lambda doc, v=variant: labels.teacher_scores(
            doc.words, doc.extra.get("surprisal", np.zeros(len(doc.words))), doc.extra["idf"], v
        )
    if model is not None:
        started = time.perf_counter()
        probs = word_keep_probs(model, tokenizer, [d.text for d in bench], [d.spans for d in bench])
        speeds["student_words_per_second"] = round(words / (time.perf_counter() - started), 1)
        if "teacher_words_per_second" in speeds:
            speeds["student_speedup"] = round(
                speeds["student_words_per_second"] / speeds["teacher_words_per_second"], 1
            )
        for doc, p in zip(bench, probs, strict=True):
            doc.extra["student"] = p
        methods[STUDENT] = lambda doc: doc.extra["student"]

    tables = {}
    for subset in SUBSETS:
        chosen = [d for d in bench if subset == "all" or d.source == subset]
        if chosen:
            tables[subset] = {name: survival.survival(chosen, fn) for name, fn in methods.items()}
    return {"tables": tables, "speeds": speeds, "documents": len(bench), "words": words}
