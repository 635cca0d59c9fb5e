"""Small HTTP servers on 127.0.0.1 standing in for the model hub and for local chat servers."""

from __future__ import annotations

import hashlib
import json
import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class HubFiles:
    """What the fake hub serves and what it saw.

    files: "owner/name/file" -> bytes. published: the SHA-256 it announces per file (the
    real one unless a test overrides it). cut_after: GETs cut after this many bytes, one
    per entry, in order. ranges: the Range header of every GET (None when absent).
    """

    files: dict[str, bytes]
    published: dict[str, str] = field(default_factory=dict)
    cut_after: list[int] = field(default_factory=list)
    ranges: list[str | None] = field(default_factory=list)

    def sha(self, key: str) -> str:
        return self.published.get(key) or hashlib.sha256(self.files[key]).hexdigest()


def _hub_handler(hub: HubFiles) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _key(self) -> str | None:
            m = re.fullmatch(r"/([^/]+/[^/]+)/resolve/main/(.+)", self.path)
            key = f"{m.group(1)}/{m.group(2)}" if m else None
            return key if key in hub.files else None

        def do_HEAD(self) -> None:  # noqa: N802 - http.server's naming
            key = self._key()
            if key is None:
                self.send_response(404)
                self.end_headers()
                return
            # Like the hub for LFS files: a redirect carrying the file's hash and size.
            self.send_response(302)
            self.send_header("Location", "/cdn/" + key)
            self.send_header("X-Linked-Etag", f'"{hub.sha(key)}"')
            self.send_header("X-Linked-Size", str(len(hub.files[key])))
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self) -> None:  # noqa: N802
            if self._key() is not None:
                self.send_response(302)
                self.send_header("Location", "/cdn/" + self._key())
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            key = self.path.removeprefix("/cdn/")
            if key not in hub.files:
                self.send_response(404)
                self.end_headers()
                return
            self._send_file(hub.files[key])

        def _send_file(self, data: bytes) -> None:
            header = self.headers.get("Range")
            hub.ranges.append(header)
            start = int(re.fullmatch(r"bytes=(\d+)-", header).group(1)) if header else 0
            self.send_response(206 if header else 200)
            self.send_header("Content-Length", str(len(data) - start))
            if header:
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            self.end_headers()
            body = data[start:]
            if hub.cut_after:
                body = body[: hub.cut_after.pop(0)]  # then the connection closes early
                self.close_connection = True
            self.wfile.write(body)

    return Handler


def _openai_handler(models: list[str]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            if self.path != "/v1/models":
                self.send_response(404)
                self.end_headers()
                return
            body = json.dumps({"object": "list", "data": [{"id": m} for m in models]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


@contextmanager
def _serve(handler: type[BaseHTTPRequestHandler]) -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def fake_hub(hub: HubFiles) -> Iterator[str]:
    """Serve `hub` like huggingface.co; yields the base URL for CTXCHAT_HUB_URL."""
    with _serve(_hub_handler(hub)) as port:
        yield f"http://127.0.0.1:{port}"


@contextmanager
def fake_openai_server(models: list[str]) -> Iterator[int]:
    """An OpenAI-compatible server that lists `models`; yields its port."""
    with _serve(_openai_handler(models)) as port:
        yield port
