"""What `ctxchat ask` gives a user, measured: the whole flow (engines.conversation) against
pasting the full document, with the bundled SmolLM2-135M (llama.cpp, greedy).

    nice -n 10 .venv/bin/python -m benchmarks.ask_flow_bench [--docs 8] [--questions 2]
        [--split dev|test] [--reader-budget=-1,0,300] [--out answers.jsonl] [--home DIR]

--follow-up also asks each question in the chat that holds its article's earlier questions
and answers, as a person asks in the app (interleaved with the fresh chat).
--extractive default,on,off compares extractive answers (engines/answer/extract.py) with
written ones, interleaved the same way; --kinds date+number+place,default compares which
kinds of question get one, --prompt default,span,copy the reader's system prompt (PROMPTS). --model reads with another GGUF.
--reader-budget compares what the reader reads (-1 the whole context, 0 the evidence
sentences, N a selection of N tokens; "default" the app's rule), question by question so
that a shared machine's load hits every setting alike. --out records every answer with the
context the model read, for benchmarks.grounding_bench. --home reuses a prepared library.

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
import json
import os
import re
import statistics
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from itertools import product
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

N_CTX = 4096
# The whole-document answers: as long as the app lets the bundled reader write
# (conversation.SMALL_READER_ANSWER_TOKENS; ctxchat's own answers use the app's default).
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
    cpu: list[float] = field(default_factory=list)  # CPU seconds of this process
    ttft: list[float] = field(default_factory=list)
    prompt: str = "default"  # the system prompt (PROMPTS) the reader was given
    kinds: str = "default"  # the kinds answered by extraction (--kinds)

    def row(self) -> str:
        n = len(self.right)
        right = sum(self.right)
        wrong_flagged = [f for r, f in zip(self.right, self.flagged, strict=True) if not r]
        right_flagged = [f for r, f in zip(self.right, self.flagged, strict=True) if r]
        share = lambda xs: f"{sum(xs)}/{len(xs)}" if xs else "-"  # noqa: E731
        evidence = share(self.evidence_hit) if self.evidence_hit else "-"
        median = lambda xs: f"{statistics.median(xs):.1f}" if xs else "-"  # noqa: E731
        return (
            f"| {self.name} | {right}/{n} ({right / max(n, 1):.0%}) | {share(wrong_flagged)} | "
            f"{share(right_flagged)} | {sum(self.loops)} | {evidence} | "
            f"{median(self.seconds)} | {median(self.ttft)} | {median(self.cpu)} |"
        )


def load_docs(
    store, split: str, limit: int, folder: Path, data: str = "realqa"
) -> tuple[list[Doc], list[int]]:
    """The real-text benchmark's articles of one split (benchmarks.realqa: HotpotQA
    questions over Wikipedia paragraphs; or covidqa: COVID-QA over scientific papers),
    rendered to PDF and added like `ctxchat add`."""
    from benchmarks import realqa
    from benchmarks.realqa_bench import load_data

    docs, ids = [], []
    for article in load_data(data).articles(split)[:limit]:
        row = realqa.ingest(store, article, folder)
        qs = [(q.question, q.answer) for q in article.questions]
        docs.append(Doc(article.name, realqa.document_text(store, row.id), qs))
        ids.append(row.id)
    return docs, ids


def choose_threshold(store, docs: list[Doc], ids: list[int]) -> tuple[float, str]:
    """On the dev split: the evidence score that best tells answerable from not."""
    from ctxchat.engines.answer.evidence import find_evidence

    def closeness(doc_id: int, question: str) -> float:
        found = find_evidence(store, [doc_id], question)  # what the weak check reads
        return max((e.score for e in [*found.shown, *found.nearby]), default=0.0)

    scores: list[tuple[float, bool]] = []
    for k, (doc, doc_id) in enumerate(zip(docs, ids, strict=True)):
        other = ids[(k + 1) % len(ids)]
        for question, _ in doc.questions[:4]:
            scores.append((closeness(doc_id, question), True))
            scores.append((closeness(other, question), False))
    best = (0.0, 0.0)
    for t in sorted({round(s, 2) for s, _ in scores}):
        answerable_kept = sum(s >= t for s, a in scores if a) / sum(a for _, a in scores)
        other_weak = sum(s < t for s, a in scores if not a) / sum(not a for _, a in scores)
        balanced = (answerable_kept + other_weak) / 2
        if balanced > best[1]:
            best = (t, balanced)
    return best[0], f"balanced accuracy {best[1]:.0%} on {len(scores)} dev questions"


MODES = {None: "default", True: "extractive", False: "written"}
# System prompts to compare (--prompt): "default" is the app's (engines/answer/prompt.py).
PROMPTS = {
    "span": (
        "You answer questions about a document using only the excerpts below. "
        "Each excerpt starts with its page number, like [p. 3]. "
        "Answer with the shortest words copied from the excerpts that answer the question "
        "(a name, a date, a number or a few words), then cite the page, like [p. 3]. "
        "If the excerpts do not say, answer: I don't know."
    ),
    "copy": (
        "Read the excerpts and answer the question with a short phrase copied exactly from "
        "them, then the page, like: Paris [p. 3]. "
        "If the excerpts do not say, answer: I don't know."
    ),
}


_APP: dict[str, object] = {}


def use_variant(prompt: str = "default", kinds: str = "default") -> None:
    """Set the app's system prompt and extractive kinds to a compared variant ("default":
    the app's own); both are read at each call, so settings interleave question by question."""
    from ctxchat.engines.answer import extract
    from ctxchat.engines.answer import prompt as prompt_module

    _APP.setdefault("prompt", prompt_module.SYSTEM_PROMPT)
    _APP.setdefault("kinds", extract.EXTRACT_KINDS)
    prompt_module.SYSTEM_PROMPT = PROMPTS.get(prompt, _APP["prompt"])  # type: ignore[assignment]
    chosen = _APP["kinds"] if kinds == "default" else frozenset(kinds.split("+"))
    extract.EXTRACT_KINDS = chosen  # type: ignore[assignment]


