"""From adding a book to answers: first context, full index, embedder speed, warm questions,
and answer survival of the early path (a question asked before indexing is done).

    nice -n 10 .venv/bin/python -m benchmarks.indexing_bench [--doc generated|book]
        [--pages 300] [--parts speed,timeline,survival] [--repeats 3] [--out FILE.json]

- speed: the embedder's tokens/s on the document's sentences, before (the first version:
  fp32, 64 sentences a batch, tokenized per batch) against now (token-sized batches, fp32
  and the precision "auto" picks here, int8), interleaved, median of --repeats.
- timeline: add the PDF (as `ctxchat add --no-index` / a drop), start the background index
  (engines.indexing, as the TUI does), ask the first question at once (the early path, the
  index paused while it is answered, as in the TUI); then the full index time, and warm
  questions (selection, final-result cache off) once indexed.
- survival: on the real book (benchmarks/realqa.py, human questions), the share of
  questions whose answer is in a 2,000-token context when the first question comes at 0%,
  25% and 100% indexed; each question starts from the same stored state (a copy of the
  library file), so one question's on-demand vectors never help the next.
--doc generated: a ~300-page PDF of distinct generated sentences (tests/docgen.py), whose
facts are a regression check; --doc book: the real-text book.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

BUDGET = 2_000
SHARES = (0.0, 0.25, 1.0)


# -- documents ---------------------------------------------------------------------------


def generated_pdf(path: Path, pages: int, seed: int = 5) -> list[tuple[str, str]]:
    """A ~`pages`-page PDF whose sentences are all distinct (a filler sentence repeated
    across a book would be embedded once and flatter the index time). Returns the planted
    (question, answer) pairs."""
    import random

    from tests.docgen import long_document, write_pdf

    rng = random.Random(seed)
    paragraphs, facts = long_document(pages, seed=seed, facts_every=3, paragraphs_per_page=4)
    planted = {f.sentence for f in facts}
    counter = 0
    out_pages = []
    for page in paragraphs:
        out = []
        for para in page:
            sentences = []
            for sentence in para.split(". "):
                sentence = sentence.rstrip(".")
                if sentence + "." in planted:
                    sentences.append(sentence + ".")
                    continue
                counter += 1
                where = rng.choice(("ledger", "register", "survey", "minute book", "log"))
                sentences.append(f"{sentence}, as entry {counter} of the {where} records.")
            out.append(" ".join(sentences))
        out_pages.append(out)
    write_pdf(path, out_pages, header="Annual Report of the Coastal Districts")
    return [(f.question, f.answer) for f in facts]


def book_pdf(folder: Path) -> tuple[Path, list[Any]]:
    """The real-text book of benchmarks/realqa.py (human questions), rendered once."""
    from benchmarks import realqa

    book = realqa.load().book()
    path = folder / book.name
    if not path.exists():
        realqa.render_pdf(book, path)
    return path, book.questions


# -- embedder speed ----------------------------------------------------------------------


def legacy_encode(embedder: Any, texts: Sequence[str]) -> None:
    """The first version's loop: fp32, 64 texts a batch sorted by characters, tokenized
    and padded per batch (kept here only to measure against)."""
    import torch

    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    with torch.inference_mode():
        for start in range(0, len(order), 64):
            idx = order[start : start + 64]
            batch = embedder._tokenizer(
                [texts[i] for i in idx],
                padding=True,
                truncation=True,
                max_length=256,
                return_tensors="pt",
            )
            hidden = embedder._model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            torch.nn.functional.normalize(pooled, p=2, dim=1).numpy()


def speed(texts: Sequence[str], repeats: int) -> dict[str, Any]:
    """Tokens/s of each embedder variant, interleaved (load swings hit them alike)."""
    from ctxchat.engines.embeddings import Embedder
    from ctxchat.engines.int8 import int8_available

    variants: dict[str, Callable[[], None]] = {}
    fp32 = Embedder(device="cpu", precision="fp32")
    fp32.encode(texts[:8])
    variants["before: fp32, 64 texts a batch"] = lambda: legacy_encode(fp32, texts)
    variants["fp32, token batches"] = lambda: fp32.encode(texts)
    auto = Embedder(device="cpu")
    if auto.precision != "fp32":
        auto.encode(texts[:8])
        variants[f"{auto.precision}, token batches (auto)"] = lambda: auto.encode(texts)
    if int8_available():
        q = Embedder(device="cpu", precision="int8")
        q.encode(texts[:8])
        variants["int8, token batches"] = lambda: q.encode(texts)
    tokens = sum(len(ids) for ids in fp32._tokenizer(list(texts), truncation=True)["input_ids"])
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(repeats):
        for name, run in variants.items():
            t0 = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - t0)
    before = statistics.median(times["before: fp32, 64 texts a batch"])
    rows = {
        name: {
            "tokens_per_s": round(tokens / statistics.median(t)),
            "vs_before": round(before / statistics.median(t), 2),
            "seconds": [round(x, 2) for x in t],
        }
        for name, t in times.items()
    }
    for name, row in rows.items():
        print(
            f"  {name:40s} {row['tokens_per_s']:>7,} tokens/s  {row['vs_before']:.2f}x", flush=True
        )
    return {"texts": len(texts), "tokens": tokens, "rows": rows}


def agreement(texts: Sequence[str], questions: Sequence[str], top: int = 20) -> dict[str, Any]:
    """Share of each question's top-`top` sentences (by cosine) that a precision keeps the
    same as fp32, over a sample of the document's sentences."""
    import numpy as np

    from ctxchat.engines.embeddings import Embedder
    from ctxchat.engines.int8 import int8_available
    from ctxchat.engines.models import cpu_has_bf16_units

    names = ["fp32"] + (["bf16"] if cpu_has_bf16_units() else [])
    names += ["int8"] if int8_available() else []
    tops: dict[str, list[set[int]]] = {}
    for name in names:
        embedder = Embedder(device="cpu", precision=name)
        matrix = embedder.encode(list(texts))
        queries = embedder.encode(list(questions))
        sims = queries @ matrix.T
        tops[name] = [set(np.argsort(-row, kind="stable")[:top].tolist()) for row in sims]
    out = {}
    for name in names[1:]:
        same = [len(a & b) / top for a, b in zip(tops["fp32"], tops[name], strict=True)]
        out[name] = round(float(np.mean(same)), 4)
        print(f"  {name}: {out[name]:.1%} of fp32's top-{top} sentences kept", flush=True)
    return {"sentences": len(texts), "questions": len(questions), "top": top, "same": out}


