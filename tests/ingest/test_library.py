"""Adding files to a real SQLite library: dedup, folders, atomic failure, progress."""

from __future__ import annotations

import pytest

from ctxchat.engines.errors import IngestError
from ctxchat.engines.ingest.library import (
    AddFailure,
    AddResult,
    add_path,
    add_paths,
    ensure_document,
    open_document,
)
from ctxchat.engines.ingest.readers import Document
from ctxchat.engines.store.db import Store
from devkit import docgen


@pytest.fixture()
def store():
    with Store() as s:
        yield s


def _count(store: Store, table: str) -> int:
    return store.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_add_path_stores_segments_with_pages(store, tmp_path):
    _, facts = docgen.long_pdf(tmp_path / "report.pdf", 12)
    seen = []
    result = add_path(store, tmp_path / "report.pdf", on_progress=lambda d, t: seen.append((d, t)))
    doc = result.document
    assert result.created and result.pages == 12
    assert (doc.name, doc.kind, doc.pages) == ("report.pdf", "pdf", 12)
    assert seen == [(n, 12) for n in range(1, 13)]
    segments = store.segments(doc.id)
    assert doc.segments == len(segments) > 12 * 10
    assert doc.tokens == sum(s.tokens for s in segments)
    assert all(1 <= s.page <= 12 for s in segments)
    for fact in facts:
        assert [s.page for s in segments if s.text == fact.sentence] == [fact.page]
    # The FTS index sees the new text.
    hits = store.bm25([doc.id], facts[0].question)
    best = max(hits, key=hits.get)
    assert next(s for s in segments if s.id == best).text == facts[0].sentence


def test_same_content_is_added_once(store, tmp_path):
    docgen.write_pdf(tmp_path / "a.pdf", [["One sentence only."]])
    (tmp_path / "copy of a.pdf").write_bytes((tmp_path / "a.pdf").read_bytes())
    first = add_path(store, tmp_path / "a.pdf")
    second = add_path(store, tmp_path / "copy of a.pdf")
    assert first.created and not second.created
    assert second.document.id == first.document.id
    assert ensure_document(store, tmp_path / "a.pdf").id == first.document.id
    assert len(store.documents()) == 1


def test_a_library_document_is_found_by_id_name_or_hash_once_its_file_is_gone(store, tmp_path):
    path = docgen.write_pdf(tmp_path / "notes.pdf", [["The vault code is 4471."]]).path
    doc = add_path(store, path).document
    path.unlink()
    for ref in (str(doc.id), "notes.pdf", doc.sha256[:8]):
        found = open_document(store, ref)
        assert (found.document.id, found.created) == (doc.id, False)
    assert ensure_document(store, str(doc.id)).id == doc.id


def test_an_existing_file_wins_over_a_library_name(store, tmp_path, monkeypatch):
    first = add_path(store, docgen.write_pdf(tmp_path / "a.pdf", [["First text."]]).path)
    # A file in the working directory named like the first document's id is read as a file.
    monkeypatch.chdir(tmp_path)
    docgen.write_pdf(tmp_path / str(first.document.id), [["Second text, another file."]])
    second = open_document(store, str(first.document.id))
    assert second.created and second.document.id != first.document.id


def test_an_unknown_or_ambiguous_reference_says_what_to_do(store, tmp_path):
    with pytest.raises(IngestError, match="file not found: .*see ctxchat docs"):
        open_document(store, "no-such-report.pdf")
    for folder, text in (("x", "One text."), ("y", "Another text.")):
        (tmp_path / folder).mkdir()
        add_path(store, docgen.write_pdf(tmp_path / folder / "same.pdf", [[text]]).path)
    with pytest.raises(IngestError, match="matches 2 library documents"):
        open_document(store, "same.pdf")


def test_failed_add_leaves_the_library_unchanged(store, tmp_path):
    add_path(store, docgen.write_pdf(tmp_path / "ok.pdf", [["Kept."]]).path)
    before = (store.documents(), _count(store, "segments"), _count(store, "segments_fts"))
    # Pages with nothing but a running header and footer: no text once those are removed.
    hollow = docgen.write_pdf(tmp_path / "hollow.pdf", [[] for _ in range(5)], header="Draft")
    with pytest.raises(IngestError, match="contains no text"):
        add_path(store, hollow.path)
    for bad in (
        docgen.truncated_pdf(tmp_path / "cut.pdf"),
        docgen.scanned_pdf(tmp_path / "s.pdf"),
        docgen.encrypted_pdf(tmp_path / "e.pdf"),
    ):
        with pytest.raises(IngestError):
            add_path(store, bad)
    assert (store.documents(), _count(store, "segments"), _count(store, "segments_fts")) == before


def test_failure_half_way_through_rolls_back(store, tmp_path, monkeypatch):
    path = docgen.long_pdf(tmp_path / "long.pdf", 8)[0].path
    real_pages = Document.pages

    def failing_pages(self):  # a disk error after a few pages have been stored
        for page in real_pages(self):
            if page.number == 6:
                raise IngestError(f"{self.path} is damaged (cannot read all pages)")
            yield page

    monkeypatch.setattr(Document, "pages", failing_pages)
    with pytest.raises(IngestError, match="cannot read all pages"):
        add_path(store, path)
    assert store.documents() == [] and _count(store, "segments") == 0
    monkeypatch.undo()
    assert add_path(store, path).document.pages == 8


def test_add_paths_expands_folders_and_reports_each_file(store, tmp_path):
    notes = tmp_path / "my notes"
    (notes / "sub").mkdir(parents=True)
    docgen.markdown_notes(notes / "ideas.md", [("Ideas", ["Plant more trees."])])
    (notes / "sub" / "todo.txt").write_text("Buy rope. Fix the gate.\n")
    (notes / "sub" / "empty.txt").write_text("")
    (notes / ".secret.md").write_text("hidden")
    (notes / "image.png").write_bytes(b"\x89PNG")
    docgen.write_pdf(notes / "sub" / "paper.pdf", [["A paper in the notes folder."]])
    (tmp_path / "empty dir").mkdir()
    results = list(add_paths(store, [notes, tmp_path / "nope.md", tmp_path / "empty dir"]))
    ok = sorted(r.path.name for r in results if isinstance(r, AddResult))
    failed = sorted(r.error for r in results if isinstance(r, AddFailure))
    assert ok == ["ideas.md", "paper.pdf", "todo.txt"]
    assert len(failed) == 3
    assert any(e.endswith("empty.txt is empty") for e in failed)
    assert any(e.startswith("file not found:") for e in failed)
    assert any(e.startswith("no supported files in folder") for e in failed)
    assert sorted(d.name for d in store.documents()) == ok
    segs = store.segments(next(d.id for d in store.documents() if d.name == "ideas.md"))
    assert [(s.text, s.heading) for s in segs] == [
        ("## Ideas", "Ideas"),
        ("Plant more trees.", "Ideas"),
    ]
