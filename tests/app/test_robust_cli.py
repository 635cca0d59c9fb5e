"""Issue 16, defects 10 and 12 and the usage exit codes, through the real CLI.

A hostile .txt with ESC sequences, an OSC 52 clipboard write, a C1 CSI (U+009B) and a bidi
override must reach the terminal escaped, never raw; so must file names in add/docs and
--json output. Latin-1 bytes on stdin are text, not a crash. Value mistakes exit 2.
"""

from __future__ import annotations

import io
import json

import pytest

from ctxchat.app.cli import main
from ctxchat.engines.terminal_text import json_safe, terminal_safe

OSC52 = "\x1b]52;c;ZXZpbCBjb21tYW5k\x07"  # would set the clipboard to "evil command"
HOSTILE = (
    f"The harbour is deep. {OSC52}Clear the screen\x1b[2J now. A C1 CSI \u009b31m turns it red."
    " The bidi override \u202eetacol\u202c hides words. The end of the note is here."
)
RAW = ("\x1b", "\u009b", "\u202e", "\x07")


def _clean(text: str) -> bool:
    return not any(c in text for c in RAW)


def test_the_sanitiser_escapes_controls_and_keeps_text():
    assert terminal_safe("a\x1b[31mb\tc\nd\u009be\u202ef") == "a\\x1b[31mb\tc\nd\\x9be\\u202ef"
    value = {"t": HOSTILE}
    assert _clean(json_safe(value)) and json.loads(json_safe(value)) == value


def test_compress_prints_a_hostile_document_escaped(tmp_path, capsys):
    note = tmp_path / "hostile.txt"
    note.write_text(HOSTILE, encoding="utf-8")
    assert main(["compress", str(note), "-q", "harbour", "--no-prune", "--rate", "1"]) == 0
    out, err = capsys.readouterr()
    assert _clean(out) and _clean(err)
    assert "\\x1b]52;c;ZXZpbCBjb21tYW5k\\x07" in out and "\\x9b31m" in out
    assert (
        main(["compress", str(note), "-q", "harbour", "--no-prune", "--rate", "1", "--json"]) == 0
    )
    out = capsys.readouterr().out
    assert _clean(out)
    assert "\x1b" in json.loads(out)["text"]  # the data itself is unchanged


def test_file_names_with_escapes_are_printed_escaped(tmp_path, capsys):
    name = "evil\x1b]52;c;eA==\x07\u009b2J\u202e.txt"
    (tmp_path / name).write_text("A harmless note with one sentence.\n", encoding="utf-8")
    assert main(["add", str(tmp_path / name)]) == 0
    assert main(["add", str(tmp_path / name)]) == 0  # "already in library" names it again
    assert main(["docs"]) == 0
    assert main(["docs", "--json"]) == 0
    assert main(["add", "--json", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    assert _clean(out) and _clean(err)
    assert "evil\\x1b]52" in out
    assert main(["rm", "1"]) == 0
    assert _clean(capsys.readouterr().out)


def test_an_error_message_with_a_hostile_name_is_escaped(tmp_path, capsys):
    missing = tmp_path / "gone\x1b[2J.pdf"
    assert main(["compress", str(missing)]) == 1
    err = capsys.readouterr().err
    assert _clean(err) and "gone\\x1b[2J.pdf" in err


@pytest.mark.parametrize("errors", ["strict", "surrogateescape"])
def test_latin1_bytes_on_stdin_compress(monkeypatch, capsys, errors):
    data = "Caf\u00e9 cr\u00e8me br\u00fbl\u00e9e is sweet. ".encode("latin-1") * 30
    stdin = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", errors=errors)
    monkeypatch.setattr("sys.stdin", stdin)
    assert main(["compress", "-", "--no-prune", "--rate", "1"]) == 0
    assert "Caf\u00e9 cr\u00e8me" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv",
    [
        ["compress", "x.txt", "--budget", "0"],
        ["compress", "x.txt", "--rate", "1.5"],
        ["compress", "x.txt", "--rate", "0"],
        ["ask", "x.txt", "q?", "--budget", "0"],
        ["ask", "x.txt", "q?", "--rate", "1.5"],
        ["ask", "x.txt", "q?", "--max-tokens", "0"],
        ["add", "x.txt", "--max-pages", "0"],
    ],
)
def test_value_mistakes_are_usage_errors(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "usage:" in err and "Traceback" not in err
