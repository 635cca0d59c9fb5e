"""`ctxchat ask` end to end: a real PDF, the real pipeline, llama.cpp on the bundled model."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ctxchat.app.cli import main
from devkit.docgen import long_pdf

pytestmark = pytest.mark.slow

# Small context and answers keep each llama.cpp run to a few hundred tokens.
FAST = ["--n-ctx", "1024", "--max-tokens", "24", "--temperature", "0"]
BUDGET = ["--budget", "200"]


@pytest.fixture(scope="module", autouse=True)
def ctxchat_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One data dir for the module (overrides conftest's per-test one): the PDF is ingested
    and embedded once, and every test still stays out of the real user data dir."""
    home = tmp_path_factory.mktemp("ask-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CTXCHAT_HOME", str(home))
        yield home


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list]:
    folder = tmp_path_factory.mktemp("ask-docs")
    pdf_report, facts = long_pdf(folder / "report.pdf", n_pages=12)
    return pdf_report.path, facts


def test_ask_streams_the_answer_then_pages_and_stats(
    report: tuple[Path, list], capsys: pytest.CaptureFixture[str]
) -> None:
    path, facts = report
    fact = facts[1]
    assert main(["ask", str(path), fact.question, *BUDGET, *FAST]) == 0
    out, err = capsys.readouterr()
    assert out.strip()  # the answer
    lines = err.strip().splitlines()
    assert lines[-2].startswith("pages cited: ")
    assert "tokens in the document ->" in lines[-1] and "KV q8_0" in lines[-1]
    assert "first token" in lines[-1] and "tokens/s" in lines[-1]
    assert "Traceback" not in err


