"""A real library holding one PDF of bold headings over their paragraphs (PyMuPDF)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ctxchat.engines.ingest.library import add_path
from ctxchat.engines.store.db import Store
from devkit.docgen import sectioned_pdf


def sectioned_library(
    folder: Path, name: str, sections: Sequence[tuple[str, str]]
) -> tuple[Store, int]:
    """(the store, the document id) of `sections` written to folder/name and added."""
    store = Store(folder / "library.db")
    doc = add_path(store, sectioned_pdf(folder / name, sections)).document
    return store, doc.id
