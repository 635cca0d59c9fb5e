"""The SQLite library: schema, atomic ingest, dedup by hash, FTS, caches, two processes."""

from __future__ import annotations

import multiprocessing
import sqlite3

import numpy as np
import pytest

from ctxchat.engines.store.db import MIGRATIONS, NewSegment, Store, fts_query


def _segs(n: int, page_every: int = 3):
    for i in range(n):
        yield NewSegment(
            page=i // page_every + 1,
            paragraph=i // 2,
            text=f"Sentence {i} about {'alpha' if i % 2 else 'beta'} topics.",
            tokens=6,
            hash=f"h{i}",
        )


def test_schema_version_and_wal(ctxchat_home):
    with Store() as store:
        assert store.path.parent == ctxchat_home
        assert store.schema_version == len(MIGRATIONS)
        mode = store.conn.execute("PRAGMA journal_mode").fetchone()[0]
        assert mode == "wal"


def test_add_document_dedups_by_hash():
    with Store() as store:
        row, created = store.add_document(
            sha256="abc123", name="a.pdf", path="/x/a.pdf", kind="pdf", size=10, segments=_segs(7)
        )
        assert created and row.segments == 7 and row.pages == 3 and row.tokens == 42
        again, created2 = store.add_document(
            sha256="abc123", name="b.pdf", path="/x/b.pdf", kind="pdf", size=10, segments=_segs(3)
        )
        assert not created2 and again.id == row.id
        assert len(store.documents()) == 1
        assert [s.ord for s in store.segments(row.id)] == list(range(7))
        assert [s.ord for s in store.iter_segments(row.id, batch=2)] == list(range(7))


def test_failed_ingest_leaves_library_unchanged():
    def exploding():
        yield from _segs(3)
        raise RuntimeError("disk on fire")

    with Store() as store:
        with pytest.raises(RuntimeError):
            store.add_document(
                sha256="bad",
                name="bad.pdf",
                path="/bad.pdf",
                kind="pdf",
                size=1,
                segments=exploding(),
                batch=1,
            )
        assert store.documents() == []
        assert store.conn.execute("SELECT count(*) FROM segments").fetchone()[0] == 0
        # The library still works afterwards.
        row, created = store.add_document(
            sha256="good", name="g.pdf", path="/g.pdf", kind="pdf", size=1, segments=_segs(2)
        )
        assert created and row.segments == 2


def test_bm25_ranks_matching_segments_and_remove_cleans_fts():
    with Store() as store:
        row, _ = store.add_document(
            sha256="d1", name="d", path="/d", kind="txt", size=1, segments=_segs(6)
        )
        scores = store.bm25([row.id], "Which alpha?")
        texts = {s.id: s.text for s in store.segments(row.id)}
        assert len(scores) == 3 and all("alpha" in texts[i] for i in scores)
        assert store.remove_document(row.id)
        assert store.bm25([row.id], "alpha") == {}
        assert store.conn.execute("SELECT count(*) FROM segments").fetchone()[0] == 0


def _doc(store: Store, name: str, texts: list[str]) -> int:
    segments = (
        NewSegment(page=1, paragraph=i, text=t, tokens=len(t.split()), hash=f"{name}{i}")
        for i, t in enumerate(texts)
    )
    row, _ = store.add_document(
        sha256=name, name=name, path=f"/{name}", kind="txt", size=1, segments=segments
    )
    return row.id


def test_bm25_weighs_words_by_the_documents_asked_about_not_the_library():
    paper = [
        "The protease cleaves the spike protein at the border.",
        "A ferret model shows the spike protein in the airway.",
        "The protease is blocked by camostat in cell culture.",
        "Samples were stored at minus eighty degrees.",
    ]
    with Store() as store:
        doc = _doc(store, "paper", paper)
        alone = store.bm25([doc], "which protease cleaves spike")
        # With one document stored, the weights are FTS5's own.
        library = store.bm25([doc], "which protease cleaves spike", idf="library")
        assert alone.keys() == library.keys()
        assert all(abs(alone[i] - library[i]) < 1e-6 * max(1.0, library[i]) for i in alone)
        # A library full of "protease" must not change how this paper ranks its sentences.
        _doc(store, "review", [f"Protease number {i} in the protease family." for i in range(40)])
        assert store.bm25([doc], "which protease cleaves spike") == pytest.approx(alone)
        shifted = store.bm25([doc], "which protease cleaves spike", idf="library")
        assert shifted != pytest.approx(alone)


def test_bm25_of_a_document_whose_segment_ids_interleave_with_another():
    """The fast path reads a document's ids as one range; where another document's ids sit
    inside it, the range is filtered by document."""
    with Store() as store:
        first = _doc(store, "first", ["The protease cleaves the spike.", "Nothing here."])
        second = _doc(store, "second", ["A protease in the second paper."])
        store.conn.execute(
            "INSERT INTO segments (doc_id, ord, page, paragraph, text, tokens, hash) "
            "VALUES (?, 2, 1, 2, 'Camostat blocks the protease.', 4, 'late')",
            (first,),
        )
        texts = {s.id: s.text for s in store.segments(first)}
        hits = store.bm25([first], "protease")
        assert set(hits) == {i for i, t in texts.items() if "protease" in t} and len(hits) == 2
        assert set(store.bm25([second], "protease")) == {s.id for s in store.segments(second)}
        both = store.bm25([first, second], "protease")
        assert len(both) == 3


