"""Another genre: a real technical manual (the libtasn1 reference, 36 pages) and 24 questions.

    nice -n 10 .venv/bin/python -m benchmarks.manual_check [--pdf PATH] [--home DIR]

The real-text benchmark (benchmarks.realqa_bench) is all Wikipedia prose, so every setting
of the selector and the evidence picker was chosen on one genre. This check asks a reference
manual full of identifiers (ASN1_ELEMENT_NOT_FOUND, asn1_delete_structure2), signatures and
short "Returns:" sentences what a programmer would ask it, and reports the same measures as
the headline benchmarks: the answer string survives selection at 2% and 5% of the document,
beside the baselines, and the 1-3 evidence sentences hold it.

The manual is the PDF Debian's libtasn1-doc package installs (GFDL 1.3, not copied here);
the check is skipped when it is missing. The 24 questions and answers
(benchmarks/data/libtasn1_questions.jsonl) were written by an AI assistant that read the
manual's text and never saw ctxchat's output; each answer is a string of the manual. They
are a small sanity check of how the settings carry to another genre, not a headline, and
nothing is chosen on them alone.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

MANUAL = Path("/usr/share/doc/libtasn1-doc/libtasn1.pdf")
QUESTIONS = Path(__file__).parent / "data" / "libtasn1_questions.jsonl"
SHARES = (0.02, 0.05)
METHODS = ("bm25", "dense", "hybrid", "ctxchat")


def holds(text: str, answer: str) -> bool:
    return " ".join(answer.split()) in " ".join(text.split())


def shows(evidence: list, answer: str) -> bool:
    """The answer is in what the chat shows of the evidence: a sentence, or the section
    title above it ("asn1 delete structure2" names asn1_delete_structure2: the PDF's
    headings draw underscores as spaces)."""
    spaced = answer.replace("_", " ")
    return any(holds(e.text, answer) or holds(e.section or "", spaced) for e in evidence)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pdf", type=Path, default=MANUAL, help="the libtasn1 manual")
    parser.add_argument("--home", type=Path, help="keep the library here")
    parser.add_argument("--misses", action="store_true", help="print the evidence misses")
    args = parser.parse_args(argv)
    if not args.pdf.exists():
        print(f"skipped: {args.pdf} is not installed (Debian: apt install libtasn1-doc)")
        return 0
    questions = [json.loads(line) for line in QUESTIONS.read_text().splitlines() if line]
    with tempfile.TemporaryDirectory() as tmp:
        home = args.home or Path(tmp)
        home.mkdir(parents=True, exist_ok=True)
        os.environ["CTXCHAT_HOME"] = str(home)
        from ctxchat.engines.answer.evidence import candidates, pick
        from ctxchat.engines.ingest.library import ensure_document
        from ctxchat.engines.pipeline import warm_document
        from ctxchat.engines.select.selector import SelectorOptions, select
        from ctxchat.engines.store.db import Store

        with Store() as store:
            doc = ensure_document(store, args.pdf)
            warm_document(store, doc.id)
            print(
                f"{doc.name}: {doc.pages} pages, {doc.tokens:,} tokens, {len(questions)} questions"
            )
            rows = []
            for method in METHODS:
                cells = []
                for share in SHARES:
                    budget = int(doc.tokens * share)
                    options = SelectorOptions(method=method)
                    kept = sum(
                        holds(
                            select(store, [doc.id], q["question"], budget, options=options).text,
                            q["answer"],
                        )
                        for q in questions
                    )
                    cells.append(f"{kept}/{len(questions)}")
                rows.append((method, cells))
            shown = top3 = 0
            for q in questions:
                found = candidates(store, [doc.id], q["question"])
                top3 += shows([c.evidence() for c in found[:3]], q["answer"])
                evidence = [c.evidence() for c in pick(found, q["question"])]
                hit = shows(evidence, q["answer"])
                shown += hit
                if args.misses and not hit:
                    print(f"\nMISS {q['question']!r} -> {q['answer']!r} (p. {q['page']})")
                    for e in evidence:
                        print(f"    p. {e.page} {e.section}: {e.text[:100]}")
    budgets = " | ".join(f"{s:.0%} ({int(doc.tokens * s):,} tokens)" for s in SHARES)
    print(f"\n| selection | {budgets} |\n|---|---:|---:|")
    for method, cells in rows:
        print(f"| {method} | {' | '.join(cells)} |")
    print(
        f"\nevidence shows the answer (its sentences or their section titles): picker "
        f"{shown}/{len(questions)}, the top three ranked {top3}/{len(questions)}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
