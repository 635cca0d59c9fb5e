"""The library: one SQLite file (WAL) holding documents, segments and every cached result.

The store owns all SQL. Writes that must be atomic (a whole document) run in one explicit
BEGIN IMMEDIATE ... COMMIT, so a process killed halfway leaves nothing behind.

Threads: each thread gets its own connection, so a read never sees another thread's open
transaction (WAL gives every reader the last committed state). Writes take the lock only
for the insert itself: a document's segments are produced (the file parsed) and spooled to
a temporary file before the write transaction opens. Opening the store only reads unless
the schema needs an upgrade, so commands that only read never wait for a writer.
"""

from __future__ import annotations

import contextlib
import json
import marshal
import math
import os
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, ClassVar, TypeAlias

import numpy as np

from ctxchat.engines.errors import StoreError
from ctxchat.engines.paths import db_path, private_dir
from ctxchat.engines.results import JSONObject, JSONValue

# One segment as spooled and inserted: page, paragraph, text, tokens, hash, heading.
SegmentValues: TypeAlias = tuple[int | None, int, str, int, str, str | None]
# How long a write waits for another process's write to finish, and when it says it waits.
BUSY_TIMEOUT_MS = 30_000
BUSY_NOTICE_MS = 1_000


@dataclass(frozen=True)
class DocumentRow:
    id: int
    sha256: str
    name: str
    path: str
    kind: str
    pages: int
    bytes: int
    tokens: int
    segments: int
    added_at: str
    # Which version of ctxchat's reader made its segments (engines/ingest/library.py
    # READER_VERSION); 0: added before versions were recorded.
    reader: int = 0


@dataclass(frozen=True)
class CachedCompression:
    """A stored compression result (spans as the JSON objects they were saved as)."""

    text: str
    spans: list[JSONObject] | None
    original_tokens: int
    compressed_tokens: int


@dataclass(frozen=True)
class ChatRow:
    id: int
    title: str
    doc_ids: list[int]
    model: str | None
    created_at: str


@dataclass(frozen=True)
class MessageRow:
    id: int
    role: str  # "user" or "assistant"
    content: str
    context: str | None  # the compressed context the answer was given
    stats: JSONObject | None
    created_at: str


@dataclass(frozen=True)
class SegmentRow:
    id: int
    doc_id: int
    ord: int
    page: int | None
    paragraph: int
    text: str
    tokens: int
    hash: str
    heading: str | None


@dataclass(frozen=True)
class NewSegment:
    """A segment as ingest produces it, before it has an id."""

    page: int | None
    paragraph: int
    text: str
    tokens: int
    hash: str
    heading: str | None = None


def _migrate_1(db: sqlite3.Connection) -> None:
    # Frozen: existing libraries were created by it. Table by table, in the original order.
    _create_documents(db)
    _create_caches(db)
    _create_chats(db)


def _create_documents(db: sqlite3.Connection) -> None:
    """Documents, their segments and the segments' full-text index."""
    db.execute(
        """CREATE TABLE documents (
            id INTEGER PRIMARY KEY,
            sha256 TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            path TEXT NOT NULL,
            kind TEXT NOT NULL,
            pages INTEGER NOT NULL DEFAULT 0,
            bytes INTEGER NOT NULL DEFAULT 0,
            tokens INTEGER NOT NULL DEFAULT 0,
            segments INTEGER NOT NULL DEFAULT 0,
            added_at TEXT NOT NULL
        )"""
    )
    db.execute(
        """CREATE TABLE segments (
            id INTEGER PRIMARY KEY,
            doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
            ord INTEGER NOT NULL,
            page INTEGER,
            paragraph INTEGER NOT NULL,
            text TEXT NOT NULL,
            tokens INTEGER NOT NULL,
            hash TEXT NOT NULL,
            heading TEXT
        )"""
    )
    db.execute("CREATE INDEX segments_doc_ord ON segments(doc_id, ord)")
    db.execute("CREATE INDEX segments_hash ON segments(hash)")
    # External-content FTS5 index kept in step by triggers.
    db.execute(
        "CREATE VIRTUAL TABLE segments_fts USING fts5("
        "text, content='segments', content_rowid='id', tokenize='porter unicode61')"
    )
    db.execute(
        "CREATE TRIGGER segments_ai AFTER INSERT ON segments BEGIN "
        "INSERT INTO segments_fts(rowid, text) VALUES (new.id, new.text); END"
    )
    db.execute(
        "CREATE TRIGGER segments_ad AFTER DELETE ON segments BEGIN "
        "INSERT INTO segments_fts(segments_fts, rowid, text) VALUES('delete', old.id, old.text); END"
    )


