"""`ctxchat compress`: text on stdout, a summary on stderr, --json, --output, --copy, exit codes."""

from __future__ import annotations

import io
import json
import stat
import sys
from pathlib import Path

import pytest

from ctxchat.app.cli import main
from ctxchat.engines.answer.export import INSTRUCTION, export_prompt
from ctxchat.engines.results import Compressed, Span
from ctxchat.engines.tokens import count_tokens
from devkit import docgen


@pytest.fixture(scope="module")
def pdf(tmp_path_factory: pytest.TempPathFactory):
    report, facts = docgen.long_pdf(
        tmp_path_factory.mktemp("docs") / "report.pdf", n_pages=10, facts_every=3
    )
    return report.path, facts


def test_prints_the_compressed_text_and_a_summary(pdf, capsys) -> None:
    path, facts = pdf
    fact = facts[2]
    code = main(["compress", str(path), "--query", fact.question, "--budget", "70", "--no-prune"])
    out, err = capsys.readouterr()
    assert code == 0
    assert fact.answer in out and f"[p. {fact.page}]" in out
    assert count_tokens(out.rstrip("\n")) <= 70
    assert err.startswith("ctxchat: ") and "tokens" in err and "select" in err
    assert len(err.strip().splitlines()) == 1


def test_json_has_counts_ratio_spans_and_stats(pdf, capsys) -> None:
    path, facts = pdf
    fact = facts[0]
    args = ["compress", str(path), "-q", fact.question, "-b", "60", "--json"]
    assert main(args) == 0
    first = json.loads(capsys.readouterr().out)
    assert set(first) == {"text", "original_tokens", "compressed_tokens", "ratio", "spans", "stats"}
    assert first["compressed_tokens"] == count_tokens(first["text"]) <= 60
    assert first["ratio"] == pytest.approx(
        first["original_tokens"] / first["compressed_tokens"], rel=1e-3
    )
    assert any(s["page"] == fact.page and fact.answer in s["text"] for s in first["spans"])
    assert {"ingest", "select", "embed", "compress"} <= set(first["stats"]["seconds"])
    assert first["stats"]["cache_hits"]["compression"] is False
    assert main(args) == 0
    second = json.loads(capsys.readouterr().out)
    assert second["stats"]["cache_hits"]["compression"] is True
    assert second["text"] == first["text"]


