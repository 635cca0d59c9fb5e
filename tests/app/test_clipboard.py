"""Clipboard: OSC 52 bytes, native tools through real subprocesses, honest reporting."""

from __future__ import annotations

import base64
import io
import stat
import sys
from pathlib import Path

import pytest

from ctxchat.app import clipboard
from ctxchat.app.clipboard import copy_text, native_commands, osc52_sequence


def test_osc52_sequence_carries_utf8_base64() -> None:
    text = "Résumé: 3 pages\nline two"
    seq = osc52_sequence(text)
    assert seq.startswith("\x1b]52;c;") and seq.endswith("\a")
    assert base64.b64decode(seq[7:-1]).decode("utf-8") == text


def test_osc52_through_tmux_is_wrapped_and_escaped() -> None:
    seq = osc52_sequence("hi", tmux=True)
    assert seq.startswith("\x1bPtmux;\x1b\x1b]52;c;") and seq.endswith("\x1b\\")


def test_no_osc52_into_a_pipe() -> None:
    stream = io.StringIO()
    result = copy_text("hello", native=False, stream=stream)
    assert stream.getvalue() == ""
    assert not result.ok
    assert "nothing could reach the clipboard" in result.describe()


def test_osc52_callback_is_used_in_the_app() -> None:
    seen: list[str] = []
    result = copy_text("prompt text", osc52=seen.append, native=False)
    assert seen == ["prompt text"]
    assert result.methods == ["OSC 52"] and result.bytes == len(b"prompt text")


def _fake_tool(folder: Path, name: str, sink: Path) -> None:
    """A stand-in clipboard tool on PATH that stores its stdin (what wl-copy would keep)."""
    script = folder / name
    script.write_text(
        f"#!{sys.executable}\nimport sys\nopen({str(sink)!r}, 'wb').write(sys.stdin.buffer.read())\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX shebang tools")
def test_native_tool_receives_the_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sink = tmp_path / "clipboard.bin"
    _fake_tool(tmp_path, "wl-copy", sink)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.setattr(clipboard, "_is_wsl", lambda: False)
    assert native_commands() == [["wl-copy"]]
    text = "Context [p. 2]: naïve café\n\nQuestion: why?"
    result = copy_text(text, stream=io.StringIO())
    assert result.methods == ["wl-copy"]
    assert sink.read_bytes().decode("utf-8") == text


def test_a_failing_tool_is_reported_not_raised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "xclip"
    broken.write_text("#!/bin/sh\nexit 3\n")
    broken.chmod(broken.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr(clipboard, "_is_wsl", lambda: False)
    result = copy_text("x", stream=io.StringIO())
    assert not result.ok
    assert any(e.startswith("xclip") for e in result.errors)


def test_no_tools_means_no_commands(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(clipboard, "_is_wsl", lambda: False)
    if sys.platform != "darwin":
        assert native_commands() == []
