"""Settings file: defaults, round trip, comments kept, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctxchat.app.config import Config, ConfigError, config_path, load_config, save_config
from ctxchat.engines.paths import config_dir


def test_defaults_when_no_file() -> None:
    config = load_config()
    assert config == Config()
    assert config.kv_type == "q8_0"
    assert not config_path().exists()


def test_config_lives_in_the_config_dir(ctxchat_home: Path) -> None:
    assert config_path() == config_dir() / "config.toml"
    assert config_path().is_relative_to(ctxchat_home)


def test_round_trip_every_field() -> None:
    config = Config(
        rate=0.25,
        budget=None,
        compressor="/models/lingua",
        chat_model="/models/qwen.gguf",
        server_url="http://127.0.0.1:8080",
        kv_type="q4_0",
        n_ctx=2048,
        device="cpu",
        precision="int8",
        temperature=0.7,
        max_tokens=64,
    )
    save_config(config)
    assert load_config() == config


def test_unset_budget_and_rate_survive_a_save() -> None:
    save_config(Config(rate=None, budget=None))
    loaded = load_config()
    assert loaded.rate is None and loaded.budget is None


def test_answer_length_left_to_the_reader_survives_a_save() -> None:
    from ctxchat.app.ask_settings import ask_settings
    from ctxchat.engines.answer.conversation import SMALL_READER_ANSWER_TOKENS, answer_tokens

    assert Config().max_tokens is None and Config().temperature == 0.0  # what is measured
    save_config(Config())
    assert "max_tokens = 0" in config_path().read_text(encoding="utf-8")  # TOML has no null
    assert load_config().max_tokens is None
    assert answer_tokens(ask_settings(load_config())) == SMALL_READER_ANSWER_TOKENS
    assert answer_tokens(ask_settings(load_config(), max_tokens=200)) == 200


def test_user_comments_and_unknown_keys_are_kept() -> None:
    path = config_path()
    path.write_text('# my notes\ntheme = "dark"\nn_ctx = 8192\n', encoding="utf-8")
    assert load_config().n_ctx == 8192
    save_config(load_config().with_changes(max_tokens=99))
    text = path.read_text(encoding="utf-8")
    assert "# my notes" in text and 'theme = "dark"' in text
    assert load_config().max_tokens == 99


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('kv_type = "q2"', "kv_type"),
        ("rate = 1.5", "rate"),
        ('n_ctx = "big"', "n_ctx"),
        ("max_tokens = -3", "max_tokens"),
        ('precision = "fp8"', "precision"),
        ('reader_context = "most"', "reader_context"),
        ("n_ctx = [", "cannot read"),
    ],
)
def test_bad_values_name_the_setting(body: str, message: str) -> None:
    config_path().write_text(body + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_config()


def test_reader_context_reaches_the_ask_settings() -> None:
    from ctxchat.app.ask_settings import ask_settings
    from ctxchat.engines.answer.conversation import ALL, EVIDENCE_ONLY, reader_budget

    config_path().write_text('reader_context = "all"\n', encoding="utf-8")
    assert reader_budget(ask_settings(load_config())) == ALL
    assert ask_settings(load_config(), reader_budget=EVIDENCE_ONLY).reader_budget == EVIDENCE_ONLY
    assert reader_budget(ask_settings(Config())) != ALL  # auto: the bundled reader, evidence
    assert ask_settings(Config(reader_context="300")).reader_budget == 300


def test_precisions_match_the_engine() -> None:
    """config lists them so that reading settings never imports the engines: keep in step."""
    from ctxchat.app.config import PRECISIONS
    from ctxchat.engines.compress.encoder import PRECISIONS as ENGINE_PRECISIONS

    assert PRECISIONS == ENGINE_PRECISIONS
