"""Per-page extraction cost before and after tables/headings, interleaved in one process.

    .venv/bin/python -m benchmarks.page_cost_bench [--pages 250] [--rounds 5]

On a shared machine absolute times drift; the ratio of two paths measured in alternation
does not. "plain" is the extraction before tables and headings (lines, running
headers/footers, reading order, hyphenation); "ctxchat" is the current one.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path


def _plain(doc, running) -> None:  # noqa: ANN001 - PyMuPDF objects
    from ctxchat.engines.ingest import layout
    from ctxchat.engines.ingest import readers as ingest

    for page in doc:
        info = page.get_text("dict", flags=ingest._TEXT_FLAGS)
        lines = running.strip(ingest._page_lines(info)[0])
        blocks = layout.reading_order(layout.group_blocks(lines))
        "\n\n".join(layout.join_lines([ln[4] for ln in b]) for b in blocks)


def _current(doc, running) -> None:  # noqa: ANN001
    from ctxchat.engines.ingest import readers as ingest

    for page in doc:
        info, _, _ = ingest._page_dict(page, None)
        ingest._page_text(info, running)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=250)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    import pymupdf

    from ctxchat.engines.ingest import layout
    from ctxchat.engines.ingest import readers as ingest
    from devkit import reportgen
    from devkit.docgen import long_pdf

    with tempfile.TemporaryDirectory() as tmp:
        docs = {"text": Path(tmp) / "long.pdf", "tables": Path(tmp) / "tables.pdf"}
        long_pdf(docs["text"], args.pages)
        reportgen.table_report(docs["tables"], min(args.pages, 60))
        print("| document | pages | plain pages/s | ctxchat pages/s | ctxchat / plain |")
        print("|---|---:|---:|---:|---:|")
        for name, path in docs.items():
            times: dict[str, list[float]] = {"plain": [], "ctxchat": []}
            with pymupdf.open(path) as doc:
                running = layout.RunningLines()
                ingest._learn_running_lines(doc, running)
                for _ in range(args.rounds):
                    for label, run in (("plain", _plain), ("ctxchat", _current)):
                        start = time.perf_counter()
                        run(doc, running)
                        times[label].append(time.perf_counter() - start)
                n = doc.page_count
            plain = n / statistics.median(times["plain"])
            current = n / statistics.median(times["ctxchat"])
            print(f"| {name} | {n} | {plain:.0f} | {current:.0f} | {current / plain:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
