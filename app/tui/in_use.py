"""Which documents the app had in use, kept beside the library for the next start.

A file, not a table: it is the app's view of the library, and losing it costs nothing but
the choice (the app then uses the newest document, as on a first start).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

IN_USE_FILE = "in_use.json"


@dataclass(frozen=True)
class InUse:
    doc_ids: frozenset[int]
    newest: int  # the highest document id in the library when it was saved


def in_use_path(library: Path) -> Path:
    return library.parent / IN_USE_FILE


def save_in_use(library: Path, state: InUse) -> None:
    """Write the choice (atomically); a failure only loses the choice, never the app."""
    path = in_use_path(library)
    tmp = path.with_suffix(".tmp")
    try:
        tmp.write_text(json.dumps({"doc_ids": sorted(state.doc_ids), "newest": state.newest}))
        os.replace(tmp, path)
    except OSError:
        pass


def load_in_use(library: Path) -> InUse | None:
    """The saved choice, or None when there is none or it cannot be read."""
    try:
        data = json.loads(in_use_path(library).read_text())
        return InUse(frozenset(int(i) for i in data["doc_ids"]), int(data["newest"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