def _create_caches(db: sqlite3.Connection) -> None:
    """Caches keyed by content hash, so they survive removing and re-adding a document."""
    db.execute(
        """CREATE TABLE embeddings (
            hash TEXT NOT NULL,
            model TEXT NOT NULL,
            vector BLOB NOT NULL,
            PRIMARY KEY (hash, model)
        ) WITHOUT ROWID"""
    )
    db.execute(
        """CREATE TABLE keep_probs (
            hash TEXT NOT NULL,
            model TEXT NOT NULL,
            options TEXT NOT NULL,
            payload BLOB NOT NULL,
            PRIMARY KEY (hash, model, options)
        ) WITHOUT ROWID"""
    )
    db.execute(
        """CREATE TABLE compressions (
            key TEXT PRIMARY KEY,
            doc_id INTEGER REFERENCES documents(id) ON DELETE CASCADE,
            query TEXT,
            options TEXT NOT NULL,
            text TEXT NOT NULL,
            spans TEXT,
            original_tokens INTEGER NOT NULL,
            compressed_tokens INTEGER NOT NULL,
            created_at TEXT NOT NULL
        )"""
    )


def _create_chats(db: sqlite3.Connection) -> None:
    """Chats and their messages."""
    db.execute(
        """CREATE TABLE chats (
            id INTEGER PRIMARY KEY,
            title TEXT NOT NULL,
            doc_ids TEXT NOT NULL,
            model TEXT,
            created_at TEXT NOT NULL
        )"""
    )
    db.execute(
        """CREATE TABLE messages (
            id INTEGER PRIMARY KEY,
            chat_id INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
            role TEXT NOT NULL,
            content TEXT NOT NULL,
            context TEXT,
            stats TEXT,
            created_at TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX messages_chat ON messages(chat_id, id)")


def _migrate_2(db: sqlite3.Connection) -> None:
    # Frozen. The reader version of each document: a newer reader re-reads older ones.
    db.execute("ALTER TABLE documents ADD COLUMN reader INTEGER NOT NULL DEFAULT 0")


# Forward migrations: MIGRATIONS[i] takes the schema from version i to i + 1.
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_migrate_1, _migrate_2]


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def fts_query(text: str) -> str:
    """Turn free text into a safe FTS5 query: each word quoted, OR-ed together."""
    words = [w for w in "".join(c if c.isalnum() else " " for c in text).split() if len(w) > 1]
    return " OR ".join(f'"{w}"' for w in dict.fromkeys(w.lower() for w in words))


# FTS5's bm25() parameters (its defaults).
BM25_K1, BM25_B = 1.2, 0.75


def fts5_idf(rows: int, hits: int) -> float:
    """FTS5's BM25 inverse document frequency (its floor included)."""
    idf = math.log((rows - hits + 0.5) / (hits + 0.5))
    return idf if idf > 0 else 1e-6


@dataclass(frozen=True)
class BM25Stats:
    """How many rows, and their mean length in words, for BM25's weights."""

    rows: int
    mean_length: float

    def _norm(self, length: int) -> float:
        return BM25_K1 * (1 - BM25_B + BM25_B * length / self.mean_length)

    def part(self, count: float, length: int) -> float:
        """The term-frequency part of BM25 for a word seen `count` times in a row."""
        return count * (BM25_K1 + 1) / (count + self._norm(length))

    def count(self, part: float, length: int) -> float:
        """The word count that gives `part` (the inverse of part())."""
        return part * self._norm(length) / (BM25_K1 + 1 - part)


@dataclass(frozen=True)
class SegmentSpan:
    """A document's lowest and highest segment id; whole when every id between is its."""

    doc_id: int
    first: int
    last: int
    whole: bool


def _varint(blob: bytes, pos: int = 0) -> tuple[int, int]:
    """An SQLite varint (FTS5's shadow tables) at `pos`: (value, position after it)."""
    value = 0
    for i in range(9):
        byte = blob[pos + i]
        if i == 8:
            return (value << 8) | byte, pos + 9
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            return value, pos + i + 1
    raise AssertionError("unreachable")


class Store:
    """The ctxchat library database. Safe to share between threads and processes."""

    # Called with a one-line notice when a write waits for another process (the CLI prints
    # it on stderr); None stays silent.
    on_busy: ClassVar[Callable[[str], None] | None] = None

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else db_path()
        private_dir(self.path.parent)
        _create_private_file(self.path)
        self._local = threading.local()
        self._connections: dict[threading.Thread, sqlite3.Connection] = {}
        self._connections_lock = threading.Lock()
        self._lock = threading.RLock()  # one writer at a time within this process
        # BM25 statistics of the documents last asked about (_fts_asked_stats); replaced
        # whole, so a reader on another thread sees the old dict or the new one.
        self._asked_stats: dict[tuple, BM25Stats] = {}
        try:
            self._migrate()
        except sqlite3.DatabaseError as exc:
            self.close()
            raise StoreError(f"cannot open the library at {self.path}: {exc}") from exc

    # -- lifecycle -----------------------------------------------------------------------

    @property
    def conn(self) -> sqlite3.Connection:
        """This thread's connection (opened on first use)."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
        return conn

    def _connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(
                self.path,
                timeout=BUSY_TIMEOUT_MS / 1000,
                isolation_level=None,  # autocommit: transactions are ours, explicit
                check_same_thread=False,  # close() runs on the thread that owns the store
            )
            conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot open the library at {self.path}: {exc}") from exc
        with self._connections_lock:
            # Worker threads come and go (one per TUI job): close what finished ones opened.
            for thread in [t for t in self._connections if not t.is_alive()]:
                self._connections.pop(thread).close()
            self._connections[threading.current_thread()] = conn
        return conn

    def close(self) -> None:
        with self._connections_lock:
            connections, self._connections = self._connections, {}
        for conn in connections.values():
            conn.close()
        self._local = threading.local()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        # A plain read first: an up-to-date library is opened without the write lock.
        if self._check_version() == len(MIGRATIONS):
            return
        with self.transaction() as conn:
            version = self._check_version()
            for step in MIGRATIONS[version:]:
                step(conn)
            conn.execute(f"PRAGMA user_version={len(MIGRATIONS)}")

    def _check_version(self) -> int:
        version = self.schema_version
        if version > len(MIGRATIONS):
            raise StoreError(
                f"the library at {self.path} has schema {version}, newer than this "
                f"ctxchat understands ({len(MIGRATIONS)}); upgrade ctxchat"
            )
        return version

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; rolled back on any exception (or a kill: WAL).

        A failed COMMIT (disk full) is rolled back and reported as a StoreError naming
        the cause; a rollback SQLite already did itself is not an error of its own.
        """
        with self._lock:
            conn = self.conn
            self._begin(conn)
            try:
                yield conn
            except BaseException:
                _rollback(conn)
                raise
            try:
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                _rollback(conn)
                raise StoreError(f"cannot save to the library at {self.path}: {exc}") from exc

    def _begin(self, conn: sqlite3.Connection) -> None:
        """BEGIN IMMEDIATE; when another process writes, say so, wait, then fail in one line."""
        conn.execute(f"PRAGMA busy_timeout={min(BUSY_NOTICE_MS, BUSY_TIMEOUT_MS)}")
        try:
            conn.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc):
                raise
        finally:
            conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        seconds = BUSY_TIMEOUT_MS / 1000
        if Store.on_busy is not None:
            Store.on_busy(
                f"the library is busy (another ctxchat is writing to it); "
                f"waiting up to {seconds:g} s"
            )
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc):
                raise
            raise StoreError(
                f"the library at {self.path} stayed busy for {seconds:g} s (another ctxchat "
                "is writing to it); try again when it has finished"
            ) from None

    # -- documents -----------------------------------------------------------------------

    def add_document(
        self,
        *,
        sha256: str,
        name: str,
        path: str,
        kind: str,
        size: int,
        segments: Iterable[NewSegment],
        reader: int = 0,
        on_page: Callable[[int], None] | None = None,
        batch: int = 500,
    ) -> tuple[DocumentRow, bool]:
        """Store a document and its segments atomically. Returns (row, created).

        `segments` may be a generator that parses a file page by page: it is consumed
        first, into a temporary file in batches (memory does not grow with the document),
        and only then does the write transaction open, so the write lock is held for the
        insert alone and an error while parsing writes nothing. When the same content is
        already stored, nothing is written and created is False.
        """
        existing = self.document_by_hash(sha256)
        if existing is not None:
            return existing, False
        with _SegmentSpool(self.path.parent, batch) as spool:
            spool.write(segments, on_page)
            with self.transaction() as conn:
                # Checked again under the write lock: another process may have added it.
                existing = self.document_by_hash(sha256)
                if existing is not None:
                    return existing, False
                cur = conn.execute(
                    "INSERT INTO documents (sha256, name, path, kind, pages, bytes, tokens, "
                    "segments, added_at, reader) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (sha256, name, path, kind, spool.max_page, size, spool.tokens, spool.count,
                     _now(), reader),
                )  # fmt: skip
                doc_id = int(cur.lastrowid)
                self._insert_spooled(conn, doc_id, spool)
        row = self.document(doc_id)
        assert row is not None
        return row, True

    def replace_segments(
        self,
        doc_id: int,
        *,
        path: str,
        segments: Iterable[NewSegment],
        reader: int,
        on_page: Callable[[int], None] | None = None,
        batch: int = 500,
    ) -> DocumentRow:
        """Swap a document's segments for a new reading of the same file, keeping its id
        (chats name it) and its name. Spooled first like add_document, then one transaction;
        an error while reading leaves the old segments. Vectors are keyed by a segment's
        text, so the sentences a newer reader reads alike keep theirs."""
        with _SegmentSpool(self.path.parent, batch) as spool:
            spool.write(segments, on_page)
            with self.transaction() as conn:
                if self.document(doc_id) is None:
                    raise StoreError(f"document {doc_id} was removed while it was read again")
                conn.execute("DELETE FROM segments WHERE doc_id=?", (doc_id,))
                conn.execute(
                    "UPDATE documents SET path=?, pages=?, tokens=?, segments=?, reader=? "
                    "WHERE id=?",
                    (path, spool.max_page, spool.tokens, spool.count, reader, doc_id),
                )
                self._insert_spooled(conn, doc_id, spool)
        row = self.document(doc_id)
        assert row is not None
        return row

    def _insert_spooled(self, conn: sqlite3.Connection, doc_id: int, spool: _SegmentSpool) -> None:
        ord_ = 0
        for rows in spool.batches():
            numbered = [(doc_id, ord_ + i, *row) for i, row in enumerate(rows)]
            ord_ += len(rows)
            self._insert_segments(conn, numbered)

    @staticmethod
    def _insert_segments(conn: sqlite3.Connection, rows: list[SegmentValues]) -> None:
        if rows:
            conn.executemany(
                "INSERT INTO segments (doc_id, ord, page, paragraph, text, tokens, hash, heading)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )

    def set_document_pages(self, doc_id: int, pages: int) -> None:
        with self.transaction() as conn:
            conn.execute("UPDATE documents SET pages=? WHERE id=?", (pages, doc_id))

    def documents(self) -> list[DocumentRow]:
        rows = self.conn.execute(f"SELECT {self._doc_cols} FROM documents ORDER BY id").fetchall()
        return [DocumentRow(*r) for r in rows]

    _doc_cols = "id, sha256, name, path, kind, pages, bytes, tokens, segments, added_at, reader"

    def document(self, doc_id: int) -> DocumentRow | None:
        r = self.conn.execute(
            f"SELECT {self._doc_cols} FROM documents WHERE id=?", (doc_id,)
        ).fetchone()
        return DocumentRow(*r) if r else None

    def document_by_hash(self, sha256: str) -> DocumentRow | None:
        r = self.conn.execute(
            f"SELECT {self._doc_cols} FROM documents WHERE sha256=?", (sha256,)
        ).fetchone()
        return DocumentRow(*r) if r else None

    def find_documents(self, ref: str) -> list[DocumentRow]:
        """Documents matching a user's reference: an id, a hash prefix, or a name."""
        ref = ref.strip()
        if ref.isdigit():
            row = self.document(int(ref))
            if row:
                return [row]
        rows = self.conn.execute(
            f"SELECT {self._doc_cols} FROM documents WHERE name=? OR path=? "
            # A prefix compared as a string: "_" and "%" are not wildcards here.
            "OR (length(?) >= 6 AND substr(sha256, 1, length(?)) = ?) ORDER BY id",
            (ref, ref, ref, ref, ref.lower()),
        ).fetchall()
        return [DocumentRow(*r) for r in rows]

    def remove_document(self, doc_id: int) -> bool:
        with self.transaction() as conn:
            cur = conn.execute("DELETE FROM documents WHERE id=?", (doc_id,))
        return cur.rowcount > 0

    # -- segments ------------------------------------------------------------------------

    _seg_cols = "id, doc_id, ord, page, paragraph, text, tokens, hash, heading"

    def segments(self, doc_id: int) -> list[SegmentRow]:
        rows = self.conn.execute(
            f"SELECT {self._seg_cols} FROM segments WHERE doc_id=? ORDER BY ord", (doc_id,)
        ).fetchall()
        return [SegmentRow(*r) for r in rows]

    def iter_segments(self, doc_id: int, batch: int = 1000) -> Iterator[SegmentRow]:
        """Stream a document's segments in order without loading them all."""
        last = -1
        while True:
            rows = self.conn.execute(
                f"SELECT {self._seg_cols} FROM segments WHERE doc_id=? AND ord>? "
                "ORDER BY ord LIMIT ?",
                (doc_id, last, batch),
            ).fetchall()
            if not rows:
                return
            for r in rows:
                yield SegmentRow(*r)
            last = rows[-1][2]

    def bm25(
        self, doc_ids: Sequence[int], query: str, limit: int = 1000, *, idf: str = "asked"
    ) -> dict[int, float]:
        """BM25 scores (higher is better) of segments in `doc_ids` for a free-text query.

        idf="asked" weighs each word by how rare it is in the documents asked about, so a
        document's ranking does not change with whatever else the library holds; "library"
        is FTS5's own weight, over every document stored."""
        match = fts_query(query)
        if not match or not doc_ids:
            return {}
        if idf == "asked":
            return self._bm25_asked(doc_ids, match, limit)
        marks = ",".join("?" * len(doc_ids))
        rows = self.conn.execute(
            "SELECT segments.id, -bm25(segments_fts) FROM segments_fts "
            "JOIN segments ON segments.id = segments_fts.rowid "
            f"WHERE segments_fts MATCH ? AND segments.doc_id IN ({marks}) "
            "ORDER BY bm25(segments_fts) LIMIT ?",
            (match, *doc_ids, limit),
        ).fetchall()
        return {int(i): float(s) for i, s in rows}

    def _bm25_asked(self, doc_ids: Sequence[int], match: str, limit: int) -> dict[int, float]:
        """Okapi BM25 with the statistics of the segments in `doc_ids` only: how many hold
        each word, and their mean length. A document's ranking then does not change with
        whatever else the library holds; FTS5's own bm25() counts both over every row.

        FTS5 still finds the rows (its tokenizer and stemmer) and gives each word's score
        alone; from that score, the table's statistics and the row's length, the word's
        count in the row follows, and the score is made again with the asked ones."""
        table = self._fts_table_stats()
        asked, spans = self._fts_asked_stats(tuple(sorted(doc_ids)))
        scores: dict[int, float] = {}
        for word in match.split(" OR "):
            rows = [row for span in spans for row in self._fts_hits(word, span)]
            if not rows:
                continue
            everywhere = self.conn.execute(
                "SELECT count(*) FROM segments_fts WHERE segments_fts MATCH ?", (word,)
            ).fetchone()[0]
            table_idf = fts5_idf(table.rows, everywhere)
            asked_idf = fts5_idf(asked.rows, len(rows))
            for seg_id, score, size in rows:
                length = _varint(size)[0]
                count = table.count(score / table_idf, length)
                part = asked.part(count, length)
                scores[int(seg_id)] = scores.get(int(seg_id), 0.0) + asked_idf * part
        best = sorted(scores.items(), key=lambda item: -item[1])[:limit]
        return dict(best)

    def _fts_hits(self, word: str, span: SegmentSpan) -> list[tuple[int, float, bytes]]:
        """(segment id, FTS5 score, its size record) of the segments of one document that
        hold `word`. Its ids are one range (added in one transaction): FTS5 seeks to it in
        the word's list, where joining on the document probed the index once per segment
        (100x slower on a 348-page book)."""
        sql = (
            "WITH hits AS MATERIALIZED (SELECT rowid AS id, -bm25(segments_fts) AS score "
            "FROM segments_fts WHERE segments_fts MATCH ? AND rowid BETWEEN ? AND ?) "
            "SELECT hits.id, hits.score, d.sz FROM hits "
            "JOIN segments_fts_docsize d ON d.id = hits.id"
        )
        if span.whole:
            return self.conn.execute(sql, (word, span.first, span.last)).fetchall()
        sql += " JOIN segments s ON s.id = hits.id WHERE s.doc_id = ?"
        return self.conn.execute(sql, (word, span.first, span.last, span.doc_id)).fetchall()

    def _fts_table_stats(self) -> BM25Stats:
        """Rows and mean length over the whole word index (FTS5's averages record)."""
        row = self.conn.execute("SELECT block FROM segments_fts_data WHERE id=1").fetchone()
        rows, pos = _varint(row[0]) if row else (0, 0)
        tokens = _varint(row[0], pos)[0] if row else 0
        return BM25Stats(rows, tokens / rows if rows else 1.0)

    def _fts_asked_stats(self, doc_ids: tuple[int, ...]) -> tuple[BM25Stats, list[SegmentSpan]]:
        """Rows and mean length of the segments of `doc_ids`, and each document's segment
        ids; kept while they are unchanged (a document read again gets new ids)."""
        marks = ",".join("?" * len(doc_ids))
        spans = [
            SegmentSpan(doc_id, first, last, whole=last - first + 1 == count)
            for doc_id, first, last, count in self.conn.execute(
                "SELECT doc_id, min(id), max(id), count(*) FROM segments "
                f"WHERE doc_id IN ({marks}) GROUP BY doc_id",
                doc_ids,
            )
        ]
        key = (doc_ids, tuple(spans))
        cached = self._asked_stats.get(key)
        if cached is None:
            sizes = self.conn.execute(
                "SELECT d.sz FROM segments_fts_docsize d JOIN segments ON segments.id = d.id "
                f"WHERE segments.doc_id IN ({marks})",
                doc_ids,
            ).fetchall()
            total = sum(_varint(size)[0] for (size,) in sizes)
            cached = BM25Stats(len(sizes), total / len(sizes) if sizes else 1.0)
            self._asked_stats = {key: cached}  # one set of documents is asked at a time
        return cached, spans

    # -- caches --------------------------------------------------------------------------

    def get_embeddings(self, hashes: Sequence[str], model: str) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for chunk in _chunks(list(dict.fromkeys(hashes)), 500):
            marks = ",".join("?" * len(chunk))
            for h, blob in self.conn.execute(
                f"SELECT hash, vector FROM embeddings WHERE model=? AND hash IN ({marks})",
                (model, *chunk),
            ):
                out[h] = np.frombuffer(blob, dtype=np.float32)
        return out

    def missing_embeddings(self, doc_id: int, model: str) -> list[SegmentRow]:
        """A document's segments whose text has no vector yet, one per distinct hash, in
        document order (what indexing still has to embed)."""
        rows = self.conn.execute(
            f"SELECT {self._seg_cols} FROM segments s WHERE doc_id=? AND NOT EXISTS "
            "(SELECT 1 FROM embeddings e WHERE e.hash=s.hash AND e.model=?) ORDER BY ord",
            (doc_id, model),
        ).fetchall()
        seen: set[str] = set()
        out = []
        for r in rows:
            if r[7] not in seen:
                seen.add(r[7])
                out.append(SegmentRow(*r))
        return out

    def embedding_progress(self, doc_id: int, model: str) -> tuple[int, int]:
        """(distinct sentences of the document with a vector, distinct sentences)."""
        row = self.conn.execute(
            "SELECT count(DISTINCT s.hash), count(DISTINCT e.hash) FROM segments s "
            "LEFT JOIN embeddings e ON e.hash=s.hash AND e.model=? WHERE s.doc_id=?",
            (model, doc_id),
        ).fetchone()
        return int(row[1]), int(row[0])

    def put_embeddings(self, model: str, vectors: dict[str, np.ndarray]) -> None:
        with self.transaction() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO embeddings (hash, model, vector) VALUES (?, ?, ?)",
                [(h, model, np.asarray(v, dtype=np.float32).tobytes()) for h, v in vectors.items()],
            )

    def get_keep_probs(self, hashes: Sequence[str], model: str, options: str) -> dict[str, bytes]:
        """Cached compressor payloads (the compressor owns their format)."""
        out: dict[str, bytes] = {}
        for chunk in _chunks(list(dict.fromkeys(hashes)), 500):
            marks = ",".join("?" * len(chunk))
            for h, blob in self.conn.execute(
                "SELECT hash, payload FROM keep_probs WHERE model=? AND options=? "
                f"AND hash IN ({marks})",
                (model, options, *chunk),
            ):
                out[h] = bytes(blob)
        return out

    def put_keep_probs(self, model: str, options: str, payloads: dict[str, bytes]) -> None:
        with self.transaction() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO keep_probs (hash, model, options, payload) "
                "VALUES (?, ?, ?, ?)",
                [(h, model, options, p) for h, p in payloads.items()],
            )

    def get_compression(self, key: str) -> CachedCompression | None:
        r = self.conn.execute(
            "SELECT text, spans, original_tokens, compressed_tokens FROM compressions WHERE key=?",
            (key,),
        ).fetchone()
        if r is None:
            return None
        return CachedCompression(r[0], json.loads(r[1]) if r[1] else None, r[2], r[3])

    def put_compression(
        self,
        key: str,
        *,
        doc_id: int | None,
        query: str | None,
        options: str,
        text: str,
        spans: list[JSONObject] | None,
        original_tokens: int,
        compressed_tokens: int,
    ) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO compressions (key, doc_id, query, options, text, spans, "
                "original_tokens, compressed_tokens, created_at) VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    key,
                    doc_id,
                    query,
                    options,
                    text,
                    json.dumps(spans) if spans is not None else None,
                    original_tokens,
                    compressed_tokens,
                    _now(),
                ),
            )

    # -- chats ---------------------------------------------------------------------------

    def new_chat(self, title: str, doc_ids: Sequence[int], model: str | None = None) -> int:
        with self.transaction() as conn:
            cur = conn.execute(
                "INSERT INTO chats (title, doc_ids, model, created_at) VALUES (?, ?, ?, ?)",
                (title, json.dumps(list(doc_ids)), model, _now()),
            )
        return int(cur.lastrowid)

    def add_message(
        self,
        chat_id: int,
        role: str,
        content: str,
        *,
        context: str | None = None,
        stats: Mapping[str, JSONValue] | None = None,
    ) -> int:
        with self.transaction() as conn:
            cur = conn.execute(
                "INSERT INTO messages (chat_id, role, content, context, stats, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (chat_id, role, content, context, json.dumps(stats) if stats else None, _now()),
            )
        return int(cur.lastrowid)

    def chats(self) -> list[ChatRow]:
        rows = self.conn.execute(
            "SELECT id, title, doc_ids, model, created_at FROM chats ORDER BY id DESC"
        ).fetchall()
        return [ChatRow(r[0], r[1], json.loads(r[2]), r[3], r[4]) for r in rows]

    def chat(self, chat_id: int) -> ChatRow | None:
        r = self.conn.execute(
            "SELECT id, title, doc_ids, model, created_at FROM chats WHERE id=?", (chat_id,)
        ).fetchone()
        return ChatRow(r[0], r[1], json.loads(r[2]), r[3], r[4]) if r else None

    def messages(self, chat_id: int) -> list[MessageRow]:
        rows = self.conn.execute(
            "SELECT id, role, content, context, stats, created_at FROM messages "
            "WHERE chat_id=? ORDER BY id",
            (chat_id,),
        ).fetchall()
        return [
            MessageRow(r[0], r[1], r[2], r[3], json.loads(r[4]) if r[4] else None, r[5])
            for r in rows
        ]


