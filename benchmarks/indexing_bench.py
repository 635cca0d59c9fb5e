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
--doc generated: a ~300-page PDF of distinct generated sentences (devkit/docgen.py), whose
facts are a regression check; --doc book: the real-text book.
"""

from __future__ import annotations

import argparse
import contextlib
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

    from devkit.docgen import long_document, write_pdf

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
    from ctxchat.engines.int8 import int8_available
    from ctxchat.engines.select.embeddings import Embedder

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

    from ctxchat.engines.int8 import int8_available
    from ctxchat.engines.models import cpu_has_bf16_units
    from ctxchat.engines.select.embeddings import Embedder

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


class Clock:
    """Wall seconds and this process's CPU seconds (all threads) since start. On a shared
    machine the wall time grows with the load; the CPU time much less: CPU / threads is
    about what a quiet machine would take."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def read(self) -> dict[str, float]:
        return {
            "wall_s": round(time.perf_counter() - self.wall, 3),
            "cpu_s": round(time.process_time() - self.cpu, 3),
        }


def _warm_models(home: Path) -> None:
    """Load MiniLM and the compressor first: the TUI loads models in the background at
    start, and the bundled compressor is built once per install, not per document."""
    from ctxchat.engines.compress.compressor import default_compressor
    from ctxchat.engines.errors import ModelNotFoundError
    from ctxchat.engines.select.embeddings import embed
    from ctxchat.engines.store.db import Store

    embed(["load the model"])
    with Store(home / "warmup.db") as store, contextlib.suppress(ModelNotFoundError):
        default_compressor(store).compress(["Warm up the compressor."], target_tokens=3)


def _start_indexer(
    store: Any, doc_id: int, asking: threading.Event, stop: threading.Event, done: threading.Event
) -> list[Any]:
    """Index in a thread, as the TUI's worker: paused while asking, stopped by `stop`."""
    from ctxchat.engines.select.indexing import index_document

    progress: list[Any] = []

    def run() -> None:
        index_document(
            store,
            doc_id,
            on_progress=progress.append,
            should_pause=asking.is_set,
            should_stop=stop.is_set,
        )
        done.set()

    threading.Thread(target=run, daemon=True).start()
    return progress


def _warm_question(store: Any, doc_id: int, questions: Sequence[str]) -> float:
    """Median wall seconds of a question once indexed (selection only, cache off)."""
    from ctxchat.engines.pipeline import compress_documents

    warm = []
    for q in questions:
        t = Clock()
        compress_documents(store, [doc_id], q, budget=BUDGET, prune=False, use_cache=False)
        warm.append(t.read()["wall_s"])
    return statistics.median(warm)


def timeline(pdf: Path, questions: Sequence[str], home: Path, full: bool = True) -> dict[str, Any]:
    """Add -> first context (early path, index running) -> full index -> warm questions."""
    from ctxchat.engines.ingest.library import add_path
    from ctxchat.engines.pipeline import compress_documents
    from ctxchat.engines.select import selector
    from ctxchat.engines.store.db import Store

    _warm_models(home)
    out: dict[str, Any] = {}
    store = Store(home / "timeline.db")
    clock = Clock()
    doc = add_path(store, pdf).document
    out["add"] = clock.read()
    out.update(pages=doc.pages, tokens=doc.tokens, sentences=doc.segments)
    print(
        f"  added: {doc.pages} pages, {doc.tokens:,} tokens, {doc.segments:,} sentences, "
        f"{out['add']}",
        flush=True,
    )
    asking, stop, done = threading.Event(), threading.Event(), threading.Event()
    asking.set()  # as the TUI: the question goes first, the index waits for it
    progress = _start_indexer(store, doc.id, asking, stop, done)
    first = compress_documents(store, [doc.id], questions[0], budget=BUDGET, use_cache=False)
    out["first_context"] = clock.read()
    asking.clear()
    out["first_question"] = {
        k: first.stats["seconds"].get(k) for k in ("select", "embed", "compress", "total")
    }
    out["first_mode"], out["first_index"] = first.stats.get("mode"), first.stats.get("index")
    print(
        f"  first context after the drop: {out['first_context']}, question "
        f"{out['first_question']}, {out['first_index']}",
        flush=True,
    )
    if not full:
        stop.set()
        done.wait()
        store.close()
        return out
    index_clock = Clock()
    done.wait()
    out["full_index"] = {**index_clock.read(), "sentences": progress[-1].computed}
    out["drop_to_full_index"] = clock.read()
    print(
        f"  full index: {out['full_index']}, from the drop {out['drop_to_full_index']}", flush=True
    )
    out["warm_question_s"] = _warm_question(store, doc.id, questions[1:6])
    selector.DOC_CACHE.clear()
    store.close()
    print(f"  warm question: {out['warm_question_s']:.3f} s (median)", flush=True)
    return out


