"""RemoteLLM against a real OpenAI-compatible server: llama-cpp-python's own, on 127.0.0.1,
serving the bundled model. The server is always terminated."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from ctxchat.engines.answer.llm import RemoteLLM, open_llm
from ctxchat.engines.answer.prompt import answer_stream
from ctxchat.engines.models import smollm_gguf

pytest.importorskip("uvicorn", reason="needs llama-cpp-python[server] (the dev extra)")
pytestmark = pytest.mark.slow

START_TIMEOUT = 90.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log = tmp_path_factory.mktemp("server") / "server.log"
    cmd = [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(smollm_gguf()),
        "--host", "127.0.0.1", "--port", str(port),
        "--n_ctx", "1024",
    ]  # fmt: skip
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if proc.poll() is not None:
                pytest.fail(f"server exited: {Path(log).read_text(errors='replace')[-2000:]}")
            try:
                with urllib.request.urlopen(f"{url}/v1/models", timeout=2) as resp:
                    json.load(resp)
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("server did not start in time")
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_check_lists_the_served_model(server: str) -> None:
    remote = RemoteLLM(server)
    ids = remote.check()
    assert ids and remote.model == ids[0]


def test_stream_through_the_server(server: str) -> None:
    remote = open_llm(url=server, n_ctx=1024)
    messages = [
        {"role": "system", "content": "Answer in one short sentence."},
        {"role": "user", "content": "What is the capital of France?"},
    ]
    pieces = list(remote.stream(messages, max_tokens=24, temperature=0.0))
    assert len(pieces) > 1 and "".join(pieces).strip()
    stats = remote.last_stats
    assert stats.finish in {"stop", "length"}
    assert stats.completion_tokens >= len(pieces) and 0 < stats.ttft_s <= stats.seconds


def test_server_answer_matches_the_in_process_model(server: str) -> None:
    from ctxchat.engines.answer.llm import LocalLLM

    messages = [
        {"role": "system", "content": "Answer in one short sentence."},
        {"role": "user", "content": "Name a colour."},
    ]
    remote = RemoteLLM(server).complete(messages, max_tokens=8)
    local = LocalLLM(n_ctx=1024, kv_type="f16")
    try:
        here = local.complete(messages, max_tokens=8)
    finally:
        local.close()
    assert remote.strip() and here.strip()
    # same weights, same chat template, greedy: the first word agrees
    assert remote.split()[0] == here.split()[0]


def test_cancel_stops_the_remote_stream(server: str) -> None:
    remote = RemoteLLM(server)
    cancel = threading.Event()
    pieces = []
    for piece in remote.stream(
        [{"role": "user", "content": "Write a long story about a dog."}],
        max_tokens=200,
        cancel=cancel,
    ):
        pieces.append(piece)
        if len(pieces) == 2:
            cancel.set()
    assert len(pieces) == 2 and remote.last_stats.finish == "cancelled"


def test_answer_stream_works_with_a_server(server: str) -> None:
    remote = RemoteLLM(server, n_ctx=1024)
    context = "[p. 1] The harbour opened in 1871.\n[p. 2] The keeper is Ada Brune."
    answer = answer_stream(remote, context, "Who is the keeper?", max_tokens=24).run()
    assert answer.text and not answer.cancelled
    assert answer.stats.kv_type is None and answer.stats.kv_mib is None


def test_cli_ask_through_the_server(
    server: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from ctxchat.app.cli import main
    from devkit.docgen import long_pdf

    pdf, facts = long_pdf(tmp_path / "report.pdf", n_pages=6)
    args = ["ask", str(pdf.path), facts[0].question, "--llm-url", server, "--json"]
    assert main([*args, "--budget", "200", "--max-tokens", "24", "--temperature", "0"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["answer"].strip()
    assert data["stats"]["kv_type"] is None and data["stats"]["completion_tokens"] > 0
    assert data["stats"]["doc_tokens"] > data["stats"]["context_tokens"] > 0
