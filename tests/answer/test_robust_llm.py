"""Issue 16, defects 5, 6 and 7: RemoteLLM against bad servers (fakes on 127.0.0.1 only).

A server that streams without end, one that never answers, replies of the wrong shape,
a redirect to another origin that would receive the API key, and credentials in the URL
that error messages printed. Every server here stops on its own; every wait is bounded.
"""

from __future__ import annotations

import base64
import json
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ctxchat.app.cli import main
from ctxchat.engines.answer.llm import READ_TIMEOUT_S, RemoteLLM
from ctxchat.engines.errors import LLMError

MESSAGES = [{"role": "user", "content": "Say something."}]
Handler = Callable[[BaseHTTPRequestHandler], None]


@contextmanager
def fake_server(
    get: Handler | None = None, post: Handler | None = None, seen: list | None = None
) -> Iterator[str]:
    """An HTTP server on 127.0.0.1 whose GET/POST are the given functions; the headers of
    each request go to `seen`."""
    log: list[dict[str, str]] = seen if seen is not None else []

    class _Handler(BaseHTTPRequestHandler):
        seen = log

        def do_GET(self) -> None:  # noqa: N802 - http.server's names
            self.seen.append({"path": self.path, **dict(self.headers)})
            (get or _not_found)(self)

        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.seen.append({"path": self.path, **dict(self.headers)})
            (post or _not_found)(self)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _not_found(h: BaseHTTPRequestHandler) -> None:
    h.send_response(404)
    h.end_headers()


def _json(h: BaseHTTPRequestHandler, obj: object) -> None:
    data = json.dumps(obj).encode()
    h.send_response(200)
    h.send_header("Content-Type", "application/json")
    h.send_header("Content-Length", str(len(data)))
    h.end_headers()
    h.wfile.write(data)


def _sse(h: BaseHTTPRequestHandler, chunks: Iterator[object]) -> None:
    h.send_response(200)
    h.send_header("Content-Type", "text/event-stream")
    h.end_headers()
    try:
        for chunk in chunks:
            h.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            h.wfile.flush()
    except (BrokenPipeError, ConnectionResetError):
        pass  # the client stopped reading: what a good client does


def _token(text: str) -> dict[str, object]:
    return {"choices": [{"delta": {"content": text}, "finish_reason": None}]}


def test_an_endless_stream_stops_at_max_tokens():
    sent = {"n": 0}

    def endless(h: BaseHTTPRequestHandler) -> None:
        def chunks() -> Iterator[object]:
            while sent["n"] < 20_000:  # "without end", bounded so the test always ends
                sent["n"] += 1
                yield _token(" word")

        _sse(h, chunks())

    with fake_server(post=endless) as url:
        remote = RemoteLLM(url, model="m")
        pieces = list(remote.stream(MESSAGES, max_tokens=16))
    assert len(pieces) == 16 and "".join(pieces) == " word" * 16
    assert remote.last_stats.completion_tokens == 16
    assert remote.last_stats.finish == "length"


def test_one_huge_chunk_is_cut_to_max_tokens():
    with fake_server(post=lambda h: _sse(h, iter([_token(" many" * 5000)]))) as url:
        text = RemoteLLM(url, model="m").complete(MESSAGES, max_tokens=10)
    assert text == " many" * 10


def test_a_server_that_never_answers_times_out_in_one_line():
    assert READ_TIMEOUT_S <= 120  # was 600 s
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts the connection, never says a word
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    try:
        remote = RemoteLLM(url, model="m", timeout=0.5, connect_timeout=0.5)
        with pytest.raises(LLMError, match="did not answer within the timeout"):
            list(remote.stream(MESSAGES, max_tokens=4))
        with pytest.raises(LLMError, match="did not answer"):
            remote.check(timeout=0.5)
    finally:
        listener.close()


@pytest.mark.parametrize(
    "chunk",
    [
        {"choices": ["not an object"]},
        {"choices": {"delta": "x"}},
        {"choices": [{"delta": {"content": 5}}]},
        {"choices": [{"delta": {"content": ["a"]}}]},
        ["a", "list"],
        "a string",
        {"error": {"message": "model exploded"}},
    ],
)
def test_every_malformed_chunk_is_one_clear_error(chunk):
    with fake_server(post=lambda h: _sse(h, iter([chunk]))) as url, pytest.raises(LLMError) as exc:
        RemoteLLM(url, model="m").complete(MESSAGES, max_tokens=4)
    assert url in str(exc.value) and "\n" not in str(exc.value)


@pytest.mark.parametrize("models", [["a", "list"], {"data": "x"}, "text", {"object": "list"}])
def test_models_of_the_wrong_shape_is_one_clear_error(models):
    with (
        fake_server(get=lambda h: _json(h, models)) as url,
        pytest.raises(LLMError, match="not an OpenAI-compatible server"),
    ):
        RemoteLLM(url).check()


def test_malformed_reply_through_the_cli_is_one_line(capsys):
    with fake_server(get=lambda h: _json(h, ["a", "list"])) as url:
        assert main(["ask", "nothing.txt", "q?", "--llm-url", url]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_the_api_key_never_follows_a_redirect_to_another_origin(monkeypatch):
    monkeypatch.setenv("CTXCHAT_LLM_API_KEY", "sk-secret")
    first_seen: list = []
    other_seen: list = []
    elsewhere = {"data": [{"id": "elsewhere"}]}
    with fake_server(get=lambda h: _json(h, elsewhere), seen=other_seen) as other:

        def redirect(h: BaseHTTPRequestHandler) -> None:
            h.send_response(302)
            h.send_header("Location", other + h.path)
            h.end_headers()

        with fake_server(get=redirect, seen=first_seen) as first:
            assert RemoteLLM(first).check() == ["elsewhere"]
    assert first_seen[0]["Authorization"] == "Bearer sk-secret"
    assert other_seen and all("Authorization" not in h for h in other_seen)


def test_credentials_in_the_url_are_sent_as_basic_auth_and_never_printed(capsys):
    seen: list = []
    with fake_server(get=lambda h: _json(h, {"data": [{"id": "m"}]}), seen=seen) as url:
        with_user = url.replace("http://", "http://ann:pa%3Ass@")
        remote = RemoteLLM(with_user)
        assert remote.check() == ["m"]
    expected = "Basic " + base64.b64encode(b"ann:pa:ss").decode()
    assert seen[0]["Authorization"] == expected
    assert "pa" not in remote.url.split("127.0.0.1")[0] and remote.name == "m"
    # The server is gone now: the error names the URL without the password.
    assert main(["ask", "nothing.txt", "q?", "--llm-url", with_user]) == 1
    err = capsys.readouterr().err
    assert "cannot reach http://127.0.0.1:" in err
    assert "pa%3Ass" not in err and "pa:ss" not in err and "ann:" not in err