# -- survival at 0%, 25%, 100% indexed ---------------------------------------------------


def _state(base: Path, target: Path, oracle: Any, doc_id: int, share: float) -> Path:
    """A copy of the unindexed library with the first `share` of the document's sentences
    (in document order, as the indexer goes) given their vectors from the full index."""
    from ctxchat.engines.select.embeddings import MODEL_ID, text_hash
    from ctxchat.engines.store.db import Store

    shutil.copy(base, target)
    with Store(target) as store:
        missing = store.missing_embeddings(doc_id, MODEL_ID)
        chosen = [s.hash for s in missing[: round(share * len(missing))]]
        if share >= 1:  # the indexer embeds the headings last
            chosen += [text_hash(s.heading) for s in store.segments(doc_id) if s.heading]
        if chosen:
            store.put_embeddings(MODEL_ID, oracle.get_embeddings(chosen, MODEL_ID))
    return target


def _oracle_embedder(oracle: Any) -> Callable[..., Any]:
    """embed_segments that reads the vectors the full index computed instead of computing
    them again: the early path then picks exactly what it would, minus the waiting (its
    time is measured in the timeline), so a survival row takes minutes, not hours."""
    import numpy as np

    from ctxchat.engines.select.embeddings import DIM, MODEL_ID, EmbedStats

    def embed_segments(store: Any, segments: Sequence[Any], stats: Any = None, *_: Any) -> Any:
        stats = stats if stats is not None else EmbedStats()
        have = store.get_embeddings([s.hash for s in segments], MODEL_ID)
        fresh = oracle.get_embeddings([s.hash for s in segments if s.hash not in have], MODEL_ID)
        store.put_embeddings(MODEL_ID, fresh)
        have.update(fresh)
        stats.total += len(segments)
        stats.computed += len(fresh)
        matrix = np.zeros((len(segments), DIM), dtype=np.float32)
        for i, seg in enumerate(segments):
            matrix[i] = have[seg.hash]
        return matrix

    return embed_segments


def survival(pdf: Path, questions: Sequence[Any], home: Path, full_db: Path) -> dict[str, Any]:
    from benchmarks.realqa import answer_survives, document_text, readable
    from ctxchat.engines.ingest.library import add_path
    from ctxchat.engines.select import selector
    from ctxchat.engines.select.indexing import index_progress
    from ctxchat.engines.store.db import Store

    base = home / "survival-base.db"
    with Store(base) as store:
        doc = add_path(store, pdf).document
        asked = list(readable(questions, document_text(store, doc.id)))
    print(f"  {len(asked)} of {len(questions)} questions readable after PDF + ingest", flush=True)
    out: dict[str, Any] = {"questions": len(asked), "budget": BUDGET, "rows": {}}
    real_embed = selector.embed_segments
    with Store(full_db) as oracle:
        if not index_progress(oracle, doc.id).complete:
            raise SystemExit("survival reads the timeline's full index: run timeline first")
        selector.embed_segments = _oracle_embedder(oracle)
        try:
            for share in SHARES:
                out["rows"][f"{int(share * 100)}%"] = _survival_row(
                    _state(base, home / f"survival-{share}.db", oracle, doc.id, share),
                    home,
                    doc.id,
                    asked,
                    answer_survives,
                )
        finally:
            selector.embed_segments = real_embed
    return out


