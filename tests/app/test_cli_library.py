"""`ctxchat add / docs / rm / doctor`: output, JSON, exit codes 0/1/2, no tracebacks."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ctxchat.app.cli import main
from ctxchat.app.progress import ProgressBar
from ctxchat.engines.store.db import MIGRATIONS, Store
from devkit import docgen


def _json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.fixture()
def files(tmp_path):
    good = docgen.long_pdf(tmp_path / "report 2026 é.pdf", 6)[0].path
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "a.md").write_text("# Alpha\n\nThe alpha note.\n")
    (notes / "b.txt").write_text("The beta note.\n")
    corrupt = docgen.truncated_pdf(tmp_path / "corrupt.pdf")
    return {"good": good, "notes": notes, "corrupt": corrupt, "tmp": tmp_path}


def test_add_prints_a_line_per_file_and_exits_0(files, capsys):
    assert main(["add", str(files["good"]), str(files["notes"])]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("added report 2026 é.pdf: 6 pages, ")
    assert out[0].endswith("tokens (id 1)")
    assert [line.split(":")[0] for line in out[1:]] == ["added a.md", "added b.txt"]
    assert main(["add", str(files["good"])]) == 0
    assert capsys.readouterr().out.startswith("already in library: report 2026 é.pdf")


def test_add_with_a_bad_file_tries_all_then_exits_1(files, capsys):
    missing = files["tmp"] / "missing.pdf"
    code = main(["add", str(files["corrupt"]), str(missing), str(files["good"])])
    captured = capsys.readouterr()
    assert code == 1
    assert "added report 2026 é.pdf" in captured.out
    errors = captured.err.splitlines()
    assert errors[0] == f"error: {files['corrupt']} is damaged (truncated or corrupt PDF)"
    assert errors[1] == f"error: file not found: {missing}"
    assert "Traceback" not in captured.err
    with Store() as store:
        assert [d.name for d in store.documents()] == ["report 2026 é.pdf"]


def test_add_json_one_object_per_file(files, capsys):
    secret = docgen.encrypted_pdf(files["tmp"] / "secret.pdf", password="pw")
    code = main(["add", "--json", str(files["good"]), str(secret), str(files["corrupt"])])
    rows = _json_lines(capsys.readouterr().out)
    assert code == 1
    assert [r["ok"] for r in rows] == [True, False, False]
    assert rows[0]["pages"] == 6 and rows[0]["created"] is True and rows[0]["id"] == 1
    assert rows[0]["tokens"] > 0 and rows[0]["segments"] > 0 and rows[0]["error"] is None
    assert rows[1]["error"].endswith("is encrypted: pass --password")
    assert set(rows[1]) == set(rows[0])
    assert main(["add", "--json", "--password", "pw", str(secret)]) == 0
    (row,) = _json_lines(capsys.readouterr().out)
    assert row["ok"] and row["name"] == "secret.pdf"


def test_add_indexes_the_document_unless_told_not_to(files, capsys):
    from ctxchat.engines.models import torch_device
    from ctxchat.engines.select.embeddings import resolve_embed_precision
    from ctxchat.engines.select.indexing import index_progress

    assert main(["add", "--no-index", "--json", str(files["good"])]) == 0
    (row,) = _json_lines(capsys.readouterr().out)
    assert row["indexed"] is None
    with Store() as store:
        assert index_progress(store, row["id"]).done == 0
    # Adding it again finishes the index (resumes it when a run was stopped).
    assert main(["add", "--json", str(files["good"])]) == 0
    captured = capsys.readouterr()
    (row,) = _json_lines(captured.out)
    assert row["created"] is False and row["indexed"] == 100
    assert "ctxchat: indexed report 2026 é.pdf: " in captured.err
    with Store() as store:
        progress = index_progress(store, row["id"])
        assert progress.complete and progress.total > 0
    assert main(["add", str(files["good"])]) == 0
    assert "indexed" not in capsys.readouterr().err  # nothing left to embed
    assert main(["doctor", "--json"]) == 0
    checks = {c["name"]: c for c in json.loads(capsys.readouterr().out)["checks"]}
    device = torch_device("auto")
    precision = resolve_embed_precision(device)
    assert checks["MiniLM embeddings"]["detail"].endswith(f"({precision} on {device})")


def test_a_document_an_older_ctxchat_read_is_marked_and_read_again(files, capsys):
    assert main(["add", "--no-index", str(files["good"]), str(files["notes"])]) == 0
    with Store() as store:  # as an older ctxchat left the library
        store.conn.execute("UPDATE documents SET reader=0 WHERE name='report 2026 é.pdf'")
    capsys.readouterr()
    assert main(["docs"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "report 2026 é.pdf *" in out[1] and "*" not in out[2]
    assert out[-1] == "* read by an older ctxchat: `ctxchat add --older` reads them again"
    assert main(["docs", "--json"]) == 0
    rows = _json_lines(capsys.readouterr().out)
    assert [r["older_reader"] for r in rows] == [True, False, False]
    assert main(["add", "--no-index", "--json", str(files["good"])]) == 0
    (row,) = _json_lines(capsys.readouterr().out)
    assert row["reread"] is True and row["created"] is False and row["id"] == 1
    with Store() as store:  # again older: the plain output says what happened
        store.conn.execute("UPDATE documents SET reader=0 WHERE id=1")
    assert main(["add", "--no-index", str(files["good"])]) == 0
    line = capsys.readouterr().out
    assert line.startswith("read again: report 2026 é.pdf (id 1), read by an older ctxchat: 6")
    assert main(["docs"]) == 0
    assert "*" not in capsys.readouterr().out


def test_add_older_reads_every_old_document_again(files, capsys, tmp_path):
    from ctxchat.engines.pipeline import add_text

    assert main(["add", "--no-index", str(files["good"]), str(files["notes"])]) == 0
    moved = tmp_path / "moved.pdf"
    with Store() as store:  # as an older ctxchat left the library
        add_text(store, "Text given through the Python API.", name="pasted")
        store.conn.execute("UPDATE documents SET reader=0")
    docs = {d.name: d for d in Store().documents()}
    files["good"].rename(moved)  # one file moved since it was added
    capsys.readouterr()
    assert main(["add", "--no-index", "--older"]) == 0
    out, err = capsys.readouterr()
    assert "report 2026 é.pdf (id 1): its file" in err and "is gone" in err
    reread = [line for line in out.splitlines() if line.startswith("read again: ")]
    assert len(reread) == len(docs) - 2  # all but the moved file and the API text
    with Store() as store:
        older = {d.name for d in store.documents() if d.reader == 0}
    assert older == {"report 2026 é.pdf", "pasted"}
    assert main(["add", "--no-index", "--older", str(moved)]) == 0  # found by its content
    assert "read again: report 2026 é.pdf (id 1)" in capsys.readouterr().out
    assert main(["add", "--older"]) == 0  # the API text is all that is left: no file
    assert "nothing to read again" in capsys.readouterr().err


def test_usage_errors_exit_2(capsys):
    for argv in (["add"], ["rm"], ["frobnicate"], ["docs", "--bogus"]):
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_docs_and_rm(files, capsys):
    assert main(["docs"]) == 0
    assert "library is empty" in capsys.readouterr().out
    main(["add", str(files["good"]), str(files["notes"])])
    capsys.readouterr()
    assert main(["docs"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["ID", "NAME", "PAGES", "TOKENS", "INDEXED", "ADDED"]
    assert len(table) == 4 and "report 2026 é.pdf" in table[1] and " 100% " in table[1]
    assert main(["docs", "--json"]) == 0
    docs = _json_lines(capsys.readouterr().out)
    assert [d["name"] for d in docs] == ["report 2026 é.pdf", "a.md", "b.txt"]
    assert [d["indexed"] for d in docs] == [100, 100, 100]
    assert main(["rm", "a.md"]) == 0
    assert capsys.readouterr().out == "removed a.md (id 2)\n"
    assert main(["rm", docs[2]["sha256"][:8]]) == 0
    assert main(["rm", "1"]) == 0
    capsys.readouterr()
    assert main(["rm", "1"]) == 1
    assert (
        capsys.readouterr().err == "ctxchat: error: no document matches '1' (see: ctxchat docs)\n"
    )


def test_rm_ambiguous_name_is_an_error(tmp_path, capsys):
    for sub in ("x", "y"):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "same.txt").write_text(f"Different content in {sub}.\n")
    main(["add", str(tmp_path / "x" / "same.txt"), str(tmp_path / "y" / "same.txt")])
    capsys.readouterr()
    assert main(["rm", "same.txt"]) == 1
    assert "matches 2 documents (ids 1, 2): use an id" in capsys.readouterr().err
    with Store() as store:
        assert len(store.documents()) == 2


def test_doctor_reports_each_check(capsys):
    assert main(["doctor", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    checks = {c["name"]: c for c in report["checks"]}
    assert report["ok"] is True
    for name in (
        "python",
        "torch",
        "data dir",
        "library",
        "cl100k tokenizer",
        "MiniLM embeddings",
        "SmolLM2 chat model",
        "llama-cpp-python",
        "compressor model",
    ):
        assert name in checks
    assert checks["library"]["detail"].endswith(f"(schema {len(MIGRATIONS)}, 0 documents)")
    assert checks["data dir"]["detail"] == os.environ["CTXCHAT_HOME"]
    assert "device" in checks["torch"]["detail"]
    assert main(["doctor"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(checks)
    assert all(line.split()[0] in {"ok", "missing", "MISSING"} for line in lines)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_draws_only_on_a_terminal():
    term = _Terminal()
    with ProgressBar("big.pdf", total=200, stream=term) as bar:
        for n in range(1, 201):
            bar.update(n)
    drawn = term.getvalue()
    assert "big.pdf [" in drawn and "200/200 pages" in drawn and "pages/s" in drawn
    assert drawn.endswith("\r\x1b[K")  # erased at the end
    assert ProgressBar("x", total=4, stream=term).render(60).startswith("x [")
    piped = io.StringIO()
    with ProgressBar("big.pdf", total=3, stream=piped) as bar:
        bar.update(3)
    assert piped.getvalue() == ""


def _console_script() -> Path:
    return Path(sys.executable).parent / "ctxchat"


def test_real_console_script(files):
    env = dict(os.environ)
    run = subprocess.run(
        [str(_console_script()), "add", str(files["good"]), str(files["corrupt"])],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert run.returncode == 1
    assert run.stdout.startswith("added report 2026 é.pdf: 6 pages")
    assert "Traceback" not in run.stderr and "MuPDF" not in run.stderr
    errors = run.stderr.splitlines()
    assert errors[0].startswith("ctxchat: indexed report 2026 é.pdf: ")  # added, then indexed
    assert errors[1].endswith("is damaged (truncated or corrupt PDF)")
    version = subprocess.run(
        [str(_console_script()), "--version"], capture_output=True, text=True, timeout=60
    )
    assert version.returncode == 0 and version.stdout.startswith("ctxchat ")
