"""`ctxchat models pull`: GGUF chat models from a hub (a fake one on 127.0.0.1 here)."""

from __future__ import annotations

import hashlib
import json
import os

import pytest

from ctxchat.app.cli import main
from ctxchat.engines.hub import CURATED, target_path
from ctxchat.engines.models import smollm_gguf
from tests.fake_servers import HubFiles, fake_hub, free_port

REPO, FILE = "someone/SmolLM2-135M-Instruct-GGUF", "smollm2-135m-q4_1.gguf"
KEY = f"{REPO}/{FILE}"


def small_gguf(n: int = 3 << 20) -> bytes:
    return b"GGUF" + os.urandom(n)


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


def test_pull_resumes_after_a_cut_connection_and_lists_the_model(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = smollm_gguf().read_bytes()  # the bundled model, served as if from the hub
    cut = 40 << 20
    hub = HubFiles({KEY: data}, cut_after=[cut])
    with fake_hub(hub) as url:
        monkeypatch.setenv("CTXCHAT_HUB_URL", url)
        assert main(["models", "pull", REPO, FILE]) == 0
    # The second GET asked only for the rest.
    assert hub.ranges == [None, f"bytes={cut}-"]
    path = target_path(REPO, FILE)
    assert hashlib.sha256(path.read_bytes()).digest() == hashlib.sha256(data).digest()
    assert not path.with_name(path.name + ".part").exists()
    out = capsys.readouterr().out
    assert str(path) in out and hashlib.sha256(data).hexdigest() in out

    assert main(["models", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    pulled = [c for c in info["chat_models"] if c["source"] == f"pulled from {REPO}"]
    assert [c["path"] for c in pulled] == [str(path)]
    assert info["chat_models"][0]["source"] == "bundled (default)"


def test_an_interrupted_pull_continues_in_the_next_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = small_gguf()
    hub = HubFiles({KEY: data}, cut_after=[1 << 20, 1 << 20, 1 << 20])
    monkeypatch.setattr("ctxchat.engines.hub.RETRIES", 0)
    with fake_hub(hub) as url:
        monkeypatch.setenv("CTXCHAT_HUB_URL", url)
        assert main(["models", "pull", REPO, FILE]) == 1
        line = one_error_line(capsys)
        assert "broke off" in line and "again to resume" in line
        part = target_path(REPO, FILE).with_name(FILE + ".part")
        assert part.stat().st_size == 1 << 20
        assert main(["models", "pull", REPO, FILE]) == 1  # cut again, one more MiB
        capsys.readouterr()
        hub.cut_after.clear()
        assert main(["models", "pull", REPO, FILE]) == 0
    assert hub.ranges == [None, f"bytes={1 << 20}-", f"bytes={2 << 20}-"]
    assert target_path(REPO, FILE).read_bytes() == data


def test_a_checksum_mismatch_deletes_the_download(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    hub = HubFiles({KEY: small_gguf()}, published={KEY: "ab" * 32})
    with fake_hub(hub) as url:
        monkeypatch.setenv("CTXCHAT_HUB_URL", url)
        assert main(["models", "pull", REPO, FILE]) == 1
        assert one_error_line(capsys).startswith("ctxchat: error: checksum mismatch for")
        assert list(target_path(REPO, FILE).parent.iterdir()) == []
        # A hash the user gives wins over the hub's (right file, wrong hash given).
        hub.published.clear()
        assert main(["models", "pull", REPO, FILE, "--sha256", "cd" * 32]) == 1
        assert "checksum mismatch" in one_error_line(capsys)
        assert main(["models", "pull", REPO, FILE]) == 0


def test_a_curated_name_pulls_its_repo_file(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    model = next(m for m in CURATED if m.sha256 is None)
    hub = HubFiles({f"{model.repo}/{model.file}": small_gguf()})
    with fake_hub(hub) as url:
        monkeypatch.setenv("CTXCHAT_HUB_URL", url)
        assert main(["models", "pull", model.name]) == 0
    assert target_path(model.repo, model.file).exists()
    assert main(["models"]) == 0
    listing = capsys.readouterr().out
    assert f"pulled from {model.repo}" in listing
    assert any(line.split()[:2] == [model.name, "pulled"] for line in listing.splitlines())


def test_offline_missing_and_bad_names_are_one_line_errors(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()
    monkeypatch.setenv("CTXCHAT_HUB_URL", f"http://127.0.0.1:{port}")
    assert main(["models", "pull", REPO, FILE]) == 1
    assert one_error_line(capsys).startswith(f"ctxchat: error: cannot reach 127.0.0.1:{port}")
    assert main(["models", "pull", "qwen2.5-1.5b"]) == 1
    assert "(offline?)" in one_error_line(capsys)
    with fake_hub(HubFiles({KEY: small_gguf()})) as url:
        monkeypatch.setenv("CTXCHAT_HUB_URL", url)
        assert main(["models", "pull", REPO, "other.gguf"]) == 1
        assert "has no file 'other.gguf'" in one_error_line(capsys)
    assert main(["models", "pull", "no-such-model"]) == 1
    assert "neither a curated model" in one_error_line(capsys)
    assert main(["models", "pull", REPO, "notes.txt"]) == 1
    assert "not a .gguf file" in one_error_line(capsys)
