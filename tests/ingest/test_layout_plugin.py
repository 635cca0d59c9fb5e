"""PyMuPDF 2.0's ONNX layout plugin is kept from loading: ctxchat never calls it, and it
costs every command about a second (engines/offline.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import metadata

import pytest

PROBE = """
import json, sys
import pymupdf  # noqa: F401  (through ctxchat, as every command imports it)
from ctxchat.engines.ingest.readers import read_document
doc = read_document(sys.argv[1])
print(json.dumps({
    "layout": sys.modules.get("pymupdf.layout") is not None,
    "onnxruntime": "onnxruntime" in sys.modules,
    "text": " ".join(p.text for p in doc.pages()),
}))
"""


def _probe(pdf: str, **env: str) -> dict[str, object]:
    code = "import ctxchat.engines\n" + PROBE
    out = subprocess.run(
        [sys.executable, "-c", code, pdf],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **env},
        timeout=300,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture
def one_page_pdf(tmp_path):
    import pymupdf

    path = tmp_path / "note.pdf"
    doc = pymupdf.open()
    doc.new_page().insert_text((72, 72), "The ferry leaves at nine.")
    doc.save(path)
    return str(path)


def test_pdfs_read_without_the_layout_plugin(one_page_pdf):
    seen = _probe(one_page_pdf)
    assert seen["layout"] is False and seen["onnxruntime"] is False
    assert "The ferry leaves at nine." in str(seen["text"])


def _layout_installed() -> bool:
    try:
        metadata.distribution("pymupdf_layout")
    except metadata.PackageNotFoundError:
        return False
    return True


@pytest.mark.skipif(not _layout_installed(), reason="PyMuPDF's layout plugin is not installed")
def test_the_user_can_opt_in_to_the_layout_plugin(one_page_pdf):
    seen = _probe(one_page_pdf, CTXCHAT_PYMUPDF_LAYOUT="1")
    assert seen["layout"] is True