# -- timeline ----------------------------------------------------------------------------


def timeline(pdf: Path, questions: Sequence[str], home: Path) -> dict[str, Any]:
    """Add -> first context (early path, index running) -> full index -> warm questions."""
    from ctxchat.engines import selector
    from ctxchat.engines.embeddings import embed
    from ctxchat.engines.indexing import IndexProgress, index_document
    from ctxchat.engines.library import add_path
    from ctxchat.engines.pipeline import compress_documents
    from ctxchat.engines.store import Store

    embed(["load the model"])  # the TUI loads it in the background at start
    store = Store(home / "timeline.db")
    t0 = time.perf_counter()
    doc = add_path(store, pdf).document
    added = time.perf_counter() - t0
    print(
        f"  added: {doc.pages} pages, {doc.tokens:,} tokens, {doc.segments:,} sentences, "
        f"{added:.1f} s",
        flush=True,
    )
    asking = threading.Event()
    progress: list[IndexProgress] = []
    done = threading.Event()

    def run_index() -> None:
        index_document(store, doc.id, on_progress=progress.append, should_pause=asking.is_set)
        done.set()

    indexer = threading.Thread(target=run_index, daemon=True)
    t_index = time.perf_counter()
    indexer.start()
    asking.set()
    first = compress_documents(store, [doc.id], questions[0], budget=BUDGET, use_cache=False)
    asking.clear()
    first_s = time.perf_counter() - t0
    print(
        f"  first context: {first_s:.1f} s after the drop "
        f"(question {first.stats['seconds']['total']:.1f} s, {first.stats.get('index')})",
        flush=True,
    )
    done.wait()
    index_s = time.perf_counter() - t_index
    print(f"  full index: {index_s:.1f} s ({progress[-1].computed:,} sentences)", flush=True)
    warm = []
    for q in questions[1:4]:
        t = time.perf_counter()
        compress_documents(store, [doc.id], q, budget=BUDGET, prune=False, use_cache=False)
        warm.append(time.perf_counter() - t)
    selector.DOC_CACHE.clear()
    store.close()
    print(f"  warm question: {statistics.median(warm):.3f} s (median of {len(warm)})", flush=True)
    return {
        "pages": doc.pages,
        "tokens": doc.tokens,
        "sentences": doc.segments,
        "add_s": round(added, 2),
        "first_context_s": round(first_s, 2),
        "first_question_s": first.stats["seconds"]["total"],
        "first_mode": first.stats.get("mode"),
        "first_index": first.stats.get("index"),
        "full_index_s": round(index_s, 1),
        "warm_question_s": round(statistics.median(warm), 3),
    }


# -- survival at 0%, 25%, 100% indexed ---------------------------------------------------