class _SegmentSpool:
    """A document's segments on disk (a deleted temporary file in the private data dir),
    written before the write transaction opens and read back inside it in batches."""

    def __init__(self, folder: Path, batch: int) -> None:
        self.folder = folder
        self.batch = max(1, batch)
        self.count = self.tokens = self.max_page = 0
        self._file: IO[bytes] | None = None

    def __enter__(self) -> _SegmentSpool:
        self._file = tempfile.TemporaryFile(dir=self.folder, prefix="spool-")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._file is not None:
            self._file.close()

    def write(self, segments: Iterable[NewSegment], on_page: Callable[[int], None] | None) -> None:
        assert self._file is not None
        rows: list[SegmentValues] = []
        for seg in segments:
            rows.append((seg.page, seg.paragraph, seg.text, seg.tokens, seg.hash, seg.heading))
            self.count += 1
            self.tokens += seg.tokens
            if seg.page and seg.page > self.max_page:
                self.max_page = seg.page
                if on_page:
                    on_page(seg.page)
            if len(rows) >= self.batch:
                marshal.dump(rows, self._file)
                rows = []
        if rows:
            marshal.dump(rows, self._file)
        self._file.seek(0)

    def batches(self) -> Iterator[list[SegmentValues]]:
        assert self._file is not None
        while True:
            try:
                yield marshal.load(self._file)
            except EOFError:
                return


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    return "locked" in str(exc) or "busy" in str(exc)


def _rollback(conn: sqlite3.Connection) -> None:
    """Roll back if a transaction is still open: SQLite ends some itself (disk full)."""
    if conn.in_transaction:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")


def _create_private_file(path: Path) -> None:
    """Create the database file readable by its owner only (it holds decrypted text);
    SQLite gives its -wal and -shm files the same mode."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    except OSError as exc:
        raise StoreError(f"cannot open the library at {path}: {exc.strerror or exc}") from exc
    os.close(fd)


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