def baselines(pdf: Path, questions: Sequence[Any], home: Path, full_db: Path) -> dict[str, Any]:
    """BM25 alone and MiniLM alone (fully indexed) on the same questions and budget."""
    from benchmarks.realqa import answer_survives, document_text, readable
    from ctxchat.engines.select import selector
    from ctxchat.engines.store.db import Store

    out = {}
    with Store(full_db) as store:
        doc = store.documents()[0]
        asked = list(readable(questions, document_text(store, doc.id)))
        for method in ("bm25", "dense"):
            options = selector.SelectorOptions(method=method)
            kept = sum(
                answer_survives(
                    q, selector.select(store, [doc.id], q.question, BUDGET, options=options).text
                )
                for q in asked
            )
            out[method] = round(kept / max(len(asked), 1), 4)
            print(f"  {method}: survival {out[method]:.1%} of {len(asked)}", flush=True)
    return out


def _survival_row(
    state: Path, home: Path, doc_id: int, asked: Sequence[Any], survives: Callable[..., bool]
) -> dict[str, Any]:
    from ctxchat.engines.select import selector
    from ctxchat.engines.select.indexing import index_progress
    from ctxchat.engines.store.db import Store

    with Store(state) as store:
        percent = index_progress(store, doc_id).percent
    kept = early = 0
    for q in asked:
        scratch = home / "survival-scratch.db"
        shutil.copy(state, scratch)
        selector.DOC_CACHE.clear()
        with Store(scratch) as store:
            sel = selector.select(store, [doc_id], q.question, BUDGET)
        kept += survives(q, sel.text)
        early += bool(sel.stats.get("index", {}).get("early"))
    row = {
        "indexed_percent": percent,
        "survival": round(kept / max(len(asked), 1), 4),
        "early_path_questions": early,
    }
    print(
        f"  {percent:3d}% indexed: survival {row['survival']:.1%} "
        f"({early} of {len(asked)} on the early path)",
        flush=True,
    )
    return row


# -- main --------------------------------------------------------------------------------


def _sentences(pdf: Path, home: Path, limit: int) -> list[str]:
    from ctxchat.engines.ingest.library import add_path
    from ctxchat.engines.store.db import Store

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
        "--parts",
        default="speed,timeline",
        help="speed, agreement, timeline (first: only up to the first context), survival",
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--speed-texts", type=int, default=1500)
    parser.add_argument("--split", default="test", help="book questions: dev, test or all")
    parser.add_argument("--limit", type=int, default=0, help="at most this many questions")
    parser.add_argument("--home", help="work folder to keep (survival reuses its timeline.db)")
    parser.add_argument("--out", help="write the results as JSON")
    args = parser.parse_args(argv)
    parts = set(args.parts.split(","))
    results: dict[str, Any] = {"doc": args.doc, "load_before": os.getloadavg()}
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(args.home or tmp)
        home.mkdir(parents=True, exist_ok=True)
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
        if "timeline" in parts or "first" in parts:
            print("timeline:", flush=True)
            results["timeline"] = timeline(pdf, questions, home, full="timeline" in parts)
        if "survival" in parts:
            if args.doc != "book":
                parser.error("survival needs --doc book (human questions)")
            print("early-path survival:", flush=True)
            results["survival"] = survival(pdf, qs, home, home / "timeline.db")
        if "baselines" in parts:
            print("baselines:", flush=True)
            results["baselines"] = baselines(pdf, qs, home, home / "timeline.db")
    results["load_after"] = os.getloadavg()
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
