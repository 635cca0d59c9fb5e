"""Answer survival of sentence selection on the generated long-document QA set.

    .venv/bin/python -m benchmarks.selection_bench [--docs 14] [--seed 0] [--tune]

For each question and budget (5% and 2% of the document's cl100k tokens), each method
fills the budget and we check whether the gold answer string is still in the text.
Methods: random sentences, a question-blind selector (digits and rare names), BM25
sentences, dense (MiniLM) sentences, a BM25+MiniLM hybrid (min-max fusion, nothing else),
ctxchat's selector (fusion + context + dedup), and ctxchat select+prune when the compressor
model is installed. The table runs the test split (held-out fact templates, --seed);
--tune compares selector settings on the dev split (the other templates, DEV_SEED).
A regression check only: the headline is the real-text set (benchmarks.realqa_bench).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

BUDGETS = (0.05, 0.02)
DEV_SEED = 1001


def _methods() -> dict[str, Any]:
    from ctxchat.engines.select.selector import SelectorOptions

    return {
        "random sentences": SelectorOptions(method="random"),
        "question-blind (digits, rare names)": SelectorOptions(method="blind"),
        "BM25 sentences": SelectorOptions(method="bm25"),
        "dense (MiniLM) sentences": SelectorOptions(method="dense"),
        "BM25+MiniLM hybrid": SelectorOptions(method="hybrid"),
        "ctxchat select": SelectorOptions(),
    }


def _ingest(store: Any, docs: list[Any]) -> list[int]:
    from ctxchat.engines.pipeline import add_text

    return [add_text(store, d.text, name=d.title).id for d in docs]


def survival(
    store: Any,
    docs: list[Any],
    doc_ids: list[int],
    run: Callable[[int, str, int], str],
) -> dict[float, float]:
    """Share of questions whose answer is in run(doc_id, question, budget), per budget."""
    out = {}
    for share in BUDGETS:
        kept = total = 0
        for doc, doc_id in zip(docs, doc_ids, strict=True):
            budget = max(1, int(share * store.document(doc_id).tokens))
            for question, answer in doc.questions:
                total += 1
                kept += answer in run(doc_id, question, budget)
        out[share] = kept / max(total, 1)
    return out


def _selector_run(store: Any, options: Any) -> Callable[[int, str, int], str]:
    from ctxchat.engines.select.selector import select

    return lambda doc_id, q, budget: select(store, [doc_id], q, budget, options=options).text


def _prune_run(
    store: Any, compressor: Any, keep_rate: float, verbatim: float
) -> Callable[[int, str, int], str]:
    from ctxchat.engines.pipeline import compress_documents

    def run(doc_id: int, q: str, budget: int) -> str:
        return compress_documents(
            store,
            [doc_id],
            q,
            budget=budget,
            prune=True,
            compressor=compressor,
            keep_rate=keep_rate,
            verbatim_share=verbatim,
            use_cache=False,
        ).text

    return run


def _compressor(store: Any) -> Any:
    from ctxchat.engines.errors import ModelNotFoundError

    try:
        from ctxchat.engines.compress.compressor import default_compressor

        return default_compressor(store)
    except (ImportError, ModelNotFoundError) as exc:
        print(f"(no compressor: {exc})")
        return None


def tune(store: Any, docs: list[Any], ids: list[int]) -> None:
    from ctxchat.engines.select.selector import SelectorOptions

    base = SelectorOptions()
    grid = [("default", base)]
    for fusion, weight in (("rrf", 0.5), ("minmax", 0.3), ("minmax", 0.7), ("minmax", 0.5)):
        grid.append((f"{fusion} w={weight}", replace(base, fusion=fusion, dense_weight=weight)))
    for nb in (0.0, 0.1, 0.35):
        grid.append((f"neighbour={nb}", replace(base, neighbour_weight=nb)))
    grid.append(("heading=0", replace(base, heading_weight=0.0)))
    grid.append(("no predecessor", replace(base, leaning_predecessor=False)))
    grid.append(("no dedup", replace(base, dedup_cosine=1.0)))
    for name, options in grid:
        res = survival(store, docs, ids, _selector_run(store, options))
        print(f"{name:20s} 5%: {res[0.05]:.1%}  2%: {res[0.02]:.1%}", flush=True)


def latency(pages: int = 300, budget: int = 2000) -> None:
    """Seconds per question on a long document: cold (embeddings computed), then warm."""
    from benchmarks.qa_data import build_document
    from ctxchat.engines.ingest.segment import segment_pages
    from ctxchat.engines.pipeline import compress_documents
    from ctxchat.engines.select import selector
    from ctxchat.engines.store.db import Store

    doc = build_document(pages * 500, seed=42, fact_every=3000)
    paragraphs = doc.text.split("\n\n")
    per_page = max(1, len(paragraphs) // pages)

    class Page:
        def __init__(self, number: int, text: str) -> None:
            self.number, self.text = number, text

    page_list = [
        Page(n + 1, "\n\n".join(paragraphs[n * per_page : (n + 1) * per_page]))
        for n in range(pages)
    ]
    store = Store()
    t0 = time.perf_counter()
    row, _ = store.add_document(
        sha256="latency-doc",
        name="long.pdf",
        path="long.pdf",
        kind="pdf",
        size=len(doc.text),
        segments=segment_pages(page_list),
    )
    print(
        f"{row.pages} pages, {row.tokens:,} tokens, {row.segments:,} sentences "
        f"(ingest {time.perf_counter() - t0:.1f} s, not counted)",
        flush=True,
    )
    questions = [q for q, _ in doc.questions]
    from ctxchat.engines.select.embeddings import embed

    t0 = time.perf_counter()
    embed(["load the model"])
    print(f"MiniLM load: {time.perf_counter() - t0:.2f} s", flush=True)

    def ask(q: str) -> tuple[float, dict]:
        t = time.perf_counter()
        r = compress_documents(store, [row.id], q, budget=budget, prune=False, use_cache=False)
        return time.perf_counter() - t, r.stats

    cold, stats = ask(questions[0])
    print(
        f"cold (embeddings computed): {cold:.2f} s "
        f"({stats['selection']['embeddings']['computed']} sentences embedded)",
        flush=True,
    )
    warm = [ask(q)[0] for q in questions[1:6]]
    print(
        f"warm, same process: {sorted(warm)[len(warm) // 2]:.3f} s median of {len(warm)}",
        flush=True,
    )
    reload = []
    for q in questions[6:11]:
        selector.DOC_CACHE.clear()  # as in a new process: vectors come from SQLite
        reload.append(ask(q)[0])
    print(
        f"warm, embeddings from SQLite: {sorted(reload)[len(reload) // 2]:.3f} s median "
        f"of {len(reload)}",
        flush=True,
    )
    store.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=14)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tune", action="store_true", help="compare selector settings")
    parser.add_argument(
        "--splits",
        default="0.6:0.5",
        help="select+prune settings to try, as keep_rate:verbatim_share pairs",
    )
    parser.add_argument("--home", help="keep the benchmark library (and its embeddings) here")
    parser.add_argument(
        "--latency", action="store_true", help="time questions on a ~300-page document instead"
    )
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        home = args.home or tmp
        os.environ["CTXCHAT_HOME"] = home
        if args.latency:
            latency()
            return
        from benchmarks.qa_data import build_qa_set
        from ctxchat.engines.store.db import Store

        if args.tune:
            docs = build_qa_set(args.docs, seed=DEV_SEED, split="dev")
        else:
            docs = build_qa_set(args.docs, seed=args.seed, split="test")
        n_q = sum(len(d.questions) for d in docs)
        tokens = [d.tokens for d in docs]
        print(
            f"{len(docs)} documents, {min(tokens)}-{max(tokens)} tokens "
            f"(total {sum(tokens):,}), {n_q} questions",
            flush=True,
        )
        store = Store()
        ids = _ingest(store, docs)
        t0 = time.perf_counter()
        from ctxchat.engines.select.selector import select

        for doc_id, doc in zip(ids, docs, strict=True):
            select(store, [doc_id], doc.questions[0][0] if doc.questions else "x", 10)
        print(f"embedding all sentences: {time.perf_counter() - t0:.1f} s", flush=True)
        if args.tune:
            tune(store, docs, ids)
            return
        rows = []
        for name, options in _methods().items():
            t0 = time.perf_counter()
            res = survival(store, docs, ids, _selector_run(store, options))
            rows.append((name, res, (time.perf_counter() - t0) / (2 * n_q)))
            print(f"{name:28s} 5%: {res[0.05]:.1%}  2%: {res[0.02]:.1%}", flush=True)
        compressor = _compressor(store)
        if compressor is not None:
            for split in args.splits.split(","):
                keep, verbatim = (float(x) for x in split.split(":"))
                t0 = time.perf_counter()
                res = survival(store, docs, ids, _prune_run(store, compressor, keep, verbatim))
                name = f"ctxchat select+prune (keep {keep:.0%}, verbatim {verbatim:.0%})"
                rows.append((name, res, (time.perf_counter() - t0) / (2 * n_q)))
                print(f"{name:28s} 5%: {res[0.05]:.1%}  2%: {res[0.02]:.1%}", flush=True)
        print("\n| method | survival at 5% | survival at 2% | s / question |")
        print("|---|---|---|---|")
        for name, res, secs in rows:
            print(f"| {name} | {res[0.05]:.1%} | {res[0.02]:.1%} | {secs:.3f} |")
        store.close()


if __name__ == "__main__":
    main()
