"""How many of a PDF's sentences did reading cut in two? Counted over whole real PDFs.

    .venv/bin/python -m benchmarks.broken_sentences FILE.pdf [FILE.pdf ...]

Each file is read and segmented as `ctxchat add` does (nothing is stored). Per file:
pages, segments, and the segments that open in lower case: a sentence starts with a
capital, so such a segment is nearly always the second half of one that a line, column or
page break cut (a few are list items, table rows or formulas). Run it on the same files
before and after a reader change (a git worktree of the older commit) to see what moved.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def count(path: Path) -> tuple[int, int, int]:
    """(pages, segments, segments opening in lower case) of one file."""
    from ctxchat.engines.ingest.readers import read_document
    from ctxchat.engines.ingest.segment import segment_pages

    pages = list(read_document(path).pages())
    segments = [s.text for s in segment_pages(pages)]
    broken = sum(1 for s in segments if s[:1].islower())
    return len(pages), len(segments), broken


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args(argv)
    print("| PDF | pages | segments | opening in lower case |")
    print("|---|---:|---:|---:|")
    for path in args.files:
        pages, segments, broken = count(path)
        share = broken / max(1, segments)
        print(f"| {path.name} | {pages} | {segments} | {broken} ({share:.0%}) |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
