"""Ingest of structure, on generated PDFs: table questions, scanned pages, and ctxchat's
extraction against PyMuPDF's own Markdown extraction (pymupdf4llm, with and without the
pymupdf-layout model). Run through benchmarks/ingest_bench.py:

    .venv/bin/python -m benchmarks.ingest_bench --tables --scans --compare [--ocr-pages 100]
"""

from __future__ import annotations

import collections
import re
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from devkit import docgen, reportgen

BUDGET_SHARE = 0.02
_WORD = re.compile(r"[a-z0-9]+")


def _words(text: str) -> collections.Counter[str]:
    return collections.Counter(_WORD.findall(text.lower()))


def word_recall(truth: Sequence[str], found: Sequence[str]) -> float:
    """Share of the true pages' words (with multiplicity) found on the same page."""
    hit = sum((_words(a) & _words(b)).total() for a, b in zip(truth, found, strict=True))
    return hit / max(1, sum(_words(a).total() for a in truth))


def row_readable(text: str, cell: reportgen.CellFact) -> bool:
    """The row with its header, readable alone: one line holds the row label and the value
    under its column's name ("April: 54,746"). Markdown tables from other extractors are
    first put in this form (_as_rows); loose cells in running text do not count."""
    return any(
        f"{cell.column}: {cell.answer}" in line and cell.row in line for line in text.split("\n")
    )


# -- table questions ---------------------------------------------------------------------


def _library(tmp: Path):  # noqa: ANN202 - a Store; imported late so --help stays fast
    import os

    os.environ["CTXCHAT_HOME"] = str(tmp / "home")
    from ctxchat.engines.store.db import Store

    return Store()


def table_questions(pages: int = 24) -> list[dict[str, object]]:
    """Share of table-cell questions whose row (with its header) survives selection at 2%,
    per selector; "before" is ctxchat's selector on the ingest without table rows (cells
    read as loose lines of text, as before tables were recognised)."""
    from ctxchat.engines.ingest import readers as ingest
    from ctxchat.engines.store.db import Store

    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as tmp:
        store = _library(Path(tmp))
        before = Store(Path(tmp) / "before.db")
        for style in ("grid", "rules", "plain"):
            path = Path(tmp) / f"tables-{style}.pdf"
            report = reportgen.table_report(path, pages, styles=(style,), seed=len(style))
            rows += _survival(store, path, report, style, ("ctxchat", "hybrid", "bm25", "dense"))
            found = ingest.tables.find_tables
            ingest.tables.find_tables = lambda lines: []
            try:
                rows += _survival(before, path, report, style, ("before",))
            finally:
                ingest.tables.find_tables = found
        store.close()
        before.close()
    return rows


def _survival(store, path: Path, report: reportgen.Report, style: str, methods) -> list[dict]:  # noqa: ANN001
    from ctxchat.engines.ingest.library import add_path
    from ctxchat.engines.select.selector import SelectorOptions, select

    doc = add_path(store, path).document
    budget = max(1, int(BUDGET_SHARE * doc.tokens))
    out = []
    for method in methods:
        options = SelectorOptions(method="ctxchat" if method == "before" else method)
        kept = sum(
            row_readable(select(store, [doc.id], c.question, budget, options=options).text, c)
            for c in report.cells
        )
        out.append({"style": style, "method": method, "questions": len(report.cells),
                    "budget": budget, "survival": kept / len(report.cells)})  # fmt: skip
    return out


# -- scanned pages -----------------------------------------------------------------------


