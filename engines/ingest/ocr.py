"""Reading scanned pages: OCR through the Tesseract engine built into PyMuPDF.

PyMuPDF carries Tesseract itself; what it needs from the system is Tesseract's language
data, which a Tesseract install brings (found through TESSDATA_PREFIX or the `tesseract`
program). Only pages without a text layer are read this way, one page at a time.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

import pymupdf

# 300 dpi is what Tesseract is tuned for; measured on 200-dpi scans it recovers more words
# than reading them at their own resolution (benchmarks/README.md).
OCR_DPI = 300
# A page is rendered with at most this many pixels (an A4 page at 300 dpi has 8.7 million),
# so a poster-sized page cannot take minutes or gigabytes.
MAX_OCR_PIXELS = 12_000_000
MIN_TESSERACT_DPI = 70
LANGUAGE_ENV = "CTXCHAT_OCR_LANG"
DEFAULT_LANGUAGE = "eng"

INSTALL_HINT = (
    "install Tesseract OCR to read scanned pages "
    "(Linux: sudo apt install tesseract-ocr; macOS: brew install tesseract; "
    "Windows: the UB Mannheim installer, see the README)"
)


def language() -> str:
    """Tesseract language(s) to read with, e.g. "eng" or "deu+eng" (CTXCHAT_OCR_LANG)."""
    return os.environ.get(LANGUAGE_ENV, "").strip() or DEFAULT_LANGUAGE


@lru_cache(maxsize=4)
def _find_tessdata(prefix: str | None, lang: str) -> str | None:
    candidates = [prefix] if prefix else []
    exe = shutil.which("tesseract")
    if exe and not prefix:
        try:
            out = subprocess.run(
                [exe, "--list-langs"], capture_output=True, text=True, timeout=20, check=False
            )
            found = re.search(r'List of available languages in "(.+?)"', out.stdout)
            if found:
                candidates.append(found.group(1))
        except (OSError, subprocess.SubprocessError):
            pass
    for folder in candidates:
        if all((Path(folder) / f"{code}.traineddata").is_file() for code in lang.split("+")):
            return folder
    return None


def tessdata_dir() -> str | None:
    """Tesseract's language-data folder holding the wanted language, or None when OCR is not
    possible here (Tesseract missing, or the language not installed)."""
    return _find_tessdata(os.environ.get("TESSDATA_PREFIX") or None, language())


def ocr_dpi(rect: pymupdf.Rect) -> int:
    """The resolution to render a page at: OCR_DPI, less for pages too large for it."""
    inches = max(rect.width / 72, 1e-3) * max(rect.height / 72, 1e-3)
    return max(1, min(OCR_DPI, int(math.sqrt(MAX_OCR_PIXELS / inches))))


def ocr_page_dict(page: pymupdf.Page, flags: int, tessdata: str) -> dict[str, object]:
    """The page's text found by OCR, as PyMuPDF's "dict" extraction in page coordinates."""
    # RGB: MuPDF's OCR writer reads nothing from a grey pixmap.
    dpi = ocr_dpi(page.rect)
    pix = page.get_pixmap(dpi=dpi)
    # Tesseract prints a warning of its own below 70 dpi (a poster page); say 70 instead.
    pix.set_dpi(max(dpi, MIN_TESSERACT_DPI), max(dpi, MIN_TESSERACT_DPI))
    data = pix.pdfocr_tobytes(compress=False, language=language(), tessdata=tessdata)
    del pix
    with pymupdf.open("pdf", data) as scanned:
        ocr_page = scanned[0]
        unzoom = page.rect.width / ocr_page.rect.width
        matrix = pymupdf.Matrix(unzoom, unzoom) * page.derotation_matrix
        textpage = ocr_page.get_textpage(flags=flags, matrix=matrix)
        return textpage.extractDICT()
