"""Issue 16, defects 2 and 13: files that never end and files that inflate.

A named pipe called x.txt made `ctxchat add` wait forever (alone or inside a notes folder);
a 52 KB EPUB that inflates to 20 MB kept it busy for minutes. Subprocesses are bounded.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from ctxchat.app.cli import main
from ctxchat.engines.errors import IngestError
from ctxchat.engines.ingest.readers import ReadLimits, read_document, supported_files
from devkit import docgen

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")


def _ctxchat(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CTXCHAT_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "ctxchat.app.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,  # the defect: it never returned
        env=env,
    )


def test_add_a_named_pipe_is_refused_at_once(tmp_path):
    fifo = tmp_path / "x.txt"
    os.mkfifo(fifo)
    done = _ctxchat(tmp_path / "home", "add", str(fifo))
    assert done.returncode == 1
    assert "is not a regular file" in done.stderr and "Traceback" not in done.stderr


def test_add_a_folder_with_a_named_pipe_skips_it(tmp_path):
    notes = tmp_path / "notes"
    notes.mkdir()
    os.mkfifo(notes / "x.txt")
    (notes / "a.md").write_text("# Alpha\n\nThe alpha note has one sentence.\n")
    assert supported_files(notes) == [notes / "a.md"]
    done = _ctxchat(tmp_path / "home", "add", str(notes))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("added a.md")


def write_epub(path: Path, text_bytes: int) -> Path:
    """A valid EPUB whose one chapter repeats a paragraph: tiny on disk, big inflated."""
    para = "<p>The same sentence again and again in this book.</p>\n"
    body = para * (text_bytes // len(para))
    chapter = (
        '<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><head><title>c'
        f"</title></head><body>{body}</body></html>"
    )
    opf = (
        '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="2.0" '
        'unique-identifier="id"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/">'
        '<dc:title>T</dc:title><dc:identifier id="id">x</dc:identifier>'
        '<dc:language>en</dc:language></metadata><manifest><item id="c" href="c.xhtml" '
        'media-type="application/xhtml+xml"/></manifest><spine><itemref idref="c"/></spine>'
        "</package>"
    )
    container = (
        '<?xml version="1.0"?><container version="1.0" '
        'xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles><rootfile '
        'full-path="content.opf" media-type="application/oebps-package+xml"/></rootfiles>'
        "</container>"
    )
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        z.writestr("META-INF/container.xml", container, compress_type=zipfile.ZIP_DEFLATED)
        z.writestr("content.opf", opf, compress_type=zipfile.ZIP_DEFLATED)
        z.writestr("c.xhtml", chapter, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return path


def test_an_epub_that_inflates_to_20mb_is_refused_naming_the_limit(tmp_path):
    bomb = write_epub(tmp_path / "bomb.epub", 20_000_000)
    assert bomb.stat().st_size < 100_000
    done = _ctxchat(tmp_path / "home", "add", str(bomb))
    assert done.returncode == 1
    assert "inflates to 16.0 MB" in done.stderr  # counted until past the limit
    assert "16 MB limit" in done.stderr and "--max-mb" in done.stderr


def test_the_size_limit_follows_the_flag_and_the_environment(tmp_path, monkeypatch, capsys):
    book = write_epub(tmp_path / "book.epub", 1_500_000)
    assert main(["add", "--max-mb", "1", str(book)]) == 1
    assert "over the 1 MB limit (raise it with --max-mb" in capsys.readouterr().err
    monkeypatch.setenv("CTXCHAT_MAX_MB", "1")
    with pytest.raises(IngestError, match="CTXCHAT_MAX_MB"):
        read_document(book)
    monkeypatch.delenv("CTXCHAT_MAX_MB")
    assert read_document(book).page_count > 100


def test_page_limit_names_its_flag(tmp_path, capsys, monkeypatch):
    pdf = docgen.long_pdf(tmp_path / "long.pdf", 12)[0].path
    assert main(["add", "--max-pages", "10", str(pdf)]) == 1
    err = capsys.readouterr().err
    assert "has 12 pages, over the 10-page limit (raise it with --max-pages N" in err
    monkeypatch.setenv("CTXCHAT_MAX_PAGES", "10")
    assert main(["compress", str(pdf), "--no-prune"]) == 1
    assert "CTXCHAT_MAX_PAGES" in capsys.readouterr().err
    assert read_document(pdf, limits=ReadLimits(max_pages=12)).page_count == 12


def test_a_zip_that_lies_about_its_sizes_is_still_measured(tmp_path):
    """The limit counts inflated bytes, not the sizes the ZIP declares: a member that
    inflates past its declared size fails its CRC and the file is refused as damaged."""
    book = write_epub(tmp_path / "liar.epub", 3_000_000)
    data = bytearray(book.read_bytes())
    with zipfile.ZipFile(book) as z:
        info = z.getinfo("c.xhtml")
    # Patch the declared uncompressed size (local header and central directory) to 1 KB.
    small = (1024).to_bytes(4, "little")
    real = info.file_size.to_bytes(4, "little")
    assert data.count(real) >= 2
    data = bytearray(bytes(data).replace(real, small))
    book.write_bytes(bytes(data))
    with pytest.raises(IngestError, match="is damaged"):
        read_document(book, limits=ReadLimits(max_mb=2))
