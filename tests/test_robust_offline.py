"""Issue 16, defect 8: no network at run time.

PyMuPDF 2.0 pulls in ONNX Runtime (through pymupdf4llm / its layout plugin), whose
telemetry thread resolved mobile.events.data.microsoft.com a few seconds after loading, on
every `compress`. Two guards: strace watching every connect() of a real process (native
threads included), and a socket guard in this process for Python-level connections.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys

import pytest

from ctxchat.app.cli import main
from devkit import docgen

# add, compress (selection + the word compressor), ask (the bundled model), then wait past
# ONNX Runtime's first telemetry tick (it fired ~5 s after loading).
CHILD = """
import sys, time
from ctxchat.app.cli import main
pdf = sys.argv[1]
assert main(["add", pdf]) == 0
assert main(["compress", pdf, "-q", "What is the depth of the harbour?", "--budget", "120"]) == 0
assert main(["ask", pdf, "What is the depth?", "--budget", "120", "--max-tokens", "4"]) == 0
time.sleep(8)
"""

_INET_CONNECT = re.compile(r"connect\(\d+, \{sa_family=AF_INET6?,")


def _strace_works() -> bool:
    if shutil.which("strace") is None:
        return False
    probe = subprocess.run(["strace", "-f", "-o", os.devnull, "true"], capture_output=True)
    return probe.returncode == 0


@pytest.mark.skipif(not _strace_works(), reason="needs strace (installed by .ci/run)")
def test_add_compress_ask_open_no_network_connection(tmp_path):
    pdf = docgen.long_pdf(tmp_path / "report.pdf", 4)[0].path
    log = tmp_path / "connects.log"
    env = {**os.environ, "CTXCHAT_HOME": str(tmp_path / "home")}
    for name in ("ORT_DISABLE_TELEMETRY", "HF_HUB_DISABLE_TELEMETRY"):
        env.pop(name, None)  # ctxchat itself must switch them off
    done = subprocess.run(
        ["strace", "-f", "-e", "trace=connect", "-o", str(log),
         sys.executable, "-c", CHILD, str(pdf)],
        capture_output=True, text=True, timeout=600, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    connects = [line for line in log.read_text().splitlines() if _INET_CONNECT.search(line)]
    assert connects == []


class NetworkUsed(AssertionError):
    pass


@pytest.fixture()
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise NetworkUsed(f"network use at run time: {args[:2]}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_python_level_guard_add_compress_ask(tmp_path, no_network, capsys):
    pdf = docgen.long_pdf(tmp_path / "report.pdf", 3)[0].path
    assert main(["add", str(pdf)]) == 0
    assert main(["compress", str(pdf), "-q", "harbour depth", "--budget", "100"]) == 0
    assert main(["ask", str(pdf), "What is the depth?", "--budget", "100",
                 "--max-tokens", "4"]) == 0  # fmt: skip
    assert "Traceback" not in capsys.readouterr().err
