"""Real prose with questions people wrote: HotpotQA dev questions over Wikipedia paragraphs.

The derived file benchmarks/data/hotpotqa_dev100.jsonl.gz holds, per question, the ten
Wikipedia paragraphs HotpotQA gives with it (the "distractor" setting: two that hold the
answer, eight that look related), the question and its gold answer. Titles are left out, so
the document is prose only. Yes/no questions and answers not written in the paragraphs are
dropped: answer survival is a substring test.

Source: HotpotQA (Yang et al., 2018, https://hotpotqa.github.io), file
hotpot_dev_distractor_v1.json, its first 100 questions, as committed in the public GitHub
repository nakulbh/Meve-framework (data/hotpot_dev_distractor_v1.json, commit 3f7fcf19).
Licence: CC BY-SA 4.0 (HotpotQA; its paragraphs are from English Wikipedia, CC BY-SA).
Not SQuAD, not NaturalQuestions.

    from benchmarks.prose_qa_data import load_prose_qa
    for doc in load_prose_qa("test"):
        doc.text, doc.question, doc.answer

Rebuild the derived file from the raw JSON: python -m benchmarks.prose_qa_data RAW.json
"""

from __future__ import annotations

import gzip
import json
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

DATA_FILE = Path(__file__).parent / "data" / "hotpotqa_dev100.jsonl.gz"
SPLITS = ("dev", "test", "all")


@dataclass
class ProseQA:
    id: str
    question: str
    answer: str
    text: str  # the ten paragraphs, blank-line separated
    titles: list[str]

    @property
    def split(self) -> str:
        """dev or test, fixed by a hash of the id (about half each)."""
        return "dev" if zlib.crc32(self.id.encode()) % 2 == 0 else "test"


def load_prose_qa(split: str = "all", path: Path = DATA_FILE) -> list[ProseQA]:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}")
    with gzip.open(path, "rt", encoding="utf-8") as f:
        docs = [ProseQA(**json.loads(line)) for line in f if line.strip()]
    return [d for d in docs if split == "all" or d.split == split]


def derive(raw: list[dict]) -> list[ProseQA]:
    """The benchmark's form of HotpotQA records (list or dict context layouts)."""
    out = []
    for i, rec in enumerate(raw):
        answer = rec["answer"].strip()
        ctx = rec["context"]
        if isinstance(ctx, dict):
            pairs = list(zip(ctx["title"], ctx["sentences"], strict=True))
        else:
            pairs = [(t, s) for t, s in ctx]
        paragraphs = ["".join(s).strip() for _, s in pairs]
        text = "\n\n".join(p for p in paragraphs if p)
        if answer.lower() in ("yes", "no") or answer not in text:
            continue
        qid = rec.get("_id") or rec.get("id") or f"hotpot-dev-{i}"
        out.append(ProseQA(qid, rec["question"], answer, text, [t for t, _ in pairs]))
    return out


def main(argv: list[str]) -> int:
    raw = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    docs = derive(raw)
    DATA_FILE.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(DATA_FILE, "wt", encoding="utf-8", compresslevel=9) as f:
        for d in docs:
            f.write(json.dumps(d.__dict__, ensure_ascii=False) + "\n")
    print(f"{len(docs)} questions of {len(raw)} -> {DATA_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