def scanned_pages(pages: int = 10) -> dict[str, float]:
    """OCR of a 200-dpi scan of a generated report: words recovered, facts surviving."""
    from ctxchat.engines.ingest.library import add_path
    from ctxchat.engines.ingest.readers import read_document
    from ctxchat.engines.select.selector import select

    with tempfile.TemporaryDirectory() as tmp:
        text_pdf, scan = Path(tmp) / "text.pdf", Path(tmp) / "scan.pdf"
        _, facts = docgen.long_pdf(text_pdf, pages, facts_every=1)
        reportgen.scan_pdf(text_pdf, scan, dpi=200)
        truth = [p.text for p in read_document(text_pdf).pages()]
        start = time.perf_counter()
        found = [p.text for p in read_document(scan).pages()]
        seconds = time.perf_counter() - start
        store = _library(Path(tmp))
        doc = add_path(store, scan).document
        budget = max(1, int(BUDGET_SHARE * doc.tokens))
        kept = sum(f.answer in select(store, [doc.id], f.question, budget).text for f in facts)
        store.close()
    return {
        "pages": pages,
        "word_recall": word_recall(truth, found),
        "facts": len(facts),
        "fact_survival": kept / len(facts),
        "budget": budget,
        "ocr_pages_per_s": pages / seconds,
    }


def ocr_speed(pages: int = 100) -> dict[str, float]:
    """A fully scanned PDF added to a library with the CLI's progress bar: OCR pages/s."""
    from ctxchat.app.progress import ProgressBar
    from ctxchat.engines.ingest.library import add_path

    with tempfile.TemporaryDirectory() as tmp:
        text_pdf, scan = Path(tmp) / "text.pdf", Path(tmp) / "scan.pdf"
        docgen.long_pdf(text_pdf, pages)
        reportgen.scan_pdf(text_pdf, scan, dpi=200)
        store = _library(Path(tmp))
        with ProgressBar(f"scan-{pages}.pdf", unit="pages", enabled=True) as bar:
            start, cpu = time.perf_counter(), time.process_time()
            result = add_path(store, scan, on_progress=bar.update)
            seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        store.close()
    print(file=sys.stderr)
    # CPU seconds a page: what one free core would take, whatever else the machine runs.
    return {"pages": pages, "ocr_pages": result.ocr_pages, "seconds": seconds,
            "pages_per_s": pages / seconds, "cpu_s_per_page": cpu / pages}  # fmt: skip


# -- ctxchat against pymupdf4llm ---------------------------------------------------------


def _ctxchat_pages(path: Path) -> list[str]:
    from ctxchat.engines.ingest.readers import read_document

    return [p.text for p in read_document(path).pages()]


def _pymupdf4llm_pages(layout: bool, edges: bool = True) -> Callable[[Path], list[str]]:
    """pymupdf4llm's page Markdown; with the layout model, `edges=False` leaves out page
    headers and footers (its documented options; without the model there is no such switch)."""

    def run(path: Path) -> list[str]:
        import pymupdf

        from ctxchat.engines.offline import allow_layout_plugin

        allow_layout_plugin()  # ctxchat keeps it unloaded; this comparison needs it
        import pymupdf4llm

        pymupdf4llm.use_layout(layout)
        extra = {} if edges else {"header": False, "footer": False}
        with pymupdf.open(path) as doc:
            chunks = pymupdf4llm.to_markdown(doc, page_chunks=True, show_progress=False, **extra)
        return [c["text"] for c in chunks]

    return run


