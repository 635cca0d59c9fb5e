"""Build benchmarks/data/covidqa.jsonl.gz from the public COVID-QA file (run once, by hand).

    python -m benchmarks.build_covidqa SOURCE_DIR [--out benchmarks/data/covidqa.jsonl.gz]

SOURCE_DIR holds `200423_covidQA.json`: `data/question-answering/200423_covidQA.json` of
deepset-ai/COVID-QA (commit fb2eb5e249618457e5359806601086c635c8eb8f; the annotations of
2020-04-23, 98 papers, 1,380 questions; the final COVID-QA.json of 147 papers is over the
size the copy we could reach keeps). Its sha256 is checked below.

COVID-QA (Moller et al. 2020): questions written by volunteers with a biomedical background
while reading scientific papers from CORD-19 (PubMed Central), each answered by a span of the
paper (SQuAD format: one context = one whole paper, with the answer's character offset).
Licence: Apache-2.0 (the repository); each paper's text says its own licence (cc-by for the
papers kept here: those without one are left out), so the derived file is under CC BY 4.0.

What is kept: papers of MIN_TOKENS-MAX_TOKENS cl100k tokens with at most MAX_PARAGRAPHS
paragraphs (papers flattened from tables have hundreds); questions whose answer is short
(<= MAX_ANSWER_WORDS words, not yes/no), sits at its annotated offset, and appears verbatim
in at most MAX_ANSWER_PARAGRAPHS paragraphs of the paper (so "the answer survived" means
the annotated place survived); papers with at least MIN_QUESTIONS such questions, at most
MAX_QUESTIONS each (a seeded sample). The evidence of a question is the paragraph at
its offset and the sentence(s) of it that hold the answer. Papers are shuffled (seeded);
the first DEV_PAPERS are the dev split, the rest the test split.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
from pathlib import Path

from benchmarks.build_realqa import write_jsonl_gz

SOURCE = "200423_covidQA.json"
SHA256 = "ab310b4e39f726e087c8fa3d1787c73771dacddc584977204ebe3cc889ee1264"
SEED = 20261203
MIN_TOKENS, MAX_TOKENS = 3000, 12000
MAX_PARAGRAPHS = 120
MAX_ANSWER_WORDS = 8
MAX_ANSWER_PARAGRAPHS = 2
MIN_QUESTIONS, MAX_QUESTIONS = 2, 8
DEV_PAPERS = 18
OUT = Path(__file__).parent / "data" / "covidqa.jsonl.gz"
_META = re.compile(r"^(https?://|SHA:|Authors?:|Date:|DOI:|License:)")


def _heading(line: str) -> bool:
    """A short line that does not end like a sentence: a section heading in CORD-19 text."""
    return len(line) <= 90 and not line.rstrip().endswith((".", ":", ";", ",", "?", ")"))


def parse(context: str) -> dict:
    """A paper's title, licence, abstract and sections ([heading, [paragraphs]]), with each
    paragraph's character span in the context (to place the annotated answers)."""
    lines, pos = [], 0
    for raw in context.split("\n"):
        if raw.strip():
            lines.append((pos, raw))
        pos += len(raw) + 1
    title = lines[0][1].strip()
    paper = {"title": title, "licence": "", "url": "", "abstract": "", "sections": []}
    spans: list[tuple[int, int, str]] = []  # start, end, paragraph as stored
    for start, raw in lines[1:]:
        line = " ".join(raw.split())
        if _META.match(line):
            paper["licence"] = line[8:].strip() if line.startswith("License:") else paper["licence"]
            paper["url"] = line if line.startswith("http") else paper["url"]
        elif line.startswith("Abstract:"):
            paper["abstract"] = line[len("Abstract:") :].strip()
            spans.append((start, start + len(raw), paper["abstract"]))
        elif _heading(line) and not line.startswith("Text:"):
            paper["sections"].append([line, []])
        else:
            text = line[len("Text:") :].strip() if line.startswith("Text:") else line
            if not paper["sections"]:
                paper["sections"].append(["", []])
            paper["sections"][-1][1].append(text)
            spans.append((start, start + len(raw), text))
    paper["sections"] = [s for s in paper["sections"] if s[1]]
    return {"paper": paper, "spans": spans}