def budget_label(size: int | None) -> str:
    from ctxchat.engines.answer.conversation import ALL, EVIDENCE_ONLY

    if size is None:
        return "default"
    return {EVIDENCE_ONLY: "evidence only", ALL: "whole context"}.get(size, f"{size} tokens")


def ask_one(
    conversation, llm, doc_id: int, question: str, gold: str, tally: Tally, out, follow_up=False
) -> None:
    """One question, read cold, through the whole flow; appended to tally (and out).
    follow_up: asked in the chat that holds this document's earlier questions and answers,
    as a person asks one after another in the app."""
    if not (follow_up and conversation.doc_ids == [doc_id]):
        conversation.doc_ids = [doc_id]
        conversation.new_chat()
    llm.reset()  # every question read cold
    use_variant(tally.prompt, tally.kinds)
    t, cpu = time.perf_counter(), time.process_time()
    result = conversation.ask(question).run()
    if follow_up:
        from ctxchat.engines.answer.conversation import Turn

        conversation.turns.append(Turn(question, result.answer))
    tally.seconds.append(time.perf_counter() - t)
    tally.cpu.append(time.process_time() - cpu)
    tally.ttft.append(result.stats.answer.generation.ttft_s)
    tally.right.append(contains_answer(result.answer, gold))
    tally.flagged.append(result.mark is not None)
    tally.loops.append(looping(result.answer))
    tally.evidence_hit.append(any(contains_answer(e.text, gold) for e in result.evidence))
    if out is not None:
        from ctxchat.engines.answer.answer_type import answer_type

        row = {
            "reader": tally.name,
            "question": question,
            "gold": gold,
            "answer": result.answer,
            "context": result.reader_text,
            "evidence": [e.text for e in result.evidence],
            "scores": [e.score for e in result.evidence],
            "weak": result.weak_evidence,
            "kind": answer_type(question),
            "prompt": tally.prompt,
            "kinds": tally.kinds,
            "mode": result.stats.as_dict()["answer_mode"],
            "confidence": result.stats.confidence,
            "candidates": result.stats.candidates,
            "right": tally.right[-1],
            "flagged": tally.flagged[-1],
            "seconds": round(tally.seconds[-1], 2),
        }
        out.write(json.dumps(row) + "\n")
        out.flush()
    print(
        f"  {len(tally.right)} {tally.name}: {'right' if tally.right[-1] else 'wrong'}"
        f"{' flagged' if tally.flagged[-1] else ''}{' weak' if result.weak_evidence else ''}"
        f" {tally.seconds[-1]:.1f}s | {result.answer[:100]!r}",
        flush=True,
    )


