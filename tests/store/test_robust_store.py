"""Issue 16, defects 3, 4, 9 (database), 11 and the private data dir; issue 14 item 3.

The library under threads and a second process: reads never see a half-added document,
parsing never holds the write lock, read-only commands never take it, a busy library
waits with a notice and then fails in one line. Every wait here is bounded.
"""

from __future__ import annotations

import sqlite3
import stat
import threading
from pathlib import Path

import numpy as np
import pytest

from ctxchat.app.cli import main
from ctxchat.engines.errors import StoreError
from ctxchat.engines.ingest.library import add_path
from ctxchat.engines.store import db as store_module
from ctxchat.engines.store.db import NewSegment, Store

WAIT = 20.0  # seconds any step may take before the test calls it stuck


def _segments(n: int, pause_at: int | None = None, halfway=None, resume=None):
    for i in range(n):
        if i == pause_at:
            halfway.set()
            resume.wait(WAIT)
        yield NewSegment(
            page=i // 10 + 1, paragraph=i, text=f"Sentence {i} here.", tokens=4, hash=f"s{i}"
        )


def _add(store: Store, sha: str, segments) -> None:
    store.add_document(sha256=sha, name=f"{sha}.txt", path="", kind="text", size=1,
                       segments=segments)  # fmt: skip


def test_refresh_during_ingest_never_sees_the_half_added_document(tmp_path, monkeypatch):
    """The TUI's refresh (documents, segments) on one thread while an ingest writes on
    another: before the fix both shared one connection and the reader saw the ingest's
    open transaction (0 counts, part of the segments)."""
    store = Store(tmp_path / "lib.db")
    inside, resume = threading.Event(), threading.Event()
    original = Store._insert_segments

    def slow_insert(conn, rows):  # pause inside the write transaction, rows half written
        original(conn, rows)
        inside.set()
        resume.wait(WAIT)

    monkeypatch.setattr(Store, "_insert_segments", staticmethod(slow_insert))
    writer = threading.Thread(target=_add, args=(store, "doc", _segments(1200)))
    writer.start()
    try:
        assert inside.wait(WAIT)
        seen = store.documents()
        seen_segments = store.conn.execute("SELECT count(*) FROM segments").fetchone()[0]
    finally:
        resume.set()
        writer.join(WAIT)
    assert seen == [] and seen_segments == 0
    (doc,) = store.documents()
    assert doc.segments == 1200 == len(store.segments(doc.id))
    store.close()


def test_parsing_holds_no_lock_so_other_threads_write_meanwhile(tmp_path):
    store = Store(tmp_path / "lib.db")
    halfway, resume = threading.Event(), threading.Event()
    writer = threading.Thread(
        target=_add, args=(store, "slow", _segments(100, pause_at=50, halfway=halfway,
                                                    resume=resume))
    )  # fmt: skip
    writer.start()
    try:
        assert halfway.wait(WAIT)
        assert store.documents() == []
        other = threading.Thread(
            target=store.put_embeddings, args=("m", {"h": np.ones(3, dtype=np.float32)})
        )
        other.start()
        other.join(5)
        finished = not other.is_alive()
    finally:
        resume.set()
        writer.join(WAIT)
    assert finished, "a write from another thread waited for the parse to end"
    assert set(store.get_embeddings(["h"], "m")) == {"h"}
    store.close()


def test_a_file_is_parsed_before_the_write_transaction_opens(tmp_path, monkeypatch):
    """While add_path reads pages, another process can write (it used to wait 30 s)."""
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_MS", 1500)
    text = tmp_path / "notes.txt"
    text.write_text("\n\n".join(f"Paragraph {i} says something. " * 40 for i in range(60)))
    path = tmp_path / "lib.db"
    store = Store(path)
    writes: list[str] = []

    def on_progress(done: int, total: int) -> None:
        if not writes:
            other = sqlite3.connect(path, timeout=1.0, isolation_level=None)
            other.execute("BEGIN IMMEDIATE")  # fails with "database is locked" if held
            other.execute("ROLLBACK")
            other.close()
            writes.append("ok")

    add_path(store, text, on_progress=on_progress)
    assert writes == ["ok"]
    store.close()


