"""Find OpenAI-compatible chat servers the user already runs on this machine.

Ollama, LM Studio and llama.cpp's server all answer GET /v1/models on their default ports.
Each port is asked once, in parallel, with a short timeout, so a machine running none of
them costs a fraction of a second. CTXCHAT_SERVER_PORTS ("11434,1234,8080" or
"name=port,...") replaces the default list (tests point it at a fake server).
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

PORTS_ENV = "CTXCHAT_SERVER_PORTS"
DEFAULT_SERVERS = (("Ollama", 11434), ("LM Studio", 1234), ("llama.cpp server", 8080))
TIMEOUT_S = 0.5
HOST = "127.0.0.1"


@dataclass(frozen=True)
class LocalServer:
    """A server that answered, and the model ids it offers."""

    name: str
    url: str  # base URL for --llm-url / the server_url setting
    models: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, str | list[str]]:
        return {"name": self.name, "url": self.url, "models": list(self.models)}


def candidates() -> list[tuple[str, int]]:
    """(name, port) pairs to ask: the defaults, or CTXCHAT_SERVER_PORTS."""
    raw = os.environ.get(PORTS_ENV)
    if raw is None:
        return list(DEFAULT_SERVERS)
    names = {port: name for name, port in DEFAULT_SERVERS}
    found = []
    for item in raw.split(","):
        name, _, port = item.strip().rpartition("=")
        if port.isdigit():
            found.append((name or names.get(int(port), f"server on port {port}"), int(port)))
    return found


def probe(name: str, port: int, timeout: float = TIMEOUT_S) -> LocalServer | None:
    """The server on 127.0.0.1:port if it answers /v1/models like an OpenAI server."""
    url = f"http://{HOST}:{port}"
    request = urllib.request.Request(url + "/v1/models", headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            data = json.load(resp)
    except (urllib.error.URLError, OSError, ValueError):
        return None  # nothing there, not HTTP, or not an OpenAI-style answer
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        return None
    models = [str(m["id"]) for m in data["data"] if isinstance(m, dict) and m.get("id")]
    return LocalServer(name, url, models)


def discover(timeout: float = TIMEOUT_S) -> list[LocalServer]:
    """Every known local server that answers, in the order of candidates()."""
    ports = candidates()
    if not ports:
        return []
    with ThreadPoolExecutor(max_workers=len(ports)) as pool:
        found = list(pool.map(lambda c: probe(c[0], c[1], timeout), ports))
    return [s for s in found if s is not None]
