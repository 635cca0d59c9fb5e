"""Does the evidence shown before the answer hold the answer? Real questions, two scales.

    nice -n 10 .venv/bin/python -m benchmarks.evidence_bench [--split dev|test]
        [--scale articles|book|both] [--article-budget 1500] [--home DIR]
        [--data realqa|covidqa]

Data: the real-text benchmark (benchmarks.realqa: human HotpotQA questions over Wikipedia
paragraphs, rendered to PDF and added like `ctxchat add`). Per question the context is
selected as the ask flow selects it for a local reader (whole sentences; 2,000 tokens of the
348-page book, or --article-budget tokens of a 5k-10k token article), then 1-3 evidence
sentences are picked from it. Reported: the share of questions whose evidence holds the
gold answer string, for ctxchat's picker and for simpler ones on the same candidates
(the top-ranked sentence; the top three; the old rule: the top one plus runners-up within
60% of its score; the picker before the passage leads), and the ceiling: the context
itself holds the answer. Beside it: the share when the section title printed above each
sentence counts too (the chat shows "p. 12 · 3 Tosca" with every sentence, and a two-hop
answer is often that passage's name), how many sentences are shown per question, and how
many of them are from none of the question's gold paragraphs (off the topic). Choose
settings on --split dev; run --split test once. --data covidqa: the second genre
(benchmarks/covidqa.py, human questions over scientific papers; articles only, and "off
the topic" there means outside the section of the annotated paragraph).
"""

from __future__ import annotations

import argparse
import html
import os
import re
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

BOOK_BUDGET = 2000
ARTICLE_BUDGET = 1500


@dataclass
class Case:
    question: str
    answer: str
    context_hit: bool
    candidates: list  # engines.answer.evidence.Candidate, best-ranked first
    gold: frozenset[str] = frozenset()  # the titles of its gold paragraphs, lowercased


_NUMBERING = re.compile(r"^\s*[\d.]+\s+")


def on_topic(candidate, gold: frozenset[str]) -> bool:
    """The sentence is in one of the question's gold paragraphs (its section's title)."""
    return _NUMBERING.sub("", candidate.section[1] or "").strip().lower() in gold


def contains(text: str, answer: str) -> bool:
    from benchmarks.realqa import normalise

    return normalise(answer).lower() in normalise(text).lower()


def collect(
    store, doc_id: int, questions: Sequence, budget: int, gold: dict | None = None
) -> list[Case]:
    """The context and the evidence candidates for each question, as the ask flow has them."""
    from ctxchat.engines.answer.evidence import candidates
    from ctxchat.engines.pipeline import compress_documents

    cases = []
    for q in questions:
        compressed = compress_documents(store, [doc_id], q.question, budget=budget, prune=False)
        sent = "\n".join(s.source or s.text for s in compressed.spans or []) or compressed.text
        found = candidates(store, [doc_id], q.question, within=sent)
        titles = frozenset(html.unescape(t).strip().lower() for t in (gold or {}).get(q.id, ()))
        cases.append(Case(q.question, q.answer, contains(sent, q.answer), found, titles))
    return cases


def top(n: int) -> Callable:
    return lambda found, question: found[:n]


def old_rule(found, question):
    """The picker before: the top sentence plus runners-up within 60% of its score."""
    return [c for k, c in enumerate(found[:3]) if k == 0 or c.rank >= 0.6]


# The picker's settings before the passage leads (2026-12-02, 14:30 UTC), for comparison.
PREVIOUS = {
    "lead_bonus": 0.0,
    "residual_min_words": 1,
    "min_letters": 1,
    "count_years": True,
    "other_passage_bonus": 0.0,
    "third_floor": 0.0,
    "type_in_first": True,
    "other_type_bonus": 0.5,
    "first_cosine_share": 0.0,
}
# Before "what"/"which" questions lost the answer-type bonus (2026-12-02, 22:50 UTC).
NAMES_FOR_ANY = {"other_type_bonus": 0.5, "first_cosine_share": 0.0}