def _state(base: Path, target: Path, doc_id: int, share: float) -> Path:
    """A copy of the library with the first `share` of the document indexed."""
    from ctxchat.engines.indexing import index_document
    from ctxchat.engines.store import Store

    shutil.copy(base, target)
    if share > 0:
        with Store(target) as store:
            index_document(store, doc_id, should_stop=_stop_at(store, doc_id, share))
    return target


def _stop_at(store: Any, doc_id: int, share: float) -> Callable[[], bool]:
    from ctxchat.engines.indexing import index_progress

    return lambda: index_progress(store, doc_id).fraction >= share


def survival(pdf: Path, questions: Sequence[Any], home: Path) -> dict[str, Any]:
    from benchmarks.realqa import answer_survives, document_text, readable
    from ctxchat.engines import selector
    from ctxchat.engines.indexing import index_progress
    from ctxchat.engines.library import add_path
    from ctxchat.engines.store import Store

    base = home / "survival-base.db"
    with Store(base) as store:
        doc = add_path(store, pdf).document
        asked = list(readable(questions, document_text(store, doc.id)))
    print(f"  {len(asked)} of {len(questions)} questions readable after PDF + ingest", flush=True)
    out: dict[str, Any] = {"questions": len(asked), "budget": BUDGET, "rows": {}}
    for share in SHARES:
        state = _state(base, home / f"survival-{int(share * 100)}.db", doc.id, share)
        with Store(state) as store:
            percent = index_progress(store, doc.id).percent
        kept = 0
        seconds = []
        for q in asked:
            scratch = home / "survival-scratch.db"
            shutil.copy(state, scratch)
            selector.DOC_CACHE.clear()
            with Store(scratch) as store:
                t = time.perf_counter()
                sel = selector.select(store, [doc.id], q.question, BUDGET)
                seconds.append(time.perf_counter() - t)
            kept += answer_survives(q, sel.text)
        row = {
            "indexed_percent": percent,
            "survival": round(kept / max(len(asked), 1), 4),
            "median_question_s": round(statistics.median(seconds), 2),
        }
        out["rows"][f"{int(share * 100)}%"] = row
        print(
            f"  {int(share * 100):3d}% indexed (really {percent}%): survival "
            f"{row['survival']:.1%}, {row['median_question_s']:.2f} s a question",
            flush=True,
        )
    return out


# -- main --------------------------------------------------------------------------------


def _sentences(pdf: Path, home: Path, limit: int) -> list[str]:
    from ctxchat.engines.library import add_path
    from ctxchat.engines.store import Store

    with Store(home / "speed.db") as store:
        doc = add_path(store, pdf).document
        texts = list(dict.fromkeys(s.text for s in store.segments(doc.id)))
    step = max(1, len(texts) // limit)
    return texts[::step][:limit]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--doc", choices=("generated", "book"), default="generated")
    parser.add_argument("--pages", type=int, default=300, help="pages of the generated PDF")
    parser.add_argument(
        "--parts", default="speed,timeline", help="speed,agreement,timeline,survival"
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--speed-texts", type=int, default=1500)
    parser.add_argument("--split", default="test", help="book questions: dev, test or all")
    parser.add_argument("--limit", type=int, default=0, help="at most this many questions")
    parser.add_argument("--out", help="write the results as JSON")
    args = parser.parse_args(argv)
    parts = set(args.parts.split(","))
    results: dict[str, Any] = {"doc": args.doc, "load_before": os.getloadavg()}
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        os.environ["CTXCHAT_HOME"] = str(home)
        if args.doc == "book":
            pdf, qs = book_pdf(home)
            qs = [q for q in qs if args.split == "all" or q.split == args.split]
            qs = qs[: args.limit] if args.limit else qs
            questions = [q.question for q in qs]
        else:
            pdf = home / "generated-book.pdf"
            questions = [q for q, _ in generated_pdf(pdf, args.pages)]
        if "speed" in parts:
            print("embedder speed:", flush=True)
            results["speed"] = speed(_sentences(pdf, home, args.speed_texts), args.repeats)
        if "agreement" in parts:
            print("top-20 agreement with fp32:", flush=True)
            sample = _sentences(pdf, home, args.speed_texts)
            results["agreement"] = agreement(sample, questions)
        if "timeline" in parts:
            print("timeline:", flush=True)
            results["timeline"] = timeline(pdf, questions, home)
        if "survival" in parts:
            if args.doc != "book":
                parser.error("survival needs --doc book (human questions)")
            print("early-path survival:", flush=True)
            results["survival"] = survival(pdf, qs, home)
    results["load_after"] = os.getloadavg()
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