def _question(qa: dict, context: str, spans: list, paragraphs: list[str]) -> dict | None:
    from ctxchat.engines.ingest.segment import split_sentences

    answer = qa["answers"][0]
    text = answer["text"].strip().rstrip(".,;: ").strip()
    start = answer["answer_start"] + answer["text"].find(text)
    if qa.get("is_impossible") or not text or text.lower() in ("yes", "no"):
        return None
    if len(text.split()) > MAX_ANSWER_WORDS or context[start : start + len(text)] != text:
        return None
    home = [p for s, e, p in spans if s <= start < e]
    if not home or text not in home[0]:
        return None
    if sum(text in p for p in paragraphs) > MAX_ANSWER_PARAGRAPHS:
        return None
    sentences = [s for s in split_sentences(home[0]) if text in s]
    return {
        "id": f"covidqa-{qa['id']}",
        "question": " ".join(qa["question"].split()),
        "answer": text,
        "evidence": sentences or [home[0]],
        "evidence_paragraphs": home,
        "offset": start,
    }


def paper_row(article: dict) -> dict | None:
    from ctxchat.engines.tokens import count_tokens

    item = article["paragraphs"][0]
    context = item["context"]
    parsed = parse(context)
    paper = parsed["paper"]
    paragraphs = [paper["title"], paper["abstract"]]
    paragraphs += [p for _, ps in paper["sections"] for p in ps]
    tokens = count_tokens("\n\n".join(paragraphs))
    if not paper["licence"].startswith("cc-by") or len(paragraphs) > MAX_PARAGRAPHS:
        return None
    if not MIN_TOKENS <= tokens <= MAX_TOKENS:
        return None
    questions, seen = [], set()
    for qa in item["qas"]:
        q = _question(qa, context, parsed["spans"], paragraphs)
        if q and q["question"].lower() not in seen:
            seen.add(q["question"].lower())
            questions.append(q)
    if len(questions) < MIN_QUESTIONS:
        return None
    # A seeded sample, not the first ones: annotators asked more of a paper's opening pages.
    rng = random.Random(f"{SEED}-{item['document_id']}")
    questions = rng.sample(
        sorted(questions, key=lambda q: q["id"]), min(len(questions), MAX_QUESTIONS)
    )
    questions.sort(key=lambda q: (q["offset"], q["id"]))
    paper.update(id=str(item["document_id"]), tokens=tokens, questions=questions)
    return paper


def build(source: Path, out: Path = OUT) -> dict:
    raw = (source / SOURCE).read_bytes()
    got = hashlib.sha256(raw).hexdigest()
    if got != SHA256:
        raise SystemExit(f"{SOURCE}: sha256 {got} is not the expected {SHA256}")
    articles = json.loads(raw)["data"]
    papers = [p for p in map(paper_row, articles) if p]
    papers.sort(key=lambda p: p["id"])
    random.Random(SEED).shuffle(papers)
    for k, paper in enumerate(papers):
        paper["split"] = "dev" if k < DEV_PAPERS else "test"
        paper["number"] = k
    meta = {
        "kind": "meta",
        "source": "COVID-QA (Moller et al. 2020), deepset-ai/COVID-QA fb2eb5e, " + SOURCE,
        "licence": "annotations Apache-2.0; paper texts CC BY (as each paper states)",
        "seed": SEED,
        "papers_seen": len(articles),
        "papers_kept": len(papers),
        "questions": {
            s: sum(len(p["questions"]) for p in papers if p["split"] == s) for s in ("dev", "test")
        },
    }
    write_jsonl_gz(out, [meta, *papers])
    return meta


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("source", type=Path, help=f"folder with {SOURCE}")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    print(build(args.source, args.out))


if __name__ == "__main__":
    main()