def _as_rows(page: str) -> str:
    """Markdown tables in `page` turned into ctxchat's named rows (same yardstick for all)."""
    from ctxchat.engines.ingest.tables import table_rows

    out = []
    for block in re.split(r"\n\s*\n", page):
        block = re.sub(r"\*\*|__", "", block)  # bold header cells: "**April**"
        rows = table_rows(block.strip()) if block.lstrip().startswith("|") else None
        out.append("\n".join(rows) if rows is not None else block)
    return "\n\n".join(out)


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[*_`#]", "", text))


def _share(hits: Sequence[bool]) -> float | None:
    return sum(hits) / len(hits) if hits else None


def _quality(pages: list[str], report: reportgen.Report, facts, hyphenated, truth) -> dict:  # noqa: ANN001
    """Scores of one extraction; None where the document has nothing to score."""
    flat = [_flat(p) for p in pages]
    return {
        "word_recall": word_recall(truth, pages),
        "running_lines_left": sum(
            len(re.findall(r"Regional Statistics Review|Annual Report|Page \d+", p)) for p in pages
        ),
        "facts_intact": _share([f.sentence in flat[f.page - 1] for f in facts]),
        "hyphenated_joined": _share([any(w in p for p in flat) for w in hyphenated]),
        "cells_readable": _share(
            [row_readable(_as_rows(pages[c.page - 1]), c) for c in report.cells]
        ),
        "headings_marked": _share(
            [
                bool(re.search(rf"^#+ \**{re.escape(h)}", pages[n - 1], re.M))
                for n, h in report.headings
            ]
        ),
    }


def compare(pages: int = 12) -> list[dict[str, object]]:
    """Extraction quality and speed on one generated test set, per extractor."""
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as tmp:
        sets = _compare_set(Path(tmp), pages)
        extractors = {
            "ctxchat": _ctxchat_pages,
            "pymupdf4llm": _pymupdf4llm_pages(False),
            "pymupdf4llm + layout": _pymupdf4llm_pages(True),
            "pymupdf4llm + layout, header/footer off": _pymupdf4llm_pages(True, edges=False),
        }
        for name, run in extractors.items():
            scores: dict[str, list[float]] = collections.defaultdict(list)
            total_pages = 0
            seconds = 0.0
            for path, report, facts, hyphenated, truth in sets:
                start = time.perf_counter()
                out = run(path)
                seconds += time.perf_counter() - start
                total_pages += len(out)
                for key, value in _quality(out, report, facts, hyphenated, truth).items():
                    if value is not None:
                        scores[key].append(value)
            rows.append(
                {"extractor": name, "pages_per_s": total_pages / seconds}
                | {k: sum(v) / len(v) for k, v in scores.items()}
            )
    return rows


_NOTES = [
    "Figures are provisional and may be revised.",
    "Counted by the district offices at the end of each quarter.",
    "Two stations were closed for repairs during part of the year.",
    "Amounts exclude the costs of the extraordinary session.",
    "Estimates based on the survey team's sample of sites.",
]


def _compare_set(tmp: Path, pages: int) -> list[tuple]:
    """Tables in three styles (two columns, footnotes), a hyphenated two-column report."""
    out = []
    for style in ("grid", "rules", "plain"):
        path = tmp / f"t-{style}.pdf"
        report = reportgen.table_report(path, pages, styles=(style,), seed=3)
        for n, blocks in enumerate(report.pages):
            note = _NOTES[n % len(_NOTES)]
            blocks.append(reportgen.Footnote(f"{n + 1} {note}"))
        reportgen.write_report(path, report.pages)
        truth = [_plain(blocks) for blocks in report.pages]
        out.append((path, report, [], [], truth))
    path = tmp / "two-columns.pdf"
    doc_pages, facts = docgen.long_document(pages, facts_every=1, paragraphs_per_page=8)
    written = docgen.write_pdf(
        path, doc_pages, columns=2, header="Annual Report of the Coastal Districts",
        hyphenate=True,
    )  # fmt: skip
    truth = [" ".join(p) for p in doc_pages]
    out.append((path, reportgen.Report(path, []), facts, sorted(set(written.hyphenated)), truth))
    return out


def _plain(blocks: Sequence[reportgen.Block]) -> str:
    parts = []
    for b in blocks:
        if isinstance(b, reportgen.Table):
            parts += [b.caption, *b.header, *(c for r in b.rows for c in r)]
        else:
            parts.append(b.text)
    return " ".join(parts)


# -- odd PDFs ----------------------------------------------------------------------------

ODD_TIMEOUT_S = 300


def _odd_files(tmp: Path) -> dict[str, Path]:
    docgen.long_pdf(tmp / "text.pdf", 4, hyphenate=False)
    scan = reportgen.scan_pdf(tmp / "text.pdf", tmp / "scan.pdf", dpi=200)
    cut = tmp / "scan-truncated.pdf"
    cut.write_bytes(scan.read_bytes()[: scan.stat().st_size // 2])
    locked = tmp / "scan-encrypted.pdf"
    import pymupdf

    with pymupdf.open(scan) as doc:
        locked.write_bytes(
            doc.tobytes(encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="pw", owner_pw="pw2")
        )
    return {
        "truncated text PDF": docgen.truncated_pdf(tmp / "truncated.pdf"),
        "garbage after %PDF-": docgen.garbage_pdf(tmp / "garbage.pdf"),
        "encrypted, no password": docgen.encrypted_pdf(tmp / "encrypted.pdf"),
        "image-only (no words)": docgen.scanned_pdf(tmp / "image-only.pdf"),
        "poster page, text": reportgen.huge_page_pdf(tmp / "poster.pdf"),
        "poster page, scan": reportgen.huge_page_pdf(tmp / "poster-scan.pdf", scanned=True),
        "scan, truncated": cut,
        "scan, encrypted": locked,
        "mixed text and scan": reportgen.scan_pdf(tmp / "text.pdf", tmp / "mixed.pdf", pages=[2]),
    }


def odd_pdfs() -> list[dict[str, object]]:
    """Each odd PDF added by the CLI in its own process: ingested, refused in one line,
    crashed (traceback or signal) or hung (killed after ODD_TIMEOUT_S)."""
    import os
    import subprocess

    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for name, path in _odd_files(tmp).items():
            env = dict(os.environ, CTXCHAT_HOME=str(tmp / "home"))
            cmd = [sys.executable, "-m", "ctxchat.app.cli", "add", str(path)]
            start = time.perf_counter()
            try:
                out = subprocess.run(
                    cmd, capture_output=True, text=True, timeout=ODD_TIMEOUT_S, env=env
                )
            except subprocess.TimeoutExpired:
                rows.append(
                    {"file": name, "outcome": "HANG", "message": "", "seconds": ODD_TIMEOUT_S}
                )
                continue
            err = [ln for ln in out.stderr.splitlines() if ln.strip()]
            if out.returncode == 0:
                outcome, message = "ingested", out.stdout.strip().splitlines()[-1]
            elif out.returncode == 1 and len(err) <= 2 and "Traceback" not in out.stderr:
                outcome, message = "refused in one line", err[0] if err else ""
            else:
                outcome, message = f"CRASH (exit {out.returncode})", (err or [""])[-1]
            rows.append({"file": name, "outcome": outcome, "message": message,
                         "seconds": time.perf_counter() - start})  # fmt: skip
    return rows


def ocr_resolution(pages: int = 3) -> list[dict[str, float]]:
    """Words recovered when OCR renders at 200 or 300 dpi, on scans made at 200 and 300 dpi
    of a table report with 8 pt footnotes (small print is where resolution shows)."""
    from ctxchat.engines.ingest import ocr
    from ctxchat.engines.ingest.readers import read_document

    rows = []
    saved = ocr.OCR_DPI
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        report = reportgen.table_report(tmp / "r.pdf", pages, styles=("grid", "rules", "plain"))
        for n, blocks in enumerate(report.pages):
            blocks.append(reportgen.Footnote(f"{n + 1} {_NOTES[n % len(_NOTES)]}"))
        reportgen.write_report(tmp / "r.pdf", report.pages)
        truth = [p.text for p in read_document(tmp / "r.pdf").pages()]
        try:
            for scan_dpi in (200, 300):
                scan = reportgen.scan_pdf(tmp / "r.pdf", tmp / f"s{scan_dpi}.pdf", dpi=scan_dpi)
                for dpi in (200, 300):
                    ocr.OCR_DPI = dpi
                    cpu = time.process_time()
                    found = [p.text for p in read_document(scan).pages()]
                    rows.append({"scan_dpi": scan_dpi, "ocr_dpi": dpi,
                                 "word_recall": word_recall(truth, found),
                                 "cpu_s_per_page": (time.process_time() - cpu) / pages})  # fmt: skip
        finally:
            ocr.OCR_DPI = saved
    return rows
