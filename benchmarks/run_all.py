"""Run every benchmark in turn (`make bench`). Each prints its own table for benchmarks/README.md.

The benchmarks are independent processes so one's memory or threads never skew the next.
"""

from __future__ import annotations

import subprocess
import sys
import time

BENCHMARKS = [
    "benchmarks.ingest_bench",
    "benchmarks.compressor_bench",
    "benchmarks.word_survival_bench",
    "benchmarks.realqa_bench",
    "benchmarks.evidence_bench",
    "benchmarks.realqa_bench --data covidqa",
    "benchmarks.evidence_bench --data covidqa",
    "benchmarks.manual_check",
    "benchmarks.threads_load_bench",
    "benchmarks.selection_bench",
    "benchmarks.answer_bench",
]


def main(argv: list[str]) -> int:
    chosen = [b for b in BENCHMARKS if not argv or any(a in b for a in argv)]
    failed = []
    for name in chosen:
        print(f"== {name}", flush=True)
        start = time.perf_counter()
        code = subprocess.call([sys.executable, "-m", *name.split()])
        print(f"== {name}: exit {code} in {time.perf_counter() - start:.0f} s", flush=True)
        if code:
            failed.append(name)
    if failed:
        print("failed: " + ", ".join(failed), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
