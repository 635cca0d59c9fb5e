"""What `ctxchat ask` gives a user, measured: the whole flow (engines.conversation) against
pasting the full document, with the bundled SmolLM2-135M (llama.cpp, greedy).

    nice -n 10 .venv/bin/python -m benchmarks.ask_flow_bench [--docs 8] [--questions 2]

Per question: right (the gold answer string is in the answer), flagged (the grounding check
marks it "not found in the document"), looping (a sentence of the answer said more than
twice), evidence shown holds the gold answer, seconds end to end. Reported: accuracy, the
share of wrong answers flagged and of right answers flagged, looping answers, the median
seconds per question, for ctxchat's context and for the full document (cut to n_ctx).

The weak-evidence threshold is chosen on a dev split only: questions of one set of
documents, asked of their own document (answerable) and of another one (not answerable);
the threshold that best separates the two by the best evidence score is reported and is
what engines/answer/evidence.py uses. The test split (other documents, another seed) is run once.

Data: the real-text benchmark (benchmarks.realqa: human HotpotQA questions over Wikipedia
paragraphs, articles of 3k-10k tokens rendered to PDF), dev split for the threshold, test
split for the table.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

N_CTX = 4096
ANSWER_TOKENS = 64
BUDGET = 300  # cl100k tokens of context: a few sentences, read fast by a 135M model


@dataclass
class Doc:
    title: str
    text: str
    questions: list[tuple[str, str]]


def contains_answer(answer: str, gold: str) -> bool:
    norm = " ".join(answer.lower().split())
    return gold.lower() in norm or gold.lower().replace(",", "") in norm.replace(",", "")


def looping(answer: str) -> bool:
    """A sentence (4+ words) said more than twice."""
    sentences = [
        " ".join(re.findall(r"\w+", s.lower())) for s in re.split(r"(?<=[.!?])\s+", answer)
    ]
    counts = Counter(s for s in sentences if len(s.split()) >= 4)
    return any(n > 2 for n in counts.values())


@dataclass
class Tally:
    name: str
    right: list[bool] = field(default_factory=list)
    flagged: list[bool] = field(default_factory=list)
    loops: list[bool] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    evidence_hit: list[bool] = field(default_factory=list)

    def row(self) -> str:
        n = len(self.right)
        right = sum(self.right)
        wrong_flagged = [f for r, f in zip(self.right, self.flagged, strict=True) if not r]
        right_flagged = [f for r, f in zip(self.right, self.flagged, strict=True) if r]
        share = lambda xs: f"{sum(xs)}/{len(xs)}" if xs else "-"  # noqa: E731
        evidence = share(self.evidence_hit) if self.evidence_hit else "-"
        return (
            f"| {self.name} | {right}/{n} ({right / max(n, 1):.0%}) | {share(wrong_flagged)} | "
            f"{share(right_flagged)} | {sum(self.loops)} | {evidence} | "
            f"{statistics.median(self.seconds):.1f} |"
        )


def load_docs(store, split: str, limit: int, folder: Path) -> tuple[list[Doc], list[int]]:
    """The real-text benchmark's articles of one split (benchmarks.realqa: HotpotQA
    questions over Wikipedia paragraphs), rendered to PDF and added like `ctxchat add`."""
    from benchmarks import realqa

    docs, ids = [], []
    for article in realqa.load().articles(split)[:limit]:
        row = realqa.ingest(store, article, folder)
        qs = [(q.question, q.answer) for q in article.questions]
        docs.append(Doc(article.name, realqa.document_text(store, row.id), qs))
        ids.append(row.id)
    return docs, ids


def choose_threshold(store, docs: list[Doc], ids: list[int]) -> tuple[float, str]:
    """On the dev split: the evidence score that best tells answerable from not."""
    from ctxchat.engines.answer.evidence import best_evidence

    scores: list[tuple[float, bool]] = []
    for k, (doc, doc_id) in enumerate(zip(docs, ids, strict=True)):
        other = ids[(k + 1) % len(ids)]
        for question, _ in doc.questions[:4]:
            own = best_evidence(store, [doc_id], question)
            far = best_evidence(store, [other], question)
            scores.append((max((e.score for e in own), default=0.0), True))
            scores.append((max((e.score for e in far), default=0.0), False))
    best = (0.0, 0.0)
    for t in sorted({round(s, 2) for s, _ in scores}):
        answerable_kept = sum(s >= t for s, a in scores if a) / sum(a for _, a in scores)
        other_weak = sum(s < t for s, a in scores if not a) / sum(not a for _, a in scores)
        balanced = (answerable_kept + other_weak) / 2
        if balanced > best[1]:
            best = (t, balanced)
    return best[0], f"balanced accuracy {best[1]:.0%} on {len(scores)} dev questions"


def run_test(
    store, docs: list[Doc], ids: list[int], args: argparse.Namespace, threshold: float
) -> list[Tally]:
    """Every test question through the flow; then the first args.full ones from the whole
    document (cut to n_ctx, as pasting it would be), next to the flow on just those."""
    from ctxchat.engines.answer.conversation import AskSettings, Conversation, ReaderChoice
    from ctxchat.engines.answer.grounding import check_grounding
    from ctxchat.engines.answer.prompt import answer_stream

    settings = AskSettings(
        reader=ReaderChoice(n_ctx=N_CTX),
        budget=args.budget,
        max_tokens=ANSWER_TOKENS,
        weak_evidence=threshold,
    )
    flow = Tally(f"ctxchat ask ({args.budget} tokens), all test questions")
    full = Tally("full document (cut to n_ctx)")
    same = Tally(f"ctxchat ask ({args.budget} tokens), the same questions")
    conversation = Conversation(store, settings=settings)
    llm = conversation.reader()
    asked = [(d, i, q, g) for d, i in zip(docs, ids, strict=True) for q, g in d.questions]
    asked = asked[: args.limit]
    for _doc, doc_id, question, gold in asked:
        conversation.doc_ids = [doc_id]
        conversation.new_chat()
        llm.reset()  # every question read cold
        t = time.perf_counter()
        result = conversation.ask(question).run()
        flow.seconds.append(time.perf_counter() - t)
        flow.right.append(contains_answer(result.answer, gold))
        flow.flagged.append(result.mark is not None)
        flow.loops.append(looping(result.answer))
        flow.evidence_hit.append(any(contains_answer(e.text, gold) for e in result.evidence))
        print(
            f"  {len(flow.right)}: ctxchat {'right' if flow.right[-1] else 'wrong'}"
            f"{' flagged' if flow.flagged[-1] else ''}{' weak' if result.weak_evidence else ''}"
            f" {flow.seconds[-1]:.1f}s | {result.answer[:100]!r}",
            flush=True,
        )
    # The same questions from the whole document: minutes each on a small CPU.
    for k, (doc, _, question, gold) in enumerate(asked[: args.full]):
        for name in ("right", "flagged", "loops", "seconds", "evidence_hit"):
            getattr(same, name).append(getattr(flow, name)[k])
        llm.reset()
        t = time.perf_counter()
        answer = answer_stream(llm, doc.text, question, max_tokens=ANSWER_TOKENS).run()
        full.seconds.append(time.perf_counter() - t)
        full.right.append(contains_answer(answer.text, gold))
        full.flagged.append(not check_grounding(answer.text, doc.text).supported)
        full.loops.append(looping(answer.text))
        print(
            f"  full {k + 1}: {'right' if full.right[-1] else 'wrong'} "
            f"{full.seconds[-1]:.1f}s | {answer.text[:100]!r}",
            flush=True,
        )
    conversation.close()
    return [flow, same, full] if full.right else [flow]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dev-docs", type=int, default=20, help="dev articles (threshold)")
    parser.add_argument("--docs", type=int, default=10, help="test articles")
    parser.add_argument("--questions", type=int, default=5, help="questions per article")
    parser.add_argument("--full", type=int, default=6, help="questions also asked in full")
    parser.add_argument("--budget", type=int, default=BUDGET)
    parser.add_argument("--limit", type=int, default=50, help="test questions")
    parser.add_argument("--threshold", type=float, help="skip the dev split and use this threshold")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as home:
        os.environ["CTXCHAT_HOME"] = home
        from ctxchat.engines.store.db import Store

        folder = Path(home) / "pdf"
        folder.mkdir()
        t = time.perf_counter()
        with Store() as store:
            dev, dev_ids = load_docs(store, "dev", 0 if args.threshold else args.dev_docs, folder)
            test, test_ids = load_docs(store, "test", args.docs, folder)
            print(
                f"{len(dev)} dev and {len(test)} test articles added and embedded in "
                f"{time.perf_counter() - t:.0f} s",
                flush=True,
            )
            threshold, how = (
                (args.threshold, "given")
                if args.threshold is not None
                else choose_threshold(store, dev, dev_ids)
            )
            print(
                f"weak-evidence threshold from the dev split: {threshold:.2f} ({how})", flush=True
            )
            tallies = run_test(store, test, test_ids, args, threshold)
    print(
        "\n| context | right | wrong answers flagged | right answers flagged | looping "
        "| evidence holds the answer | median s/question |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for tally in tallies:
        print(tally.row())
    print(f"\nmachine: {os.cpu_count()} cores; data: benchmarks/data/realqa.jsonl.gz (test split)")


if __name__ == "__main__":
    main()
