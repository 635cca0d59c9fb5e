"""The whole recipe: corpus -> teacher labels -> student -> shipped delta, metrics and card."""

from __future__ import annotations

import json
import os
import platform
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ctxchat.engines.compress import bundle
from ctxchat.engines.models import minilm_dir
from ctxchat.engines.training import devset, labels, survival
from ctxchat.engines.training.corpus import Doc, training_corpus
from ctxchat.engines.training.evaluate import compare_methods
from ctxchat.engines.training.labels import IdfTable
from ctxchat.engines.training.prose_corpus import wikipedia_documents
from ctxchat.engines.training.teacher import SurprisalModel
from ctxchat.engines.training.train import (
    LabelledDoc,
    TrainSettings,
    evaluate_student,
    train_student,
    trainable_prefixes,
)
from ctxchat.engines.training.words import word_spans

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase


@dataclass
class RecipeSettings:
    stdlib_words: int = 40_000
    generated_docs: int = 150
    corpus_seed: int = 1
    val_share: float = 0.1
    bench_generated_docs: int = 40
    bench_stdlib_words: int = 8_000
    bench_seed: int = 7_000  # never a training seed
    dev_generated_docs: int = 30  # extra dev documents (devset.DEV_SEED) for the teacher grid
    teacher_variant: str = labels.DEFAULT_VARIANT
    n_ctx: int = 512
    threads: int = 2
    teacher_threads: int = 2  # measured: 2 threads ~1.6x the words/s of 1 on a quiet 2-core box
    bench_lm_variants: bool = True  # also score the surprisal variants on the benchmark
    # Real prose (engines/training/prose_corpus.py). Off by default: trained with it (teacher
    # idf+phrases) the model kept fewer real-prose dev answers than the shipped one (labels.py).
    wikipedia: bool = False
    train: TrainSettings | None = None


def split_corpus(docs: list[Doc], val_share: float) -> tuple[list[Doc], list[Doc]]:
    """Every k-th document (of each source) goes to validation: both sources in both splits."""
    k = max(2, round(1 / val_share))
    train, val = [], []
    for source in sorted({d.source for d in docs}):
        same = [d for d in docs if d.source == source]
        for i, d in enumerate(same):
            (val if i % k == k - 1 else train).append(d)
    return train, val


@dataclass
class _Corpus:
    """The training documents, their split, their words and the IDF of the train split."""

    docs: list[Doc]
    train_docs: list[Doc]
    val_docs: list[Doc]
    words_of: dict[int, list[str]]  # by id() of the Doc
    idf: IdfTable

    @property
    def word_count(self) -> int:
        return sum(len(w) for w in self.words_of.values())


@dataclass
class _Evaluation:
    """The trained student, loaded, and what it was measured at."""

    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    val_metrics: dict
    bench: list
    comparison: dict


def run_recipe(
    out_dir: Path,
    work_dir: Path,
    settings: RecipeSettings,
    log: Callable[[str], None] = print,
) -> dict:
    """Train the default compressor from scratch; write the bundle, metrics.json, MODEL_CARD.md."""
    import transformers  # noqa: F401 - missing, it fails here, not after the long labelling

    from ctxchat.engines.training.card import write_card

    train_settings = settings.train or TrainSettings(threads=settings.threads)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    corpus = _build_corpus(settings, log)
    timings["corpus"] = time.perf_counter() - t0

    t = time.perf_counter()
    need_lm = labels.uses_lm(settings.teacher_variant) or settings.bench_lm_variants
    teacher = (
        SurprisalModel(n_ctx=settings.n_ctx, n_threads=settings.teacher_threads)
        if need_lm
        else None
    )
    labelled, surprisal_of = _label_documents(corpus, settings, teacher, t, log)
    timings["teacher_labels"] = time.perf_counter() - t

    # The teacher's weights are chosen on the validation documents, never on the benchmark:
    # record that grid (surprisal is already computed for them when the teacher uses the LM).
    dev_grid = {}
    if teacher is not None:
        dev_grid = _dev_grid(corpus, settings, teacher, surprisal_of, log)

    t = time.perf_counter()
    full_dir, base = work_dir / "full-model", minilm_dir()
    train_stats = _train(full_dir, base, corpus, labelled, train_settings, log)
    timings["student_training"] = time.perf_counter() - t

    t = time.perf_counter()
    ev = _evaluate(full_dir, corpus, labelled, settings, teacher, log)
    _conservative_speedup(ev.comparison["speeds"], corpus.word_count, timings["teacher_labels"])
    timings["evaluation"] = time.perf_counter() - t

    # Ship: the delta over MiniLM, checked by building the full folder from it.
    prefixes = trainable_prefixes(ev.model.config.num_hidden_layers, train_settings.train_layers)
    info = bundle.export_delta(full_dir, out_dir, prefixes, base, window=train_settings.max_length)
    shipped, fp16_gap = _check_shipped(out_dir, work_dir, base, ev)

    timings["total"] = time.perf_counter() - t0
    metrics = _recipe_metrics(
        settings, train_settings, corpus, teacher, dev_grid, train_stats, ev, info, fp16_gap,
        out_dir, timings,
    )  # fmt: skip
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    write_card(out_dir, metrics, shipped, ev.tokenizer, ev.bench)
    log(f"wrote {out_dir} in {timings['total']:.0f}s")
    return metrics


