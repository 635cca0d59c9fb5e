"""The real-text QA set: human-written HotpotQA questions over Wikipedia paragraphs.

    from benchmarks import realqa
    data = realqa.load()                      # benchmarks/data/realqa.jsonl.gz, offline
    for doc in data.articles(split="dev"):    # 3k-10k token articles, five questions each
        row = realqa.ingest(store, doc, folder)   # rendered to PDF, added like `ctxchat add`
        for q in doc.questions: q.question, q.answer, q.evidence
    book = data.book()                        # one 348-page book, 210 questions

A document is a list of blocks (chapter and section headings, paragraphs) laid out as an
PDF (A4 articles, a 6 x 9 inch book) with PyMuPDF (a running header, page numbers in the footer), then read back through
the library (engines.library.add_path), so every method sees what a user's PDF gives.
How the derived file was made: benchmarks/build_realqa.py; source and licence:
benchmarks/data/README.md.
"""

from __future__ import annotations

import gzip
import html
import io
import json
import random
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ctxchat.engines.store.db import DocumentRow, Store

DATA = Path(__file__).parent / "data" / "realqa.jsonl.gz"
QUESTIONS_PER_CHAPTER = 5
# The book keeps each question's gold paragraphs and its first distractors, up to this many,
# and is set on 6 x 9 inch pages (a trade paperback: ~450 tokens a page), so that it has
# the size of a real book (348 pages) without ten times the sentences to embed.
BOOK_PARAGRAPHS_PER_QUESTION = 6
A4 = (595.0, 842.0)  # points
BOOK_PAGE = (432.0, 648.0)
CSS = "* {font-family: sans-serif; font-size: 10.5pt; line-height: 1.25;} p {margin: 0 0 8pt 0;}"


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    answer: str
    evidence: tuple[str, ...]  # the supporting sentences that hold the answer
    split: str  # "dev" (choose settings on these) | "test" (report these)
    article: int
    in_book: bool


@dataclass(frozen=True)
class Block:
    kind: str  # "title" | "chapter" | "section" | "paragraph"
    text: str


@dataclass
class QADocument:
    name: str
    header: str  # the running header on every page
    blocks: list[Block]
    questions: list[Question] = field(default_factory=list)
    page: tuple[float, float] = A4

    def text(self) -> str:
        return "\n\n".join(b.text for b in self.blocks)

    def split(self, split: str | None) -> list[Question]:
        return [q for q in self.questions if split is None or q.split == split]


@dataclass
class RealQA:
    questions: list[Question]
    paragraphs: dict[str, list[tuple[str, str]]]  # question id -> (title, paragraph text)
    gold: dict[str, list[str]]  # question id -> titles of its gold paragraphs
    meta: dict[str, object]

    def articles(self, split: str | None = None) -> list[QADocument]:
        """One document per article (its questions share a split), in article order."""
        by_article: dict[int, list[Question]] = {}
        for q in self.questions:
            by_article.setdefault(q.article, []).append(q)
        docs = []
        for number, qs in sorted(by_article.items()):
            if split is None or qs[0].split == split:
                docs.append(self._article(number, qs))
        return docs

    def _article(self, number: int, questions: list[Question]) -> QADocument:
        paragraphs = _shuffled(self._paragraphs(questions), seed=number)
        blocks = [Block("title", f"WIKIPEDIA READER, VOLUME {number + 1}")]
        for k, (title, text) in enumerate(paragraphs, start=1):
            blocks += [Block("section", f"{k} {title}"), Block("paragraph", text)]
        return QADocument(
            f"realqa-article-{number + 1:03d}.pdf",
            f"Wikipedia reader - volume {number + 1}",
            blocks,
            list(questions),
        )

    def book(self) -> QADocument:
        """One long document: chapters of five book questions' paragraphs each."""
        questions = [q for q in self.questions if q.in_book]
        blocks = [Block("title", "A WIKIPEDIA READER")]
        seen: set[str] = set()
        for c in range(0, len(questions), QUESTIONS_PER_CHAPTER):
            chapter = c // QUESTIONS_PER_CHAPTER + 1
            group = questions[c : c + QUESTIONS_PER_CHAPTER]
            own = self._paragraphs(group, BOOK_PARAGRAPHS_PER_QUESTION)
            fresh = [p for p in own if p[0] not in seen]
            seen.update(t for t, _ in fresh)
            blocks.append(Block("chapter", f"CHAPTER {chapter}"))
            for k, (title, text) in enumerate(_shuffled(fresh, seed=1000 + chapter), start=1):
                blocks += [Block("section", f"{chapter}.{k} {title}"), Block("paragraph", text)]
        return QADocument("realqa-book.pdf", "A Wikipedia reader", blocks, questions, BOOK_PAGE)

    def _paragraphs(
        self, questions: Sequence[Question], per_question: int = 10
    ) -> list[tuple[str, str]]:
        """The questions' paragraphs (gold ones first, then distractors in their order, up
        to per_question each), each title once (HotpotQA titles are unique)."""
        out: dict[str, str] = {}
        for q in questions:
            gold = self.gold[q.id]
            own = sorted(self.paragraphs[q.id], key=lambda p: p[0] not in gold)
            for title, text in own[:per_question]:
                out.setdefault(title, text)
        return list(out.items())


