"""Reader accuracy and speed of the bundled chat model: full context vs ctxchat's context.

    nice -n 10 .venv/bin/python -m benchmarks.answer_bench [--docs 5] [--questions 2]

On the generated long-document QA set (benchmarks.qa_data), SmolLM2-135M-Instruct (Q4_1,
llama.cpp, greedy) answers each question
  - from the full document (cut to what fits n_ctx, as pasting it would be),
  - from ctxchat's compressed context at 5% and 2% of the document's tokens.
A question counts as right when the gold answer string is in the answer. Then:
  - KV cache MiB and greedy answer agreement with f16 for q8_0 and q4_0 (5% contexts),
  - time to first token of a follow-up question: reading the context again, reusing the
    KV prefix in the same process, and after a restart with the KV state saved on disk.
Every llama.cpp run starts from an empty KV cache unless it measures reuse.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

N_CTX = 4096
ANSWER_TOKENS = 48
SHARES = (0.05, 0.02)


def contains_answer(answer: str, gold: str) -> bool:
    norm = " ".join(answer.lower().split())
    return gold.lower() in norm or gold.lower().replace(",", "") in norm.replace(",", "")


@dataclass
class Run:
    name: str
    right: int = 0
    total: int = 0
    compress_s: list[float] = field(default_factory=list)
    llm_s: list[float] = field(default_factory=list)
    ttft_s: list[float] = field(default_factory=list)
    prompt_tokens: list[int] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)

    def add(self, ok: bool, compress_s: float, llm: Any, answer: str) -> None:
        s = llm.last_stats
        self.right += ok
        self.total += 1
        self.compress_s.append(compress_s)
        self.llm_s.append(s.seconds)
        self.ttft_s.append(s.ttft_s)
        self.prompt_tokens.append(s.prompt_tokens)
        self.answers.append(answer)

    def row(self) -> str:
        llm = statistics.mean(self.llm_s)
        comp = statistics.mean(self.compress_s)
        return (
            f"| {self.name} | {self.right}/{self.total} ({self.right / self.total:.0%}) | "
            f"{statistics.mean(self.prompt_tokens):,.0f} | {statistics.mean(self.ttft_s):.2f} | "
            f"{llm:.2f} | {comp:.2f} | {llm + comp:.2f} |"
        )


def answer_once(llm: Any, context: str, question: str) -> str:
    from ctxchat.engines.answer.prompt import answer_stream

    llm.reset()  # a cold read: no prefix from the previous question
    return answer_stream(llm, context, question, max_tokens=ANSWER_TOKENS).run().text


def accuracy(store: Any, docs: list[Any], ids: list[int], n_questions: int) -> dict[str, Run]:
    from ctxchat.engines.answer.llm import LocalLLM
    from ctxchat.engines.pipeline import compress_documents

    runs = {"full": Run("full document (cut to n_ctx)")}
    for share in SHARES:
        runs[f"{share}"] = Run(f"ctxchat {share:.0%} (select + prune)")
        runs[f"{share}-select"] = Run(f"ctxchat {share:.0%} (select only)")
    for kv in ("f16", "q4_0"):
        runs[f"0.05-{kv}"] = Run(f"ctxchat 5%, KV {kv}")
    models = {kv: LocalLLM(n_ctx=N_CTX, kv_type=kv) for kv in ("q8_0", "f16", "q4_0")}
    for doc, doc_id in zip(docs, ids, strict=True):
        for question, gold in doc.questions[:n_questions]:
            llm = models["q8_0"]
            text = answer_once(llm, doc.text, question)
            runs["full"].add(contains_answer(text, gold), 0.0, llm, text)
            for share in SHARES:
                budget = max(1, int(share * doc.tokens))
                t = time.perf_counter()
                context = compress_documents(store, [doc_id], question, budget=budget).text
                comp_s = time.perf_counter() - t
                text = answer_once(llm, context, question)
                runs[f"{share}"].add(contains_answer(text, gold), comp_s, llm, text)
                t = time.perf_counter()
                sentences = compress_documents(
                    store, [doc_id], question, budget=budget, prune=False
                ).text
                select_s = time.perf_counter() - t
                text = answer_once(llm, sentences, question)
                runs[f"{share}-select"].add(contains_answer(text, gold), select_s, llm, text)
                if share == 0.05:
                    for kv in ("f16", "q4_0"):
                        other = models[kv]
                        text = answer_once(other, context, question)
                        runs[f"0.05-{kv}"].add(contains_answer(text, gold), comp_s, other, text)
            done = runs["full"]
            print(
                f"  {done.total} questions: full {done.right} right, "
                f"5% {runs['0.05'].right}/{runs['0.05-select'].right}, "
                f"2% {runs['0.02'].right}/{runs['0.02-select'].right}; "
                f"last full LLM {done.llm_s[-1]:.1f} s",
                flush=True,
            )
    kv_mib = {kv: m.kv_cache_mib for kv, m in models.items()}
    for m in models.values():
        m.close()
    runs["kv_mib"] = kv_mib  # type: ignore[assignment]
    return runs


def prefix_reuse(store: Any, doc: Any, doc_id: int, budget: int) -> list[tuple[str, Any]]:
    """TTFT of a follow-up: cold, prefix reused in process, restored from disk after restart."""
    from ctxchat.engines.answer.kvstate import KVStateStore
    from ctxchat.engines.answer.llm import LocalLLM
    from ctxchat.engines.answer.prompt import answer_stream
    from ctxchat.engines.pipeline import compress_documents

    (q1, _), (q2, _) = doc.questions[:2]
    context = compress_documents(store, [doc_id], q1, budget=budget).text
    kv_store = KVStateStore()
    llm = LocalLLM(n_ctx=N_CTX)
    out = []
    first = answer_stream(llm, context, q1, max_tokens=16, kv_store=kv_store).run()
    out.append(("first question (reads the context)", first.stats.as_dict()))
    reused = answer_stream(llm, context, q2, max_tokens=16).run()
    out.append(("follow-up, prefix reused", reused.stats.as_dict()))
    llm.reset()
    cold = answer_stream(llm, context, q2, max_tokens=16).run()
    out.append(("follow-up, no reuse (context read again)", cold.stats.as_dict()))
    llm.close()
    restarted = LocalLLM(n_ctx=N_CTX)
    t = time.perf_counter()
    warm = answer_stream(restarted, context, q2, max_tokens=16, kv_store=kv_store).run()
    warm_stats = warm.stats.as_dict()
    warm_stats["load_s"] = time.perf_counter() - t - warm.stats.generation.seconds
    out.append(("follow-up after a restart, KV state from disk", warm_stats))
    restarted.close()
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=5)
    parser.add_argument("--questions", type=int, default=2, help="questions per document")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--min-tokens", type=int, default=2_000)
    parser.add_argument("--max-tokens", type=int, default=3_000)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as home:
        os.environ["CTXCHAT_HOME"] = home
        from benchmarks.qa_data import build_qa_set
        from ctxchat.engines.pipeline import add_text, compress_documents
        from ctxchat.engines.store.db import Store

        docs = build_qa_set(
            args.docs, seed=args.seed, min_tokens=args.min_tokens, max_tokens=args.max_tokens
        )
        docs = [d for d in docs if len(d.questions) >= 2]
        tokens = [d.tokens for d in docs]
        print(f"{len(docs)} documents, {min(tokens):,}-{max(tokens):,} cl100k tokens", flush=True)
        with Store() as store:
            ids = [add_text(store, d.text, name=d.title).id for d in docs]
            # Library state as after `ctxchat add`: models loaded, sentence embeddings
            # cached. Compression time per question is then the per-question work only.
            t = time.perf_counter()
            for doc, doc_id in zip(docs, ids, strict=True):
                compress_documents(store, [doc_id], doc.title, budget=64)
            print(f"warm-up (load models, embed documents): {time.perf_counter() - t:.1f} s")
            runs = accuracy(store, docs, ids, args.questions)
            kv_mib = runs.pop("kv_mib")
            reuse = prefix_reuse(store, docs[0], ids[0], budget=1500)

    print(
        "\n| context | right | prompt tokens | TTFT s | LLM s/question | "
        "compress s/question | total s/question |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    keys = ("full", "0.05", "0.05-select", "0.02", "0.02-select")
    for key in keys:
        print(runs[key].row())
    full_llm = statistics.mean(runs["full"].llm_s)
    for key in keys[1:]:
        r = runs[key]
        total = statistics.mean(r.llm_s) + statistics.mean(r.compress_s)
        print(
            f"speed-up {r.name}: LLM {full_llm / statistics.mean(r.llm_s):.1f}x, "
            f"with compression {full_llm / total:.1f}x"
        )

    print("\n| KV type | KV MiB at n_ctx 4096 | right (5% contexts) | same answer as f16 |")
    print("|---|---:|---:|---:|")
    ref = runs["0.05-f16"].answers
    for kv, key in (("f16", "0.05-f16"), ("q8_0", "0.05"), ("q4_0", "0.05-q4_0")):
        r = runs[key]
        same = sum(a == b for a, b in zip(r.answers, ref, strict=True))
        print(f"| {kv} | {kv_mib[kv]:.1f} | {r.right}/{r.total} | {same}/{len(ref)} |")

    print("\n| follow-up question | prompt tokens | read now | reused | TTFT s |")
    print("|---|---:|---:|---:|---:|")
    for name, s in reuse:
        extra = f" (+{s['load_s']:.2f} s to load the state)" if "load_s" in s else ""
        print(
            f"| {name} | {s['prompt_tokens']:,} | {s['evaluated_tokens']:,} | "
            f"{s['reused_tokens']:,} | {s['ttft_s']:.2f}{extra} |"
        )


if __name__ == "__main__":
    main()