def _hold_write_lock(path: Path) -> sqlite3.Connection:
    """Another process's long write, as seen by SQLite: an open BEGIN IMMEDIATE."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO chats (title, doc_ids, created_at) VALUES ('x', '[]', 'now')")
    return other


def test_read_only_commands_do_not_wait_for_a_writer(ctxchat_home, monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_MS", 1500)
    note = tmp_path / "a.txt"
    note.write_text("The alpha note is short. It has two sentences.\n")
    assert main(["add", str(note)]) == 0
    other = _hold_write_lock(ctxchat_home / "library.db")
    try:
        capsys.readouterr()
        assert main(["docs"]) == 0
        assert "a.txt" in capsys.readouterr().out
        assert main(["docs", "--json"]) == 0
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_a_busy_library_waits_with_a_notice_then_fails_in_one_line(
    ctxchat_home, monkeypatch, capsys, tmp_path
):
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_MS", 1500)
    monkeypatch.setattr(store_module, "BUSY_NOTICE_MS", 200)
    note = tmp_path / "a.txt"
    note.write_text("The alpha note is short. It has two sentences.\n")
    assert main(["add", str(note)]) == 0
    other = _hold_write_lock(ctxchat_home / "library.db")
    try:
        capsys.readouterr()
        assert main(["rm", "1"]) == 1
    finally:
        other.execute("ROLLBACK")
        other.close()
    err = capsys.readouterr().err
    assert "the library is busy" in err and "waiting up to 1.5 s" in err
    assert err.strip().splitlines()[-1].startswith("ctxchat: error: the library at ")
    assert "Traceback" not in err
    assert main(["rm", "1"]) == 0  # and works once the other writer is done


@pytest.mark.parametrize("ref", ["______", "%%%%%%", "%", "_" * 64])
def test_rm_with_like_wildcards_matches_nothing(ref, capsys, tmp_path):
    note = tmp_path / "only.txt"
    note.write_text("The only document in the library. It must survive.\n")
    assert main(["add", str(note)]) == 0
    assert main(["rm", ref]) == 1
    assert "no document matches" in capsys.readouterr().err
    with Store() as store:
        assert len(store.documents()) == 1
        sha = store.documents()[0].sha256
        assert [d.sha256 for d in store.find_documents(sha[:8])] == [sha]
        assert [d.sha256 for d in store.find_documents(sha[:8].upper())] == [sha]


def test_corrupt_database_page_is_one_line(ctxchat_home, capsys, tmp_path):
    note = tmp_path / "a.txt"
    note.write_text("Some sentence for the library. " * 400)
    assert main(["add", str(note)]) == 0
    db = ctxchat_home / "library.db"
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    data = bytearray(db.read_bytes())
    for page in range(2, len(data) // page_size):  # every page but the header's
        data[page * page_size : page * page_size + 64] = b"\xa5" * 64
    db.write_bytes(bytes(data))
    capsys.readouterr()
    for argv in (["compress", str(note), "--no-prune"], ["rm", "1"]):
        code = main(argv)
        err = capsys.readouterr().err
        assert code == 1, argv
        assert err.startswith("ctxchat: error: ") and len(err.strip().splitlines()) == 1, err
        assert "Traceback" not in err


def test_disk_full_at_commit_names_the_cause(tmp_path):
    """SQLite ends the transaction itself on SQLITE_FULL; the old ROLLBACK then failed
    with 'no transaction is active' and that error replaced the real one."""
    store = Store(tmp_path / "lib.db")
    pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
    store.conn.execute(f"PRAGMA max_page_count={pages + 2}")  # the disk is full now
    with pytest.raises((StoreError, sqlite3.OperationalError)) as exc:
        _add(store, "big", _big_segments())
    assert "full" in str(exc.value)
    assert store.documents() == []
    store.close()


def _big_segments():
    for i in range(200):
        yield NewSegment(page=1, paragraph=i, text=f"{i} " + "y" * 4000, tokens=1, hash=f"b{i}")


def test_unwritable_home_is_one_line_even_for_doctor(tmp_path, monkeypatch, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("CTXCHAT_HOME", str(blocker / "home"))
    assert main(["docs"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("ctxchat: error: cannot use the data folder") and "CTXCHAT_HOME" in err
    code = main(["doctor"])
    out, err = capsys.readouterr()
    assert code == 1 and "Traceback" not in err
    assert "cannot use the data folder" in out


def test_data_dir_is_private(tmp_path, monkeypatch):
    home = tmp_path / "fresh-home"
    monkeypatch.setenv("CTXCHAT_HOME", str(home))
    with Store() as store:
        _add(store, "p", _segments(3))
        assert stat.S_IMODE(home.stat().st_mode) == 0o700
        for name in ("library.db", "library.db-wal", "library.db-shm"):
            assert stat.S_IMODE((home / name).stat().st_mode) == 0o600, name


def test_connections_of_finished_threads_are_closed(tmp_path):
    """A connection per thread must not leak: the TUI runs each job on a new thread."""
    store = Store(tmp_path / "lib.db")
    for _ in range(30):
        worker = threading.Thread(target=store.documents)
        worker.start()
        worker.join(WAIT)
    store.documents()  # a new connection here closes the finished threads' ones
    assert len(store._connections) <= 2
    store.close()
