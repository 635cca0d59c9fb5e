"""Finding the OpenAI-compatible servers a user already runs (fake ones on 127.0.0.1)."""

from __future__ import annotations

import json

import pytest

from ctxchat.app.cli import main
from ctxchat.engines.answer.servers import candidates, discover, probe
from tests.fake_servers import HubFiles, fake_hub, fake_openai_server, free_port


def test_default_ports_are_the_known_servers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CTXCHAT_SERVER_PORTS")
    assert candidates() == [("Ollama", 11434), ("LM Studio", 1234), ("llama.cpp server", 8080)]
    monkeypatch.setenv("CTXCHAT_SERVER_PORTS", "11434, Mine=5000,junk")
    assert candidates() == [("Ollama", 11434), ("Mine", 5000)]


def test_discover_lists_answering_servers_and_their_models(monkeypatch: pytest.MonkeyPatch) -> None:
    closed = free_port()
    with (
        fake_openai_server(["llama3.2:3b", "qwen2.5:1.5b"]) as ollama,
        fake_hub(HubFiles({})) as not_openai,  # answers HTTP, but 404 on /v1/models
    ):
        other = int(not_openai.rsplit(":", 1)[1])
        monkeypatch.setenv("CTXCHAT_SERVER_PORTS", f"Ollama={ollama},{closed},{other}")
        found = discover()
        assert [(s.name, s.url, s.models) for s in found] == [
            ("Ollama", f"http://127.0.0.1:{ollama}", ["llama3.2:3b", "qwen2.5:1.5b"])
        ]
    assert probe("gone", ollama) is None  # stopped: nothing there any more


def test_models_and_doctor_show_local_servers(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with fake_openai_server(["local-model"]) as port:
        monkeypatch.setenv("CTXCHAT_SERVER_PORTS", f"LM Studio={port}")
        assert main(["models", "--json"]) == 0
        info = json.loads(capsys.readouterr().out)
        assert info["servers"] == [
            {"name": "LM Studio", "url": f"http://127.0.0.1:{port}", "models": ["local-model"]}
        ]
        assert main(["models"]) == 0
        assert f"LM Studio  http://127.0.0.1:{port}  local-model" in capsys.readouterr().out
        main(["doctor", "--json"])
        checks = {c["name"]: c for c in json.loads(capsys.readouterr().out)["checks"]}
    assert checks["local servers"]["ok"] is True
    assert f"LM Studio http://127.0.0.1:{port} (local-model)" in checks["local servers"]["detail"]
    gpu = checks["GPU offload"]
    assert gpu["required"] is False
    import llama_cpp

    assert gpu["ok"] is bool(llama_cpp.llama_supports_gpu_offload())
    monkeypatch.setenv("CTXCHAT_SERVER_PORTS", str(port))  # the server is gone now
    main(["doctor"])
    line = next(x for x in capsys.readouterr().out.splitlines() if "local servers" in x)
    assert line.split()[0] == "missing" and f"none answering (ports {port})" in line


def test_a_picked_server_model_is_the_one_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    from ctxchat.engines.answer.llm import open_llm

    with fake_openai_server(["llama3.2:3b", "gemma3:1b"]) as port:
        url = f"http://127.0.0.1:{port}"
        assert open_llm(url=url).name == "llama3.2:3b"  # nothing picked: the first
        assert open_llm(url=url, server_model="gemma3:1b").name == "gemma3:1b"
