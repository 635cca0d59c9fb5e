"""Drag and drop arrives as a paste: every terminal's spelling of dropped paths."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest

from ctxchat.app.tui.paste import parse_paste


@pytest.fixture
def files(tmp_path: Path) -> list[Path]:
    names = ["plain.pdf", "annual report 2024.pdf", "résumé (final).pdf", "日本語 ノート.md"]
    paths = []
    for name in names:
        path = tmp_path / name
        path.write_text("x", encoding="utf-8")
        paths.append(path)
    return paths


def escape(path: Path) -> str:
    """macOS Terminal / iTerm2 / Ghostty: backslash before spaces and shell characters."""
    return "".join("\\" + c if c in " ()'\"&" else c for c in str(path))


def test_raw_path_with_spaces_is_one_path(files: list[Path]) -> None:
    assert parse_paste(str(files[1])) == [files[1]]


@pytest.mark.parametrize("quote_char", ["'", '"'])
def test_quoted_path(files: list[Path], quote_char: str) -> None:
    # GNOME Terminal and Windows Terminal quote paths with spaces.
    assert parse_paste(f"{quote_char}{files[2]}{quote_char} ") == [files[2]]


def test_backslash_escaped_paths_space_joined_with_trailing_space(files: list[Path]) -> None:
    text = " ".join(escape(p) for p in files) + " "
    assert parse_paste(text) == files


def test_several_quoted_paths_on_one_line(files: list[Path]) -> None:
    text = " ".join(f"'{p}'" for p in files)
    assert parse_paste(text) == files


def test_newline_joined_paths(files: list[Path]) -> None:
    # Ghostty's GTK build and some file managers put one file per line.
    assert parse_paste("\n".join(str(p) for p in files) + "\n") == files


def test_crlf_joined_quoted_paths(files: list[Path]) -> None:
    assert parse_paste("\r\n".join(f'"{p}"' for p in files)) == files


def test_file_uris_percent_encoded(files: list[Path]) -> None:
    uris = [f"file://{quote(str(p))}" for p in files]
    assert parse_paste("\n".join(uris)) == files
    assert parse_paste(" ".join(uris)) == files
    assert parse_paste(f"file://localhost{quote(str(files[3]))}") == [files[3]]


def test_raw_unescaped_paths_joined_by_spaces(files: list[Path]) -> None:
    # kitty and Alacritty paste raw paths; names with spaces are matched greedily.
    assert parse_paste(f"{files[1]} {files[0]} {files[2]}") == [files[1], files[0], files[2]]


def test_tilde_is_expanded(files: list[Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(files[0].parent))
    assert parse_paste("~/plain.pdf") == [files[0]]
    assert parse_paste("'~/annual report 2024.pdf'") == [files[1]]


def test_a_folder_is_a_path(tmp_path: Path) -> None:
    assert parse_paste(f"'{tmp_path}/'") == [tmp_path]


def test_repeats_are_dropped(files: list[Path]) -> None:
    assert parse_paste(f"{escape(files[0])} {escape(files[0])}") == [files[0]]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n ",
        "What does the report say about revenue?",
        "/no/such/file.pdf",
        "'/no/such/file.pdf'",
        "file:///no/such/file.pdf",
        "it's a 'quoted' word",  # unbalanced for shlex: still just text
        "plain.pdf",  # relative: a word, not a drop
    ],
)
def test_text_is_not_paths(text: str) -> None:
    assert parse_paste(text) is None


def test_one_missing_path_makes_the_whole_paste_text(files: list[Path]) -> None:
    assert parse_paste(f"{files[0]}\n/no/such/file.pdf") is None


def test_relative_paths_resolve_against_a_given_folder(files: list[Path]) -> None:
    assert parse_paste("plain.pdf", cwd=files[0].parent) == [files[0]]
