"""A second genre for the real-text benchmark: human questions over scientific papers.

    from benchmarks import covidqa
    data = covidqa.load()                     # benchmarks/data/covidqa.jsonl.gz, offline
    for doc in data.articles(split="dev"):    # one 3k-12k token paper each, 2-8 questions
        row = realqa.ingest(store, doc, folder)   # rendered to an A4 PDF, added like `ctxchat add`

COVID-QA questions (written by people with a biomedical background, answered by a short
span of the paper) over CORD-19 papers. Each paper is laid out as an article: its title, an
abstract, its section headings where the text has them, its paragraphs; the documents are
realqa.QADocument, so realqa's PDF rendering, ingest and checks apply unchanged
(`--data covidqa` on realqa_bench and evidence_bench). A question's evidence is the
sentence(s) of its annotated paragraph that hold the answer. How the derived file was made:
benchmarks/build_covidqa.py; source and licence: benchmarks/data/README.md.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from pathlib import Path

from benchmarks.realqa import Block, QADocument, Question

DATA = Path(__file__).parent / "data" / "covidqa.jsonl.gz"


@dataclass
class CovidQA:
    papers: list[dict]
    meta: dict[str, object]

    @property
    def questions(self) -> list[Question]:
        return [q for p in self.papers for q in _questions(p)]

    @property
    def gold(self) -> dict[str, list[str]]:
        """Question id -> the heading of its evidence paragraph's section (the paper's
        title where the text has no headings): evidence_bench's on-topic check."""
        out = {}
        for paper in self.papers:
            for q in paper["questions"]:
                out[q["id"]] = [_section_of(paper, q["evidence_paragraphs"][0])]
        return out

    def articles(self, split: str | None = None) -> list[QADocument]:
        return [_document(p) for p in self.papers if split is None or p["split"] == split]


def _section_of(paper: dict, paragraph: str) -> str:
    for heading, paragraphs in paper["sections"]:
        if paragraph in paragraphs and heading:
            return heading
    if paragraph == paper["abstract"]:
        return "Abstract"
    first = paper["sections"][0] if paper["sections"] else ("", [])
    return "Main text" if paragraph in first[1] and paper["abstract"] else paper["title"]


def _questions(paper: dict) -> list[Question]:
    return [
        Question(
            q["id"],
            q["question"],
            q["answer"],
            tuple(q["evidence"]),
            paper["split"],
            paper["number"],
            False,
        )
        for q in paper["questions"]
    ]


def _document(paper: dict) -> QADocument:
    blocks = [Block("title", paper["title"])]
    if paper["abstract"]:
        blocks += [Block("section", "Abstract"), Block("paragraph", paper["abstract"])]
    for n, (heading, paragraphs) in enumerate(paper["sections"]):
        # Most CORD-19 texts start the body without a heading; a PDF would not carry the
        # abstract's heading over the whole paper.
        heading = heading or ("Main text" if n == 0 and paper["abstract"] else "")
        blocks += [Block("section", heading)] if heading else []
        blocks += [Block("paragraph", p) for p in paragraphs]
    title = paper["title"]
    header = title if len(title) <= 80 else title[:77].rsplit(" ", 1)[0] + " ..."
    number = paper["number"] + 1
    return QADocument(f"covidqa-paper-{number:03d}.pdf", header, blocks, _questions(paper))


def load(path: str | Path = DATA) -> CovidQA:
    papers, meta = [], {}
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            if row.get("kind") == "meta":
                meta = row
            else:
                papers.append(row)
    return CovidQA(papers, meta)