def _shuffled(items: list[tuple[str, str]], seed: int) -> list[tuple[str, str]]:
    items = sorted(items)
    random.Random(seed).shuffle(items)
    return items


def load(path: str | Path = DATA) -> RealQA:
    questions: list[Question] = []
    paragraphs: dict[str, list[tuple[str, str]]] = {}
    gold: dict[str, list[str]] = {}
    meta: dict[str, object] = {}
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            if row.get("kind") == "meta":
                meta = row
                continue
            questions.append(
                Question(
                    row["id"],
                    row["question"],
                    row["answer"],
                    tuple(row["evidence"]),
                    row["split"],
                    row["article"],
                    row["book"],
                )
            )
            paragraphs[row["id"]] = [(t, " ".join(s)) for t, s in row["paragraphs"]]
            gold[row["id"]] = row["gold"]
    return RealQA(questions, paragraphs, gold, meta)


# -- checks ------------------------------------------------------------------------------


def normalise(text: str) -> str:
    """One space for any run of whitespace (PDF line breaks and joins differ in spacing)."""
    return " ".join(text.split())


def answer_survives(question: Question, text: str) -> bool:
    return normalise(question.answer) in normalise(text)


_WORD = re.compile(r"[0-9A-Za-z\u00c0-\u024f]+")


def words(text: str) -> str:
    """Latin-script words and numbers only, lowercased: what a PDF round trip keeps of a
    sentence for sure (other scripts come back reshaped or in another order)."""
    return " " + " ".join(_WORD.findall(text.lower())) + " "


def evidence_intact(question: Question, text: str) -> bool:
    """An evidence sentence (holding the answer) is in the text whole, word for word."""
    flat = words(text)
    return any(words(sentence) in flat for sentence in question.evidence)


# -- PDF ---------------------------------------------------------------------------------


def _html(blocks: Sequence[Block]) -> str:
    parts = []
    for block in blocks:
        text = html.escape(block.text)
        if block.kind == "paragraph":
            parts.append(f"<p>{text}</p>")
        else:  # headings: bold lines of their own, as a book sets them
            parts.append(f"<p><b>{text}</b></p>")
    return "".join(parts)


def render_pdf(doc: QADocument, path: str | Path) -> int:
    """Lay the document out on A4 pages (PyMuPDF Story: fallback fonts for any script),
    then stamp a running header and a page number on each page. Returns the page count."""
    import pymupdf

    buffer = io.BytesIO()
    writer = pymupdf.DocumentWriter(buffer)
    story = pymupdf.Story(html=_html(doc.blocks), user_css=CSS)
    width, height = doc.page
    margin = 72.0 if width > 500 else 54.0
    mediabox = pymupdf.Rect(0, 0, width, height)
    where = mediabox + (margin, margin, -margin, -margin)
    more = True
    while more:
        device = writer.begin_page(mediabox)
        more, _ = story.place(where)
        story.draw(device)
        writer.end_page()
    writer.close()
    pdf = pymupdf.open("pdf", buffer.getvalue())
    for n, page in enumerate(pdf, start=1):
        page.insert_text((margin, margin / 2 + 4), doc.header, fontname="helv", fontsize=9)
        footer = f"Page {n}"
        x = (width - pymupdf.get_text_length(footer, fontname="helv", fontsize=9)) / 2
        page.insert_text((x, height - margin / 2), footer, fontname="helv", fontsize=9)
    pages = pdf.page_count
    pdf.save(str(path), garbage=3, deflate=True)
    pdf.close()
    return pages


def ingest(store: Store, doc: QADocument, folder: str | Path) -> DocumentRow:
    """Render doc to folder/doc.name (once) and add it to the library, as `ctxchat add`."""
    from ctxchat.engines.ingest.library import add_path

    path = Path(folder) / doc.name
    if not path.exists():
        render_pdf(doc, path)
    return add_path(store, path).document


def document_text(store: Store, doc_id: int) -> str:
    """The stored document's text as the library holds it (sentences joined)."""
    return " ".join(s.text for s in store.segments(doc_id))


def readable(questions: Sequence[Question], text: str) -> Iterator[Question]:
    """The questions whose answer and evidence came through PDF and ingest intact."""
    for q in questions:
        if answer_survives(q, text) and evidence_intact(q, text):
            yield q