def _recipe_metrics(
    settings: RecipeSettings,
    train_settings: TrainSettings,
    corpus: _Corpus,
    teacher: SurprisalModel | None,
    dev_grid: dict,
    train_stats: dict,
    ev: _Evaluation,
    info: dict,
    fp16_gap: float,
    out_dir: Path,
    timings: dict[str, float],
) -> dict:
    """metrics.json: what was trained on, how, and what it measured."""
    return {
        "model": info["name"],
        "date": time.strftime("%Y-%m-%d"),
        "machine": (
            f"{platform.machine()} {platform.system()}, {os.cpu_count()} CPU cores, "
            f"python {sys.version.split()[0]}"
        ),
        "corpus": _corpus_metrics(corpus, settings),
        "teacher": _teacher_metrics(settings, teacher, corpus.word_count, timings, dev_grid),
        "training": {**asdict(train_settings), **train_stats},
        "student_vs_teacher_heldout": ev.val_metrics,
        "answer_survival": ev.comparison["tables"],
        "bench": _bench_metrics(ev.comparison, settings),
        "shipped": {
            "files": {p.name: p.stat().st_size for p in sorted(out_dir.iterdir()) if p.is_file()},
            "max_keep_prob_change_fp16": round(fp16_gap, 5),
        },
        "seconds": {k: round(v, 1) for k, v in timings.items()},
    }


def _build_corpus(settings: RecipeSettings, log: Callable[[str], None]) -> _Corpus:
    docs = training_corpus(settings.stdlib_words, settings.generated_docs, settings.corpus_seed)
    if settings.wikipedia:
        docs += wikipedia_documents()
    train_docs, val_docs = split_corpus(docs, settings.val_share)
    words_of = {id(d): [d.text[a:b] for a, b in word_spans(d.text)] for d in docs}
    idf = IdfTable(words_of[id(d)] for d in train_docs)
    log(
        f"corpus: {len(train_docs)} train / {len(val_docs)} val documents, "
        f"{sum(len(words_of[id(d)]) for d in docs):,} words"
    )
    return _Corpus(docs, train_docs, val_docs, words_of, idf)


def _label_documents(
    corpus: _Corpus,
    settings: RecipeSettings,
    teacher: SurprisalModel | None,
    started: float,
    log: Callable[[str], None],
) -> tuple[dict[int, LabelledDoc], dict[str, np.ndarray]]:
    """Teacher keep-labels for every document (by id() of the Doc), and the LM surprisal
    per title, kept for the dev grid on the validation docs."""
    uses_lm = labels.uses_lm(settings.teacher_variant)
    labelled: dict[int, LabelledDoc] = {}
    surprisal_of: dict[str, np.ndarray] = {}
    docs = corpus.docs
    for i, d in enumerate(docs):
        spans = word_spans(d.text)
        words = corpus.words_of[id(d)]
        if uses_lm:
            surprisal = teacher.word_surprisal(d.text, spans)
            surprisal_of[d.title] = surprisal
        else:
            surprisal = np.zeros(len(spans), dtype=np.float32)
        scores = labels.teacher_scores(
            words, surprisal, corpus.idf(words), settings.teacher_variant
        )
        labelled[id(d)] = LabelledDoc(
            d.title, d.text, spans, labels.keep_targets(scores), source=d.source
        )
        if (i + 1) % 25 == 0 or i + 1 == len(docs):
            speed = ""
            if uses_lm:
                rate = teacher.tokens_scored / (time.perf_counter() - started)
                speed = f" ({rate:.0f} llama tokens/s)"
            log(f"teacher: {i + 1}/{len(docs)} documents labelled{speed}")
    return labelled, surprisal_of


def _dev_grid(
    corpus: _Corpus,
    settings: RecipeSettings,
    teacher: SurprisalModel,
    surprisal_of: dict[str, np.ndarray],
    log: Callable[[str], None],
) -> dict:
    """Answer survival of every teacher weighting on the dev documents (never the benchmark)."""
    dev = devset.dev_bench(
        corpus.val_docs,
        corpus.idf,
        settings.generated_docs,
        settings.corpus_seed,
        settings.dev_generated_docs,
    )
    for doc in dev:
        doc.extra["idf"] = corpus.idf(doc.words)
        doc.extra["surprisal"] = surprisal_of.get(doc.title)
        if doc.extra["surprisal"] is None:
            doc.extra["surprisal"] = teacher.word_surprisal(doc.text, doc.spans)
    dev_grid = {
        "documents": len(dev),
        "extra_generated": settings.dev_generated_docs,
        "dev_seed": devset.DEV_SEED,
        "questions": sum(len(doc.items) for doc in dev),
        "grid": devset.grid_survival(dev),
    }
    log("\n".join(devset.format_grid(dev_grid["grid"])))
    return dev_grid


