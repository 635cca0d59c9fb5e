"""`python -m ctxchat.engines.training`: train the default compressor from scratch, offline."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ctxchat.engines.compress.bundle import bundle_dir
from ctxchat.engines.paths import cache_dir
from ctxchat.engines.training.labels import VARIANTS
from ctxchat.engines.training.recipe import RecipeSettings, run_recipe
from ctxchat.engines.training.train import TrainSettings


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    settings = _settings(args)
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    work = args.work or cache_dir("training")
    run_recipe(args.out, work, settings, log=lambda m: print(m, flush=True))
    return 0


def _parser() -> argparse.ArgumentParser:
    defaults, train_defaults = RecipeSettings(), TrainSettings()
    p = argparse.ArgumentParser(prog="python -m ctxchat.engines.training", description=__doc__)
    p.add_argument("--out", type=Path, default=bundle_dir(), help="bundle folder to write")
    p.add_argument("--work", type=Path, default=None, help="scratch folder (full model)")
    p.add_argument("--stdlib-words", type=int, default=defaults.stdlib_words)
    p.add_argument("--generated-docs", type=int, default=defaults.generated_docs)
    p.add_argument("--bench-generated-docs", type=int, default=defaults.bench_generated_docs)
    p.add_argument("--bench-stdlib-words", type=int, default=defaults.bench_stdlib_words)
    p.add_argument(
        "--dev-generated-docs",
        type=int,
        default=defaults.dev_generated_docs,
        help="extra generated documents (dev seed) for the teacher-weight grid",
    )
    p.add_argument("--steps", type=int, default=train_defaults.steps)
    p.add_argument("--train-layers", type=int, default=train_defaults.train_layers)
    p.add_argument("--max-length", type=int, default=train_defaults.max_length)
    p.add_argument("--batch-size", type=int, default=train_defaults.batch_size)
    p.add_argument("--lr", type=float, default=train_defaults.lr)
    p.add_argument("--seed", type=int, default=train_defaults.seed)
    p.add_argument("--threads", type=int, default=defaults.threads)
    p.add_argument("--teacher", default=defaults.teacher_variant, choices=sorted(VARIANTS))
    p.add_argument("--teacher-threads", type=int, default=defaults.teacher_threads)
    p.add_argument(
        "--no-lm-variants",
        action="store_true",
        help="skip the surprisal teacher variants in the benchmark (no llama.cpp when the "
        "chosen teacher does not need it)",
    )
    p.add_argument(
        "--wikipedia",
        action="store_true",
        help="add the Wikipedia prose to the corpus (with --teacher idf+phrases: the real-prose "
        "recipe, not trained yet)",
    )
    return p


def _settings(args: argparse.Namespace) -> RecipeSettings:
    return RecipeSettings(
        stdlib_words=args.stdlib_words,
        generated_docs=args.generated_docs,
        bench_generated_docs=args.bench_generated_docs,
        bench_stdlib_words=args.bench_stdlib_words,
        dev_generated_docs=args.dev_generated_docs,
        teacher_variant=args.teacher,
        threads=args.threads,
        teacher_threads=args.teacher_threads,
        bench_lm_variants=not args.no_lm_variants,
        wikipedia=args.wikipedia,
        train=TrainSettings(
            train_layers=args.train_layers,
            max_length=args.max_length,
            batch_size=args.batch_size,
            steps=args.steps,
            lr=args.lr,
            seed=args.seed,
            threads=args.threads,
        ),
    )


if __name__ == "__main__":
    sys.exit(main())
