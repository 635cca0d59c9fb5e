"""A question's embedding: torch + transformers (the old path) vs the NumPy MiniLM.

    nice -n 10 .venv/bin/python -m benchmarks.query_embed_bench [--repeats 3]
        [--pdf BOOK.pdf --home CTXCHAT_HOME [--ranking 40]]

Part 1: a fresh process imports the embedder and embeds one question, alternating the torch
path (main's `embed()`: Embedder().encode, transformers' BertModel in bf16/fp32) and the
NumPy path (`embed()` now); wall and CPU seconds of the whole child process.
Part 2 (--pdf/--home, a home that already holds the PDF): `ctxchat ask BOOK Q --json` end to
end, alternating the CLI with the NumPy path switched off (main's behaviour) and on; the
saved KV states are removed before each run, as in benchmarks.ask_latency_bench.
Part 3 (--ranking N): for N of the real-text benchmark's book questions, the selected
context (budget 800, select only, as `ask` sends local models) and the dense top 20 with
the question embedded by torch's default precision vs by NumPy fp32.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

QUESTION = "When was the computer scientist Les Earnest born?"
QUESTIONS = [
    "Who created the series That's My Bush!?",
    "How many rooms does the highest hotel tower in Iran have?",
    QUESTION,
    "Which motorcycle company did Rex merge with in 1922?",
]
TORCH_EMBED = (
    "from ctxchat.engines.select.embeddings import default_embedder\n"
    f"default_embedder().encode([{QUESTION!r}])"
)
NUMPY_EMBED = f"from ctxchat.engines.select.embeddings import embed\nembed([{QUESTION!r}])"
# main's `ctxchat`: every embed() goes through torch.
CLI_TORCH = (
    "import sys\nfrom ctxchat.engines.select import embeddings\n"
    "embeddings._small_batch_model = lambda n: None\n"
    "from ctxchat.app.cli import main\nsys.argv[0] = 'ctxchat'\nsys.exit(main())"
)
CLI_NUMPY = (
    "import sys\nfrom ctxchat.app.cli import main\nsys.argv[0] = 'ctxchat'\nsys.exit(main())"
)


def timed_child(args: list[str]) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    out = subprocess.run(args, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if out.returncode != 0:
        raise SystemExit(f"{args[:3]} failed: {out.stderr.strip()[-400:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def report(title: str, results: dict[str, list[tuple[float, float]]]) -> None:
    print(f"\n{title}")
    print("| path | runs | median wall s | median CPU s |")
    print("|---|---:|---:|---:|")
    for name, runs in results.items():
        wall = statistics.median(r[0] for r in runs)
        cpu = statistics.median(r[1] for r in runs)
        print(f"| {name} | {len(runs)} | {wall:.2f} | {cpu:.2f} |")
    print(f"load average after: {os.getloadavg()[0]:.1f}", flush=True)


def import_and_embed(repeats: int) -> None:
    results: dict[str, list[tuple[float, float]]] = {"torch": [], "numpy": []}
    for r in range(repeats):
        order = [("torch", TORCH_EMBED), ("numpy", NUMPY_EMBED)]
        for name, code in order if r % 2 == 0 else reversed(order):
            results[name].append(timed_child([sys.executable, "-c", code]))
    report("import + one question's embedding, fresh process (python -c ...):", results)


def ask_end_to_end(pdf: Path, home: Path, repeats: int) -> None:
    results: dict[str, list[tuple[float, float]]] = {"torch (main)": [], "numpy": []}
    order = [("torch (main)", CLI_TORCH), ("numpy", CLI_NUMPY)]
    for r in range(repeats):
        for q in QUESTIONS:
            for name, code in order if r % 2 == 0 else reversed(order):
                shutil.rmtree(home / "cache" / "kv", ignore_errors=True)
                args = [sys.executable, "-c", code, "ask", str(pdf), q, "--json"]
                results[name].append(timed_child(args))
    report(f"`ctxchat ask --json` end to end on {pdf.name}:", results)


def contexts(doc_id: int, questions: list[str]) -> tuple[list[str], list[set[int]]]:
    """Each question's context (budget 800, select only) and its dense top-20 segments."""
    import numpy as np

    from ctxchat.engines.pipeline import compress_documents
    from ctxchat.engines.select.embeddings import embed_segments
    from ctxchat.engines.select.selector import query_vector
    from ctxchat.engines.store.db import Store

    query_vector.cache_clear()
    texts, tops = [], []
    with Store() as store:
        segments = list(store.segments(doc_id))
        vectors = embed_segments(store, segments)
        for q in questions:
            texts.append(compress_documents(store, [doc_id], q, budget=800, prune=False).text)
            tops.append({int(i) for i in np.argsort(-(vectors @ query_vector(q)))[:20]})
    return texts, tops


def ranking(pdf: Path, limit: int) -> None:
    from benchmarks.realqa import load
    from ctxchat.engines.ingest.library import ensure_document
    from ctxchat.engines.select.embeddings import default_embedder
    from ctxchat.engines.store.db import Store

    questions = [q.question for q in load().book().questions][:limit]
    with Store() as store:
        doc_id = ensure_document(store, pdf).id
    numpy_texts, numpy_tops = contexts(doc_id, questions)
    default_embedder()._load()  # from here on embed() runs torch, as on main
    torch_texts, torch_tops = contexts(doc_id, questions)
    same = sum(a == b for a, b in zip(numpy_texts, torch_texts, strict=True))
    overlap = [len(a & b) / 20 for a, b in zip(numpy_tops, torch_tops, strict=True)]
    print(
        f"\nranking, {len(questions)} book questions, torch {default_embedder().precision} "
        f"vs numpy fp32 question vectors: identical context for {same}/{len(questions)}; "
        f"dense top-20 overlap mean {statistics.mean(overlap):.3f}, min {min(overlap):.2f}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--pdf", type=Path)
    ap.add_argument("--home", type=Path, help="a CTXCHAT_HOME that already holds the PDF")
    ap.add_argument("--ranking", type=int, default=0, help="compare N book questions' contexts")
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    print(f"load average before: {os.getloadavg()[0]:.1f}", flush=True)
    import_and_embed(args.repeats)
    if args.pdf and args.home:
        os.environ["CTXCHAT_HOME"] = str(args.home)
        ask_end_to_end(args.pdf.resolve(), args.home, args.repeats)
        if args.ranking:
            ranking(args.pdf.resolve(), args.ranking)


if __name__ == "__main__":
    main()
