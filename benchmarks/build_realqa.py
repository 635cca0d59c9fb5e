"""Build benchmarks/data/realqa.jsonl.gz from public HotpotQA files (run once, by hand).

    python -m benchmarks.build_realqa SOURCE_DIR [--out benchmarks/data/realqa.jsonl.gz]

    (the committed file: --exclude shared/data_prose/hotpot_meve.json)

SOURCE_DIR holds three files, copied out of two public GitHub repositories:
- amor_dev.jsonl, amor_test.jsonl: `data/hotpotqa/dev.json` and `data/hotpotqa/test.json`
  of JianGuanTHU/AMOR (commit f950e63dd4ad5ab50f85864aefb25a08fe5c71af), 100 + 500
  HotpotQA questions, each with ten Wikipedia lead paragraphs (the gold ones and
  retrieved distractors) and sentence-level supporting facts;
- quality_hotpot100.json: `docs/js/camera_ready_nd8_dev_sample100.json` of nyu-mll/quality
  (commit f84977c), 100 HotpotQA dev questions with two gold and eight distractor paragraphs.
Their sha256 are checked below, so the derived file is reproducible bit for bit.

The questions were written by crowd workers (HotpotQA, Yang et al. 2018); the paragraphs
are from English Wikipedia. Licence: CC BY-SA 4.0 (HotpotQA), so is the derived file.

What is kept: questions whose answer is not yes/no and appears verbatim in a supporting
sentence that is in the question's paragraphs (that sentence is the "evidence"), and whose
answer occurs in at most MAX_ANSWER_PARAGRAPHS of its ten paragraphs (so that "the answer
string survived" means the evidence survived, not a stray mention). Each kept question is
stored with its paragraphs (and which of them are gold); the layout of the benchmark
documents is fixed here too: kept questions are shuffled (seeded) into articles of QUESTIONS_PER_ARTICLE questions, 30% of
the articles are the dev split (a question's split is its article's), and BOOK_QUESTIONS
questions (both splits) make up the book. benchmarks/realqa.py builds the documents.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import random
from pathlib import Path

SOURCES = {
    "amor_dev.jsonl": "96296f21ea67a6e7b18017f657f7c1181e3aebdbd337993500f3280a1c4d7c28",
    "amor_test.jsonl": "d2d566c667d789508aa3511d89cfcc3480fc9d62e556a09331be9376be42c075",
    "quality_hotpot100.json": "fe8f91b59c818792e404e0d4d110c5eb28d8b7de04bbf37694bdafa2d5025163",
}
SEED = 20261202
QUESTIONS_PER_ARTICLE = 5
DEV_SHARE = 0.3
BOOK_QUESTIONS = 210
MAX_ANSWER_PARAGRAPHS = 2
OUT = Path(__file__).parent / "data" / "realqa.jsonl.gz"

Paragraph = tuple[str, list[str]]


def _clean(sentences: list[str]) -> list[str]:
    return [" ".join(s.split()) for s in sentences if s.strip()]


def _hotpot_rows(path: Path) -> list[dict]:
    """HotpotQA-format rows: context [[title, sentences]], supporting facts either
    [title, index] (HotpotQA) or [title, [indexes], ...] (AMOR's copy)."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        facts: list[tuple[str, int]] = []
        for fact in row["supporting_facts"]:
            ids = fact[1] if isinstance(fact[1], list) else [fact[1]]
            facts.extend((fact[0], int(i)) for i in ids)
        context = [(t, _clean(s)) for t, s in row["context"]]
        out.append(_record(row["_id"], row["question"], row["answer"], context, facts))
    return out


def _quality_rows(path: Path) -> list[dict]:
    """The QuALITY site's HotpotQA sample: para_a/para_b gold, eight distractors."""
    out = []
    for row in json.loads(path.read_text(encoding="utf-8")):
        gold = [(row["title_a"], _clean(row["para_a"])), (row["title_b"], _clean(row["para_b"]))]
        context = gold + [(d[0], _clean(d[1])) for d in row["distractors"]]
        facts = [(gold[k][0], int(i)) for k in (0, 1) for i in row["supporting_facts"][k]]
        out.append(_record(row["_id"], row["question"], row["answer"], context, facts))
    return out


def _record(
    qid: str, question: str, answer: str, context: list[Paragraph], facts: list[tuple[str, int]]
) -> dict:
    by_title = dict(context)
    evidence = []
    for title, i in facts:
        sentences = by_title.get(title, [])
        if i < len(sentences) and answer in sentences[i] and sentences[i] not in evidence:
            evidence.append(sentences[i])
    gold = [t for t in dict.fromkeys(t for t, _ in facts) if t in by_title]
    return {
        "id": qid,
        "gold": gold,
        "question": " ".join(question.split()),
        "answer": answer.strip(),
        "evidence": evidence,
        "paragraphs": [[t, s] for t, s in context if s],
    }


def keep(record: dict) -> bool:
    answer = record["answer"]
    if not answer or answer.lower() in ("yes", "no") or not record["evidence"]:
        return False
    mentions = sum(answer in " ".join(s) for _, s in record["paragraphs"])
    return mentions <= MAX_ANSWER_PARAGRAPHS


def layout(records: list[dict]) -> list[dict]:
    """Assign article, split and book membership (seeded, stored in the file)."""
    rng = random.Random(SEED)
    order = sorted(records, key=lambda r: r["id"])
    rng.shuffle(order)
    n_articles = len(order) // QUESTIONS_PER_ARTICLE
    dev_articles = set(rng.sample(range(n_articles), round(DEV_SHARE * n_articles)))
    for k, record in enumerate(order[: n_articles * QUESTIONS_PER_ARTICLE]):
        article = k // QUESTIONS_PER_ARTICLE
        record["article"] = article
        record["split"] = "dev" if article in dev_articles else "test"
    kept = order[: n_articles * QUESTIONS_PER_ARTICLE]
    book = set(r["id"] for r in rng.sample(kept, min(BOOK_QUESTIONS, len(kept))))
    for record in kept:
        record["book"] = record["id"] in book
    return kept


def _excluded(path: Path | None) -> set[str]:
    """Question texts to leave out: HotpotQA questions another part of the project uses
    (a JSON list of HotpotQA rows, e.g. shared/data_prose/hotpot_meve.json)."""
    if path is None:
        return set()
    return {" ".join(r["question"].split()) for r in json.loads(path.read_text(encoding="utf-8"))}


def build(source: Path, out: Path = OUT, exclude: Path | None = None) -> dict:
    for name, digest in SOURCES.items():
        got = hashlib.sha256((source / name).read_bytes()).hexdigest()
        if got != digest:
            raise SystemExit(f"{name}: sha256 {got} is not the expected {digest}")
    records = _hotpot_rows(source / "amor_dev.jsonl") + _hotpot_rows(source / "amor_test.jsonl")
    records += _quality_rows(source / "quality_hotpot100.json")
    unique = {r["id"]: r for r in records}  # a few questions are in both sources
    skip = _excluded(exclude)
    kept = layout([r for r in unique.values() if keep(r) and r["question"] not in skip])
    meta = {
        "kind": "meta",
        "source": "HotpotQA (Yang et al. 2018) via JianGuanTHU/AMOR and nyu-mll/quality",
        "licence": "CC BY-SA 4.0",
        "seed": SEED,
        "questions_seen": len(unique),
        "questions_excluded": sum(r["question"] in skip for r in unique.values()),
        "questions_kept": len(kept),
    }
    write_jsonl_gz(out, [meta, *kept])
    return meta


def write_jsonl_gz(out: Path, rows: list[dict]) -> None:
    """One JSON object a line, gzipped with no name and mtime 0, so that the bytes depend
    only on the content (a rebuild gives the same file)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "wb") as raw, gzip.GzipFile("", "wb", fileobj=raw, mtime=0) as gz:
        for row in rows:
            gz.write((json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n").encode())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("source", type=Path, help="folder with the three source files")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--exclude", type=Path, help="HotpotQA rows (JSON list) to leave out")
    args = parser.parse_args()
    print(build(args.source, args.out, args.exclude))


if __name__ == "__main__":
    main()
