"""Real English prose for training: Wikipedia articles stored in the repository.

engines/training/data/wikipedia_10.jsonl.gz holds ten English Wikipedia articles (Aristotle,
Academy Awards, Albert Einstein, Anatomy, ...; 43k words) as plain text. Source: the public
GitHub repository nakulbh/Meve-framework, data/wikipedia_en_science_physics_10.json (commit
a83b659f), a plain-text dump of those articles. Licence: CC BY-SA 4.0 (Wikipedia).
None of these articles is among the paragraphs of the real-prose benchmark
(benchmarks/prose_qa_data.py, HotpotQA), and none is from SQuAD or NaturalQuestions.

Articles are cut into documents of about DOC_WORDS words at paragraph breaks, so one long
article does not make one huge training document.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from ctxchat.engines.training.corpus import Doc

DATA_FILE = Path(__file__).parent / "data" / "wikipedia_10.jsonl.gz"
SOURCE = "wikipedia"
DOC_WORDS = 600


def wikipedia_documents(path: Path = DATA_FILE, doc_words: int = DOC_WORDS) -> list[Doc]:
    docs = []
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            if line.strip():
                article = json.loads(line)
                docs.extend(_pieces(article["title"], article["text"], doc_words))
    return docs


def _pieces(title: str, text: str, doc_words: int) -> list[Doc]:
    """Paragraph groups of about doc_words words (short heading lines are dropped)."""
    out: list[Doc] = []
    group: list[str] = []
    words = 0
    for para in text.split("\n\n"):
        para = para.strip()
        if len(para.split()) < 8:
            continue  # headings, captions, list stubs
        group.append(para)
        words += len(para.split())
        if words >= doc_words:
            out.append(Doc(f"{title} ({len(out) + 1})", "\n\n".join(group), SOURCE))
            group, words = [], 0
    if group:
        out.append(Doc(f"{title} ({len(out) + 1})", "\n\n".join(group), SOURCE))
    return out
