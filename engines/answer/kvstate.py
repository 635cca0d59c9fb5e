"""Saved llama.cpp KV states on disk, so a document's context is not re-read after a restart.

One file per (model, KV type, n_ctx, context hash) under cache_dir("kv"). States are large
(tens of MiB), so the folder is an LRU bounded in bytes: the least recently used files go
first. Writes go to a temporary file and are renamed into place: a crash or Ctrl-C never
leaves half a state that a later run would trust.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import struct
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ctxchat.engines.paths import cache_dir

MAGIC = b"CTXKV1\n"
DEFAULT_MAX_BYTES = 1 << 30  # 1 GiB
SUFFIX = ".kv"


def state_key(model_id: str, kv_type: str, n_ctx: int, context: str) -> str:
    """The file name stem for a context's state: the same prefix gives the same key."""
    h = hashlib.sha256()
    for part in (model_id, kv_type, str(n_ctx), context):
        h.update(part.encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()[:32]


@dataclass
class SavedState:
    tokens: list[int]
    blob: bytes
    meta: dict[str, object]


class KVStateStore:
    """A bounded folder of saved KV states."""

    def __init__(self, folder: Path | None = None, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.folder = folder or cache_dir("kv")
        self.folder.mkdir(parents=True, exist_ok=True)
        self.max_bytes = max_bytes

    def path(self, key: str) -> Path:
        return self.folder / f"{key}{SUFFIX}"

    def __contains__(self, key: str) -> bool:
        return self.path(key).exists()

    def save(
        self, key: str, tokens: Sequence[int], blob: bytes, meta: dict[str, object] | None = None
    ) -> Path | None:
        """Write a state atomically; None when it alone is larger than the whole bound."""
        header = json.dumps({**(meta or {}), "n_tokens": len(tokens), "blob": len(blob)}).encode()
        size = len(MAGIC) + 4 + len(header) + 4 * len(tokens) + len(blob)
        if size > self.max_bytes:
            return None
        self._evict(room_for=size)
        final = self.path(key)
        tmp = final.with_name(f".{final.name}.{os.getpid()}.tmp")
        try:
            with open(tmp, "wb") as f:
                f.write(MAGIC)
                f.write(struct.pack("<I", len(header)))
                f.write(header)
                f.write(struct.pack(f"<{len(tokens)}i", *tokens))
                f.write(blob)
            os.replace(tmp, final)
            self._touch(final)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        return final

    def load(self, key: str) -> SavedState | None:
        """The saved state, or None if absent or unreadable (a bad file is removed)."""
        path = self.path(key)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        try:
            if not data.startswith(MAGIC):
                raise ValueError("bad magic")
            at = len(MAGIC)
            (n_header,) = struct.unpack_from("<I", data, at)
            at += 4
            meta = json.loads(data[at : at + n_header])
            at += n_header
            n_tokens = int(meta["n_tokens"])
            tokens = list(struct.unpack_from(f"<{n_tokens}i", data, at))
            at += 4 * n_tokens
            blob = data[at:]
            if len(blob) != int(meta["blob"]):
                raise ValueError("truncated")
        except (ValueError, KeyError, struct.error):
            with contextlib.suppress(OSError):
                path.unlink()
            return None
        self._touch(path)  # recently used: last to be evicted
        return SavedState(tokens=tokens, blob=blob, meta=meta)

    def _touch(self, path: Path) -> None:
        """Mark `path` the most recently used. Strictly newer than every other file: two
        uses within one clock tick would otherwise tie and evict in a random order."""
        newest = max(
            (p.stat().st_mtime_ns for p in self.folder.glob(f"*{SUFFIX}") if p != path),
            default=0,
        )
        stamp = max(time.time_ns(), newest + 1)
        with contextlib.suppress(OSError):
            os.utime(path, ns=(stamp, stamp))

    def total_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.folder.glob(f"*{SUFFIX}"))

    def _evict(self, room_for: int) -> None:
        files = sorted(self.folder.glob(f"*{SUFFIX}"), key=lambda p: p.stat().st_mtime_ns)
        total = sum(p.stat().st_size for p in files)
        while files and total + room_for > self.max_bytes:
            oldest = files.pop(0)
            total -= oldest.stat().st_size
            with contextlib.suppress(OSError):
                oldest.unlink()
