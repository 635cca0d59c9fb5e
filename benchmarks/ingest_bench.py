"""Ingest speed and memory: pages/s and peak memory on generated 250- and 1,000-page PDFs.

    .venv/bin/python -m benchmarks.ingest_bench [--pages 250 1000]
    .venv/bin/python -m benchmarks.ingest_bench --tables --scans --compare --odd --ocr-pages 100

The second form measures structure instead (benchmarks/structure_bench.py): table-cell
questions at a 2% budget, OCR of 200-dpi scans, ctxchat against pymupdf4llm, odd PDFs
(damaged, encrypted, poster-sized, image-only; each in its own process), OCR pages/s.

Each size is ingested in a fresh child process (so peaks do not mix) into a temporary
CTXCHAT_HOME: once plainly for time and peak RSS, once under tracemalloc for the peak Python
heap. Memory that does not grow with the page count shows that pages stream into the store.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _rss_mib() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def child(pdf: Path, trace: bool) -> dict[str, float]:
    """Ingest `pdf` once; runs in its own process."""
    import tracemalloc

    from ctxchat.engines.ingest.library import add_path
    from ctxchat.engines.store.db import Store

    with tempfile.TemporaryDirectory() as home:
        os.environ["CTXCHAT_HOME"] = home
        store = Store()
        # Load the tokenizers before measuring: a one-off cost, not per page.
        from ctxchat.engines.ingest.readers import Page
        from ctxchat.engines.ingest.segment import segment_pages

        list(segment_pages([Page(1, "Warm up the tokenizers. " * 40)]))
        base = _rss_mib()
        if trace:
            tracemalloc.start()
        start = time.perf_counter()
        result = add_path(store, pdf)
        seconds = time.perf_counter() - start
        heap = tracemalloc.get_traced_memory()[1] / 2**20 if trace else float("nan")
        store.close()
    return {
        "pages": result.pages,
        "segments": result.document.segments,
        "tokens": result.document.tokens,
        "seconds": seconds,
        "pages_per_s": result.pages / seconds,
        "base_rss_mib": base,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "peak_heap_mib": heap,
    }


def _run_child(pdf: Path, trace: bool) -> dict[str, float]:
    cmd = [sys.executable, "-m", "benchmarks.ingest_bench", "--child", str(pdf)]
    out = subprocess.run(
        cmd + (["--trace"] if trace else []), check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, nargs="+", default=[250, 1000])
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--tables", action="store_true", help="table-cell questions at 2%%")
    parser.add_argument("--scans", action="store_true", help="OCR word recall, facts at 2%%")
    parser.add_argument("--compare", action="store_true", help="ctxchat against pymupdf4llm")
    parser.add_argument("--ocr-pages", type=int, help="OCR speed on a scan of this many pages")
    parser.add_argument("--odd", action="store_true", help="damaged/encrypted/huge/image PDFs")
    parser.add_argument("--ocr-dpi", action="store_true", help="OCR at 200 vs 300 dpi")
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.trace)))
        return 0
    if args.tables or args.scans or args.compare or args.ocr_pages or args.odd or args.ocr_dpi:
        return _structure(args)

    from devkit.docgen import long_pdf

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.pages:
            pdf = Path(tmp) / f"long-{n}.pdf"
            long_pdf(pdf, n)
            timed = _run_child(pdf, trace=False)
            traced = _run_child(pdf, trace=True)
            rows.append(
                {
                    **timed,
                    "peak_heap_mib": traced["peak_heap_mib"],
                    "file_mib": pdf.stat().st_size / 2**20,
                }
            )
    print(
        "| pages | file MiB | segments | seconds | pages/s | RSS after imports MiB "
        "| peak RSS MiB | peak RSS - base MiB | peak Python heap MiB |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['pages']:,} | {r['file_mib']:.1f} | {r['segments']:,} | {r['seconds']:.1f} "
            f"| {r['pages_per_s']:.0f} | {r['base_rss_mib']:.0f} | {r['peak_rss_mib']:.0f} "
            f"| {r['peak_rss_mib'] - r['base_rss_mib']:.0f} | {r['peak_heap_mib']:.1f} |"
        )
    return 0


def _structure(args: argparse.Namespace) -> int:
    from benchmarks import structure_bench as bench

    if args.tables:
        print("| table style | selector | questions | budget (2%) | row with header kept |")
        print("|---|---|---:|---:|---:|")
        for r in bench.table_questions():
            print(
                f"| {r['style']} | {r['method']} | {r['questions']} | {r['budget']} "
                f"| {r['survival']:.1%} |",
                flush=True,
            )
    if args.scans:
        r = bench.scanned_pages()
        print(
            f"scans: {r['pages']} pages at 200 dpi, words recovered {r['word_recall']:.2%}, "
            f"facts kept at 2% ({r['budget']} tokens) {r['fact_survival']:.0%} of "
            f"{r['facts']}, OCR {r['ocr_pages_per_s']:.2f} pages/s",
            flush=True,
        )
    if args.compare:
        rows = bench.compare()
        keys = [k for k in rows[0] if k != "extractor"]
        print("| extractor | " + " | ".join(keys) + " |")
        print("|---|" + "---:|" * len(keys))
        for r in rows:
            cells = [f"{r[k]:.3g}" if isinstance(r[k], float) else str(r[k]) for k in keys]
            print(f"| {r['extractor']} | " + " | ".join(cells) + " |", flush=True)
    if args.ocr_dpi:
        print("| scanned at dpi | OCR at dpi | words recovered | CPU s a page |")
        print("|---:|---:|---:|---:|")
        for r in bench.ocr_resolution():
            print(
                f"| {r['scan_dpi']} | {r['ocr_dpi']} | {r['word_recall']:.1%} "
                f"| {r['cpu_s_per_page']:.2f} |",
                flush=True,
            )
    if args.odd:
        print("| PDF | outcome | seconds | message |")
        print("|---|---|---:|---|")
        for r in bench.odd_pdfs():
            message = str(r["message"]).replace("|", "\\|")
            print(f"| {r['file']} | {r['outcome']} | {r['seconds']:.1f} | {message} |", flush=True)
    if args.ocr_pages:
        r = bench.ocr_speed(args.ocr_pages)
        print(
            f"OCR: {r['pages']} scanned pages ({r['ocr_pages']} read by OCR) in "
            f"{r['seconds']:.0f} s: {r['pages_per_s']:.2f} pages/s; "
            f"{r['cpu_s_per_page']:.2f} CPU s a page ({1 / r['cpu_s_per_page']:.2f} pages/s "
            "on one free core)",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
