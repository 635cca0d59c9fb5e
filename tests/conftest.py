"""Shared fixtures. Every test runs against its own CTXCHAT_HOME (a temporary data dir)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# No test reaches the real model hub or a server the developer happens to run.
os.environ.setdefault("CTXCHAT_HUB_URL", "http://127.0.0.1:9")
os.environ.setdefault("CTXCHAT_SERVER_PORTS", "")


@pytest.fixture(autouse=True)
def ctxchat_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path_factory.mktemp("ctxchat-home")
    monkeypatch.setenv("CTXCHAT_HOME", str(home))
    return home