def pickers() -> dict[str, Callable]:
    from ctxchat.engines.answer.evidence import pick

    return {
        "top-ranked sentence": top(1),
        "top 3 ranked": top(3),
        "old rule (top + runners-up >= 60%)": old_rule,
        "previous pick (2026-12-02 third round)": lambda found, q: pick(found, q, **PREVIOUS),
        "pick with passage leads, no other-passage penalty (2026-12-02 14:30)": lambda found, q: (
            pick(
                found,
                q,
                other_passage_bonus=0.0,
                third_floor=0.0,
                type_in_first=True,
                **NAMES_FOR_ANY,
            )
        ),
        "pick with picked passages first, always three (2026-12-02 15:12)": lambda found, q: pick(
            found, q, third_floor=0.0, type_in_first=True, **NAMES_FOR_ANY
        ),
        "pick with the third floor, answer type in the first slot (2026-12-02 16:00)": (
            lambda found, q: pick(found, q, type_in_first=True, **NAMES_FOR_ANY)
        ),
        "pick with best-ranked first, any name as the answer type (2026-12-02 17:00)": (
            lambda found, q: pick(found, q, **NAMES_FOR_ANY)
        ),
        "pick before the first sentence had to be about the question (2026-12-03)": (
            lambda found, q: pick(found, q, first_cosine_share=0.0)
        ),
        "ctxchat pick (best-ranked first if about the question, answer type when one is "
        "asked, second hop, leads, picked passages first, third floor)": (
            lambda found, q: pick(found, q)
        ),
    }


@dataclass
class Row:
    name: str
    hits: int
    shown: int = 0  # sentences shown, all questions
    off_topic: int = 0  # of them, from none of the question's gold paragraphs
    with_titles: int = 0  # the answer in a sentence or the section title shown above it


def table(cases: Sequence[Case]) -> list[Row]:
    rows = []
    for name, picker in pickers().items():
        row = Row(name, 0)
        for k in cases:
            picked = picker(k.candidates, k.question)
            shown = [c.evidence().text for c in picked]  # with what an open sentence leads into
            row.hits += any(contains(t, k.answer) for t in shown)
            row.with_titles += any(
                contains(t, k.answer) or contains(c.section[1] or "", k.answer)
                for t, c in zip(shown, picked, strict=True)
            )
            row.shown += len(picked)
            row.off_topic += sum(not on_topic(c, k.gold) for c in picked)
        rows.append(row)
    rows.append(Row("ceiling: the context holds the answer", sum(k.context_hit for k in cases)))
    return rows


def run(
    store, docs, split: str, budget_of: Callable[[int], int], folder: Path, gold: dict
) -> list[Case]:
    from benchmarks.realqa import document_text, ingest, readable

    cases: list[Case] = []
    for doc in docs:
        row = ingest(store, doc, folder)
        questions = list(readable(doc.split(split), document_text(store, row.id)))
        cases += collect(store, row.id, questions, budget_of(row.tokens), gold)
    return cases


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--split", default="dev", choices=("dev", "test"))
    parser.add_argument("--scale", default="both", choices=("articles", "book", "both"))
    parser.add_argument("--article-budget", type=int, default=ARTICLE_BUDGET)
    parser.add_argument("--home", help="keep the library, PDFs and embeddings here")
    parser.add_argument("--data", default="realqa", choices=("realqa", "covidqa"))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(args.home or tmp)
        home.mkdir(parents=True, exist_ok=True)
        os.environ["CTXCHAT_HOME"] = str(home)
        from benchmarks.realqa_bench import load_data
        from ctxchat.engines.store.db import Store

        data = load_data(args.data)
        with Store() as store:
            scales = ("articles", "book") if args.scale == "both" else (args.scale,)
            scales = ("articles",) if args.data == "covidqa" else scales
            for scale in scales:
                t = time.perf_counter()
                if scale == "book":
                    cases = run(
                        store, [data.book()], args.split, lambda _: BOOK_BUDGET, home, data.gold
                    )
                    label = f"the 348-page book, {BOOK_BUDGET:,} tokens"
                else:
                    budget = args.article_budget
                    cases = run(
                        store,
                        data.articles(args.split),
                        args.split,
                        lambda _, b=budget: b,
                        home,
                        data.gold,
                    )
                    label = f"articles, {budget:,} tokens"
                print(
                    f"\n{label}, {args.split} split, {len(cases)} questions "
                    f"({time.perf_counter() - t:.0f} s)"
                )
                n = max(len(cases), 1)
                print(
                    "| evidence picker | holds the gold answer | or its section title shown "
                    "| sentences per question | off the topic per question |"
                    "\n|---|---:|---:|---:|---:|"
                )
                for r in table(cases):
                    extra = (
                        f" {r.with_titles}/{len(cases)} | {r.shown / n:.2f} | "
                        f"{r.off_topic / n:.2f} |"
                        if r.shown
                        else " | | |"
                    )
                    print(f"| {r.name} | {r.hits}/{len(cases)} ({r.hits / n:.0%}) |{extra}")


if __name__ == "__main__":
    main()