def test_fts_query_is_safe_for_punctuation():
    assert fts_query('what is "AND" (x) NEAR -y?') == '"what" OR "is" OR "and" OR "near"'
    assert fts_query("?!") == ""


def test_embedding_and_keep_prob_caches_roundtrip():
    with Store() as store:
        vec = np.arange(4, dtype=np.float32)
        store.put_embeddings("m", {"h1": vec})
        got = store.get_embeddings(["h1", "h2"], "m")
        assert list(got) == ["h1"] and np.array_equal(got["h1"], vec)
        store.put_keep_probs("c", "opt", {"h1": b"\x01\x02"})
        assert store.get_keep_probs(["h1"], "c", "opt") == {"h1": b"\x01\x02"}
        assert store.get_keep_probs(["h1"], "c", "other") == {}


def test_chats_and_messages():
    with Store() as store:
        chat = store.new_chat("About d", [1], model="smollm2")
        store.add_message(chat, "user", "hi")
        store.add_message(chat, "assistant", "hello", stats={"ttft": 0.1})
        msgs = store.messages(chat)
        assert [m.role for m in msgs] == ["user", "assistant"]
        assert msgs[1].stats == {"ttft": 0.1}
        assert store.chats()[0].title == "About d"
        assert store.chat(chat).doc_ids == [1] and store.chat(chat + 1) is None


def test_newer_schema_is_refused(ctxchat_home):
    Store().close()
    conn = sqlite3.connect(ctxchat_home / "library.db")
    conn.execute("PRAGMA user_version=99")
    conn.close()
    from ctxchat.engines.errors import StoreError

    with pytest.raises(StoreError, match="newer"):
        Store()


def test_a_first_schema_library_gains_reader_versions(ctxchat_home):
    # A library as the first schema made it, with a document in it.
    conn = sqlite3.connect(ctxchat_home / "library.db", isolation_level=None)
    MIGRATIONS[0](conn)
    conn.execute("PRAGMA user_version=1")
    conn.execute(
        "INSERT INTO documents (sha256, name, path, kind, added_at) "
        "VALUES ('old', 'old.pdf', '/old.pdf', 'pdf', 'then')"
    )
    conn.close()
    with Store() as store:
        assert store.schema_version == len(MIGRATIONS) == 2
        (doc,) = store.documents()
        assert (doc.name, doc.reader) == ("old.pdf", 0)  # read before versions were kept
        new, _ = store.add_document(
            sha256="new", name="n", path="/n", kind="txt", size=1, segments=_segs(2), reader=3
        )
        assert new.reader == 3


def test_replace_segments_keeps_the_document_and_its_chats():
    with Store() as store:
        row, _ = store.add_document(
            sha256="d1", name="d.pdf", path="/a/d.pdf", kind="pdf", size=1, segments=_segs(6)
        )
        chat = store.new_chat("About d", [row.id])
        fresh = (
            NewSegment(page=p, paragraph=p, text=f"Gamma fact {p}.", tokens=4, hash=f"g{p}")
            for p in (1, 2)
        )
        new = store.replace_segments(row.id, path="/b/d.pdf", segments=fresh, reader=2)
        assert (new.id, new.name, new.added_at) == (row.id, row.name, row.added_at)
        assert (new.path, new.segments, new.tokens, new.pages, new.reader) == (
            "/b/d.pdf", 2, 8, 2, 2,
        )  # fmt: skip
        assert [s.text for s in store.segments(row.id)] == ["Gamma fact 1.", "Gamma fact 2."]
        assert store.bm25([row.id], "alpha") == {}  # the old text left the word index
        assert len(store.bm25([row.id], "gamma")) == 2
        assert store.chat(chat).doc_ids == [row.id]


def test_replace_segments_that_fail_keep_the_old_ones():
    def exploding():
        yield from _segs(2)
        raise RuntimeError("unreadable page")

    with Store() as store:
        row, _ = store.add_document(
            sha256="d1", name="d", path="/d", kind="pdf", size=1, segments=_segs(5)
        )
        with pytest.raises(RuntimeError):
            store.replace_segments(row.id, path="/d", segments=exploding(), reader=1, batch=1)
        assert store.document(row.id) == row
        assert len(store.segments(row.id)) == 5 and len(store.bm25([row.id], "alpha")) == 2


def _writer(path: str, start: int) -> None:
    with Store(path) as store:
        for i in range(start, start + 5):
            store.add_document(
                sha256=f"p{i}", name=f"n{i}", path="/p", kind="txt", size=1, segments=_segs(20)
            )


def test_two_processes_write_at_once(tmp_path):
    db = str(tmp_path / "shared.db")
    Store(db).close()
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(db, k * 100)) for k in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0]
    with Store(db) as store:
        assert len(store.documents()) == 10