def run_test(
    store, docs: list[Doc], ids: list[int], args: argparse.Namespace, threshold: float
) -> list[Tally]:
    """Every question through the flow, once per reader budget (interleaved: question by
    question, so load on a shared machine hits every setting alike); then the first
    args.full ones from the whole document (cut to n_ctx, as pasting it would be)."""
    from ctxchat.engines.answer.conversation import AskSettings, Conversation, ReaderChoice
    from ctxchat.engines.answer.grounding import check_grounding
    from ctxchat.engines.answer.prompt import answer_stream

    conversations, tallies, follow_ups = [], [], []
    variants = product(args.reader_budget, args.extractive, args.prompt, args.kinds)
    for size, mode, prompt, kinds in variants:
        settings = AskSettings(
            reader=ReaderChoice(model=args.model, n_ctx=N_CTX),
            budget=args.budget,
            # max_tokens unset: answers as long as the app lets this reader write
            weak_evidence=threshold,
            reader_budget=size,
            extractive=mode,
        )
        for follow_up in (False, True) if args.follow_up else (False,):
            conversations.append(Conversation(store, settings=settings))
            label = f"ctxchat ask ({args.budget} tokens, reader: {budget_label(size)}"
            chat = ", after the article's earlier questions" if follow_up else ""
            wording = "" if prompt == "default" else f", prompt: {prompt}"
            wording += "" if kinds == "default" else f", extracted: {kinds}"
            name = f"{label}, answer: {MODES[mode]}{wording}{chat})"
            tallies.append(Tally(name, prompt=prompt, kinds=kinds))
            follow_ups.append(follow_up)
    llm = conversations[0].reader()
    for conversation in conversations[1:]:
        conversation._reader = llm  # one model for every setting
    asked = [(d, i, q, g) for d, i in zip(docs, ids, strict=True) for q, g in d.questions]
    asked = asked[args.skip : args.skip + args.limit]
    out = open(args.out, "a") if args.out else None  # noqa: SIM115
    for _doc, doc_id, question, gold in asked:
        for conversation, tally, follow_up in zip(conversations, tallies, follow_ups, strict=True):
            ask_one(conversation, llm, doc_id, question, gold, tally, out, follow_up)
    flow = tallies[0]
    full = Tally("full document (cut to n_ctx)")
    same = Tally(f"{flow.name}, the same questions")
    # The same questions from the whole document: minutes each on a small CPU; the app's
    # system prompt (the --prompt variants were set per question above).
    use_variant()
    for k, (doc, _, question, gold) in enumerate(asked[: args.full]):
        for name in ("right", "flagged", "loops", "seconds", "evidence_hit", "cpu", "ttft"):
            getattr(same, name).append(getattr(flow, name)[k])
        llm.reset()
        t, cpu = time.perf_counter(), time.process_time()
        answer = answer_stream(llm, doc.text, question, max_tokens=ANSWER_TOKENS).run()
        full.seconds.append(time.perf_counter() - t)
        full.cpu.append(time.process_time() - cpu)
        full.ttft.append(answer.stats.generation.ttft_s)
        full.right.append(contains_answer(answer.text, gold))
        full.flagged.append(not check_grounding(answer.text, doc.text).supported)
        full.loops.append(looping(answer.text))
        print(
            f"  full {k + 1}: {'right' if full.right[-1] else 'wrong'} "
            f"{full.seconds[-1]:.1f}s | {answer.text[:100]!r}",
            flush=True,
        )
    if out is not None:
        out.close()
    for conversation in conversations[1:]:
        conversation._reader = None
    conversations[0].close()
    return [*tallies, same, full] if full.right else tallies


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dev-docs", type=int, default=20, help="dev articles (threshold)")
    parser.add_argument("--docs", type=int, default=10, help="test articles")
    parser.add_argument("--questions", type=int, default=5, help="questions per article")
    parser.add_argument("--full", type=int, default=6, help="questions also asked in full")
    parser.add_argument("--budget", type=int, default=BUDGET)
    parser.add_argument("--limit", type=int, default=50, help="test questions")
    parser.add_argument("--threshold", type=float, help="skip the dev split and use this threshold")
    parser.add_argument(
        "--split", default="test", choices=("dev", "test"), help="the questions asked"
    )
    parser.add_argument(
        "--reader-budget",
        type=lambda v: [None if x == "default" else int(x) for x in v.split(",")],
        default=[None],
        help="what the reader reads, comma-separated to compare (interleaved): default, "
        "0 (the evidence only), -1 (the whole context) or N tokens",
    )
    parser.add_argument(
        "--extractive",
        type=lambda v: [{"default": None, "on": True, "off": False}[x] for x in v.split(",")],
        default=[None],
        help="extractive answers, comma-separated to compare (interleaved): default, on, off",
    )
    parser.add_argument(
        "--prompt",
        type=lambda v: v.split(","),
        default=["default"],
        help=f"system prompts to compare (interleaved): default, {', '.join(PROMPTS)}",
    )
    parser.add_argument(
        "--kinds",
        type=lambda v: v.split(","),
        default=["default"],
        help="the kinds answered by extraction, to compare (interleaved): default (the "
        "app's extract.EXTRACT_KINDS) or kinds joined by +, e.g. date+number+place",
    )
    parser.add_argument("--model", help="a GGUF reader (default: the bundled SmolLM2-135M)")
    parser.add_argument("--out", help="append one JSON line per answer here")
    parser.add_argument("--skip", type=int, default=0, help="leave out the first N questions")
    parser.add_argument("--home", help="a library to reuse (benchmarks.realqa_bench --home)")
    parser.add_argument(
        "--data", default="realqa", choices=("realqa", "covidqa"), help="Wikipedia or papers"
    )
    parser.add_argument(
        "--follow-up",
        action="store_true",
        help="also ask each question in a chat holding the article's earlier questions and "
        "answers (interleaved), as in the app",
    )
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        home = args.home or tmp
        os.environ["CTXCHAT_HOME"] = home
        from ctxchat.engines.store.db import Store

        folder = Path(home) if args.home else Path(home) / "pdf"
        folder.mkdir(exist_ok=True)
        t = time.perf_counter()
        with Store() as store:
            dev_docs = 0 if args.threshold else args.dev_docs
            dev, dev_ids = load_docs(store, "dev", dev_docs, folder, args.data)
            test, test_ids = load_docs(store, args.split, args.docs, folder, args.data)
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
        "| evidence holds the answer | median s/question | median s to first token "
        "| median CPU s/question |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for tally in tallies:
        print(tally.row())
    print(
        f"\nmachine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end; "
        f"data: benchmarks/data/{args.data}.jsonl.gz ({args.split} split)"
    )


if __name__ == "__main__":
    main()