def test_output_file_and_stdin(tmp_path: Path, monkeypatch, capsys) -> None:
    text = "\n\n".join(
        ["Goats graze on the hill behind the mill."] * 3
        + ["The mill at Dunford was rebuilt by Irma Corholm after the fire."]
        + ["Rain falls often in the autumn months."] * 3
    )
    monkeypatch.setattr("sys.stdin", io.StringIO(text))
    target = tmp_path / "prompt.txt"
    code = main(
        [
            "compress",
            "-",
            "--query",
            "Who restored the Dunford mill?",
            "--budget",
            "20",
            "--no-prune",
            "--output",
            str(target),
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0 and out == ""
    written = target.read_text(encoding="utf-8")
    # With --query, the file holds the ready-to-paste prompt: instruction, context, question.
    assert written.startswith(INSTRUCTION)
    assert "Irma Corholm" in written
    assert written.rstrip().endswith("Question: Who restored the Dunford mill?")
    assert f"wrote {count_tokens(written):,} tokens to {target}" in err


def _fake_clipboard(folder: Path, sink: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A wl-copy on PATH that stores its stdin, so the copied text can be read back."""
    script = folder / "wl-copy"
    script.write_text(
        f"#!{sys.executable}\nimport sys\nopen({str(sink)!r}, 'wb').write(sys.stdin.buffer.read())\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", str(folder))
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.setattr("ctxchat.app.clipboard._is_wsl", lambda: False)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX shebang tool")
def test_copy_with_a_query_is_the_export_prompt(pdf, tmp_path, monkeypatch, capsys) -> None:
    path, facts = pdf
    fact = facts[1]
    sink = tmp_path / "clipboard.txt"
    _fake_clipboard(tmp_path, sink, monkeypatch)
    args = ["compress", str(path), "-q", fact.question, "-b", "60", "--no-prune", "--json"]
    assert main([*args, "--copy"]) == 0
    out, err = capsys.readouterr()
    result = json.loads(out)  # stdout stays the compressed result itself
    copied = sink.read_bytes().decode("utf-8")
    spans = [Span(**s) for s in result["spans"]]
    compressed = Compressed(
        result["text"], result["original_tokens"], result["compressed_tokens"], spans
    )
    assert copied == export_prompt(compressed, fact.question)
    assert f"copied {count_tokens(copied):,} tokens" in err


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX shebang tool")
def test_copy_without_a_query_is_the_compressed_text(tmp_path, monkeypatch, capsys) -> None:
    text = " ".join(f"Sentence {i} says the mill at Dunford grinds grain." for i in range(30))
    source = tmp_path / "notes.txt"
    source.write_text(text, encoding="utf-8")
    sink = tmp_path / "clipboard.txt"
    _fake_clipboard(tmp_path, sink, monkeypatch)
    assert main(["compress", str(source), "--rate", "0.5", "--copy"]) == 0
    out, err = capsys.readouterr()
    copied = sink.read_bytes().decode("utf-8")
    assert out == "" and "Question:" not in copied and INSTRUCTION not in copied
    assert 0 < count_tokens(copied) < count_tokens(text)
    assert f"copied {count_tokens(copied):,} tokens" in err


def test_copy_without_a_clipboard_says_to_use_output(pdf, monkeypatch, tmp_path, capsys) -> None:
    path, facts = pdf
    monkeypatch.setenv("PATH", str(tmp_path))  # no clipboard tool can be found
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.delenv("DISPLAY", raising=False)
    code = main(
        ["compress", str(path), "-q", facts[0].question, "-b", "50", "--copy", "--no-prune"]
    )
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("ctxchat: error: ") and "--output FILE" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--rate", "0"], "kept share must be in (0, 1]"),
        (["--rate", "1.5"], "kept share must be in (0, 1]"),
        (["--budget", "0"], "must be at least 1"),
    ],
)
def test_bad_values_are_usage_errors_exit_2(pdf, capsys, args, message) -> None:
    # Issue 16: value mistakes are usage errors (exit 2, as the README says), not exit 1.
    path, _ = pdf
    with pytest.raises(SystemExit) as exc:
        main(["compress", str(path), "-q", "x", *args])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_budget_and_rate_together_is_a_usage_error(pdf, capsys) -> None:
    path, _ = pdf
    with pytest.raises(SystemExit) as exc:
        main(["compress", str(path), "--budget", "10", "--rate", "0.5"])
    assert exc.value.code == 2
    assert "not allowed with" in capsys.readouterr().err


def test_missing_file_is_a_clear_error(tmp_path, capsys) -> None:
    assert main(["compress", str(tmp_path / "nope.pdf"), "-q", "x"]) == 1
    assert "file not found" in capsys.readouterr().err


def test_a_library_id_stands_for_its_document(pdf, capsys) -> None:
    path, facts = pdf
    fact = facts[1]
    assert main(["compress", str(path), "-q", fact.question, "-b", "80", "--no-prune"]) == 0
    by_path = capsys.readouterr().out
    assert main(["docs", "--json"]) == 0
    ids = [json.loads(line)["id"] for line in capsys.readouterr().out.splitlines()]
    assert len(ids) == 1
    assert main(["compress", str(ids[0]), "-q", fact.question, "-b", "80", "--no-prune"]) == 0
    assert capsys.readouterr().out == by_path and fact.answer in by_path


@pytest.mark.slow
def test_compressor_flags_and_saved_settings_choose_the_compressor(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    from ctxchat.app.config import Config, save_config
    from devkit.compressor_checkpoint import tiny_bert_classifier

    model = tiny_bert_classifier(tmp_path / "models", seed=2)
    text = " ".join(
        f"Report {i} says the harbour moved {i * 7} tonnes of timber." for i in range(30)
    )
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))
    args = ["compress", "-", "--rate", "0.5", "--json", "--compressor", str(model)]
    assert main([*args, "--precision", "fp32", "--device", "cpu"]) == 0
    options = json.loads(capsys.readouterr().out)["stats"]["options"]
    assert options["compressor"].startswith(model.name) and options["precision"] == "fp32"
    # Without the flags, the saved settings (the TUI's settings screen) decide.
    save_config(Config(compressor=str(model), precision="bf16", device="cpu"))
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))
    assert main(["compress", "-", "--rate", "0.5", "--json"]) == 0
    options = json.loads(capsys.readouterr().out)["stats"]["options"]
    assert options["compressor"].startswith(model.name) and options["precision"] == "bf16"


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--precision", "fp16", "--device", "cpu"], "fp16 needs a CUDA GPU"),
        (["--compressor", "/no/such/model"], "does not exist"),
    ],
)
def test_a_compressor_that_cannot_run_is_a_one_line_error(
    flags: list[str], message: str, monkeypatch, capsys
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("Some words to compress. " * 20))
    assert main(["compress", "-", "--rate", "0.5", *flags]) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