def _train(
    full_dir: Path,
    base: Path,
    corpus: _Corpus,
    labelled: dict[int, LabelledDoc],
    train_settings: TrainSettings,
    log: Callable[[str], None],
) -> dict:
    """Fine-tune the student from `base` into a fresh `full_dir` on the train split."""
    if full_dir.exists():
        shutil.rmtree(full_dir)
    return train_student(
        [labelled[id(d)] for d in corpus.train_docs], base, full_dir, train_settings, log=log
    )


def _evaluate(
    full_dir: Path,
    corpus: _Corpus,
    labelled: dict[int, LabelledDoc],
    settings: RecipeSettings,
    teacher: SurprisalModel | None,
    log: Callable[[str], None],
) -> _Evaluation:
    """The student against the teacher on held-out words, then the answer-survival benchmark."""
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    model = AutoModelForTokenClassification.from_pretrained(str(full_dir))
    tokenizer = AutoTokenizer.from_pretrained(str(full_dir))
    tokenizer.model_max_length = 10**6
    val_metrics = evaluate_student(
        model, tokenizer, [labelled[id(d)] for d in corpus.val_docs], max_length=256
    )
    log(f"student vs teacher on held-out words: {val_metrics}")

    # The answer-survival benchmark on held-out documents, every method on the same words.
    bench = survival.bench_documents(
        corpus.idf, settings.bench_generated_docs, settings.bench_stdlib_words, settings.bench_seed
    )
    bench_teacher = teacher if settings.bench_lm_variants else None
    comparison = compare_methods(
        bench, corpus.idf, bench_teacher, model, tokenizer, settings.teacher_variant
    )
    return _Evaluation(model, tokenizer, val_metrics, bench, comparison)


def _conservative_speedup(speeds: dict, labelled_words: int, labelling_seconds: float) -> None:
    """The student's speedup against the faster of the two measured teacher speeds."""
    if "student_speedup" in speeds:
        teacher_best = max(speeds["teacher_words_per_second"], labelled_words / labelling_seconds)
        speeds["student_speedup"] = round(speeds["student_words_per_second"] / teacher_best, 1)


def _check_shipped(
    out_dir: Path, work_dir: Path, base: Path, ev: _Evaluation
) -> tuple[PreTrainedModel, float]:
    """(the model rebuilt from the shipped delta, its largest keep-probability change)."""
    from transformers import AutoModelForTokenClassification

    from ctxchat.engines.training.student import word_keep_probs

    rebuilt = bundle.materialise(out_dir, work_dir / "materialised", base_dir=base)
    shipped = AutoModelForTokenClassification.from_pretrained(str(rebuilt))
    bench0 = ev.bench[0]
    shipped_probs = word_keep_probs(shipped, ev.tokenizer, [bench0.text], [bench0.spans])[0]
    return shipped, float(np.max(np.abs(shipped_probs - bench0.extra["student"])))


def _corpus_metrics(corpus: _Corpus, settings: RecipeSettings) -> dict:
    return {
        "sources": sorted({d.source for d in corpus.docs}),
        "train_documents": len(corpus.train_docs),
        "val_documents": len(corpus.val_docs),
        "words": corpus.word_count,
        "stdlib_words_cap": settings.stdlib_words,
        "generated_docs": settings.generated_docs,
        "seed": settings.corpus_seed,
    }


def _teacher_metrics(
    settings: RecipeSettings,
    teacher: SurprisalModel | None,
    labelled_words: int,
    timings: dict[str, float],
    dev_grid: dict,
) -> dict:
    return {
        "variant": settings.teacher_variant,
        "weights": dict(
            zip(
                ("surprisal", "idf", "rules"),
                labels.VARIANTS[settings.teacher_variant],
                strict=True,
            )
        ),
        "threads": settings.teacher_threads,
        "llama_tokens_scored": teacher.tokens_scored if teacher else 0,
        "labelling_words_per_second": round(
            labelled_words / max(timings["teacher_labels"], 1e-9), 1
        ),
        "keep_share_for_hard_labels": labels.KEEP_SHARE,
        "dev_grid": dev_grid,
    }


def _bench_metrics(comparison: dict, settings: RecipeSettings) -> dict:
    return {
        "documents": comparison["documents"],
        "words": comparison["words"],
        "seed": settings.bench_seed,
        "generated_docs": settings.bench_generated_docs,
        "stdlib_words": settings.bench_stdlib_words,
        **comparison["speeds"],
    }