def test_a_question_the_document_does_not_answer_says_so_before_the_evidence(
    report: tuple[Path, list], capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = report
    question = "Who directed the film Fifty Shades of Grey?"
    assert main(["ask", str(path), question, *BUDGET, *FAST]) == 0
    lines = capsys.readouterr().err.splitlines()
    weak = next(i for i, line in enumerate(lines) if "may not answer this" in line)
    evidence = [i for i, line in enumerate(lines) if line.startswith("ctxchat: evidence [")]
    assert evidence and weak < min(evidence)  # read first: how far to trust what follows


def test_an_answer_cut_at_its_length_limit_says_so(
    report: tuple[Path, list], capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = report
    question = "Describe every depot in the report, one by one, in great detail."
    assert main(["ask", str(path), question, *BUDGET, *FAST[:2], "--max-tokens", "5"]) == 0
    err = capsys.readouterr().err
    assert "ctxchat: the answer stopped at its limit of 5 tokens (--max-tokens N" in err
    assert (
        main(["ask", str(path), question, "--json", *BUDGET, *FAST[:2], "--max-tokens", "5"]) == 0
    )
    stats = json.loads(capsys.readouterr().out)["stats"]
    assert stats["finish"] == "length" and stats["completion_tokens"] == 5


def test_ask_json_is_one_object_for_scripts(
    report: tuple[Path, list], capsys: pytest.CaptureFixture[str]
) -> None:
    path, facts = report
    fact = facts[0]
    args = ["ask", str(path), fact.question, "--json", "--budget", "300", "--kv-type", "q4_0"]
    assert main([*args, *FAST]) == 0
    out, _ = capsys.readouterr()
    data = json.loads(out)
    assert set(data) == {"answer", "pages", "evidence", "grounded", "mark", "stats"}
    assert data["answer"].strip()
    assert data["mark"] is None or data["mark"].endswith("check the evidence above")
    assert data["stats"]["answer_mode"] in {"extractive", "generated"}
    # The best sentences, verbatim, with where they are: the planted fact among them.
    assert 1 <= len(data["evidence"]) <= 3
    assert all(set(e) == {"doc", "page", "section", "text", "score"} for e in data["evidence"])
    assert any(fact.answer in e["text"] for e in data["evidence"])
    assert data["evidence"][0]["doc"] == "report.pdf" and data["evidence"][0]["page"] >= 1
    assert isinstance(data["grounded"], bool) and stats_grounded(data)
    assert all(isinstance(p, int) for p in data["pages"])
    stats = data["stats"]
    assert stats["kv_type"] == "q4_0" and stats["kv_mib"] > 0 and stats["n_ctx"] == 1024
    assert 0 < stats["context_tokens"] <= 300 < stats["doc_tokens"]
    assert stats["ratio"] == pytest.approx(stats["doc_tokens"] / stats["context_tokens"], 0.01)
    assert stats["prompt_tokens"] == stats["reused_tokens"] + stats["evaluated_tokens"]
    assert 0 < stats["ttft_s"] <= stats["seconds"]
    # the compressed context kept the page the fact is on
    assert stats["pages_from"] in {"citations", "matched", None}


def stats_grounded(data: dict) -> bool:
    return data["stats"]["grounded"] == data["grounded"]


def test_asking_again_after_a_restart_reuses_the_saved_context(
    report: tuple[Path, list], capsys: pytest.CaptureFixture[str]
) -> None:
    path, facts = report
    question = facts[2].question
    assert main(["ask", str(path), question, "--json", *BUDGET, *FAST]) == 0
    first = json.loads(capsys.readouterr().out)["stats"]
    assert first["kv_saved"] and not first["kv_restored"]
    # a new model instance (ask loads one per run, as a new process would)
    assert main(["ask", str(path), question, "--json", *BUDGET, *FAST]) == 0
    again = json.loads(capsys.readouterr().out)["stats"]
    assert again["kv_restored"]
    assert again["evaluated_tokens"] < first["evaluated_tokens"] / 3


def test_missing_model_file(report: tuple[Path, list], capsys, tmp_path: Path) -> None:
    path, facts = report
    missing = tmp_path / "missing.gguf"
    assert main(["ask", str(path), facts[0].question, "--model", str(missing)]) == 1
    err = capsys.readouterr().err
    assert err.strip() == f"ctxchat: error: cannot load model {missing}: no such file"


def test_corrupt_model_file(report: tuple[Path, list], capsys, tmp_path: Path) -> None:
    path, facts = report
    corrupt = tmp_path / "corrupt.gguf"
    corrupt.write_bytes(b"GGUF" + os.urandom(4096))
    assert main(["ask", str(path), facts[0].question, "--model", str(corrupt)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"ctxchat: error: cannot load model {corrupt}")
    assert len(err.strip().splitlines()) == 1


def test_unreachable_server(report: tuple[Path, list], capsys) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    path, facts = report
    assert main(["ask", str(path), facts[0].question, "--llm-url", f"http://127.0.0.1:{port}"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"ctxchat: error: cannot reach http://127.0.0.1:{port}")


def test_ctrl_c_mid_answer_exits_130_and_writes_nothing_half(
    report: tuple[Path, list], ctxchat_home: Path, capsys
) -> None:
    path, _ = report
    question = "Describe every depot in the report, one by one, in great detail."
    # Ingest and compress in process first, so the child gets to the answer quickly.
    assert (
        main(["ask", str(path), question, "--json", *BUDGET, *FAST[:2], "--max-tokens", "2"]) == 0
    )
    capsys.readouterr()
    kv_dir = ctxchat_home / "cache" / "kv"
    saved_before = sorted(p.name for p in kv_dir.iterdir())

    env = {**os.environ, "CTXCHAT_HOME": str(ctxchat_home), "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "ctxchat.app.cli", "ask", str(path), question,
           *BUDGET, "--n-ctx", "768", "--max-tokens", "400", "--temperature", "0"]  # fmt: skip
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        assert child.stdout is not None
        first = child.stdout.read(1)  # the answer has started streaming
        assert first, child.stderr.read().decode() if child.stderr else ""
        time.sleep(0.05)  # a few tokens in; the whole answer takes ~60 tokens
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 130, err.decode()
    assert "interrupted" in err.decode()
    assert "Traceback" not in err.decode()
    # n_ctx 768 is another KV key: an interrupted answer must not have saved a state
    assert sorted(p.name for p in kv_dir.iterdir()) == saved_before

    import sqlite3

    with sqlite3.connect(ctxchat_home / "library.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("SELECT count(*) FROM documents").fetchone() == (1,)
