"""The user's settings: a TOML file in the platform's config dir, with defaults for every key.

Read with tomllib (or tomli on 3.10), written with tomlkit so a user's comments and key
order survive a save from the settings screen.
"""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

import tomlkit

from ctxchat.engines.errors import CtxchatError
from ctxchat.engines.paths import config_dir

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

KV_TYPES = ("q8_0", "q4_0", "f16")
DEVICES = ("auto", "cpu", "cuda", "mps")
# The compressor's number formats (engines.encoder.PRECISIONS; listed here so that reading
# the config never imports the engines).
PRECISIONS = ("auto", "fp32", "bf16", "fp16", "int8")
CONFIG_FILE = "config.toml"


class ConfigError(CtxchatError):
    """The config file cannot be read or holds a value ctxchat cannot use."""


@dataclass(frozen=True)
class Config:
    """Every setting, with its default. Empty strings mean "the bundled default"."""

    rate: float | None = None  # kept share of tokens (0 < rate <= 1); wins over budget
    # Token budget of the compressed context: sized for the bundled reader (benchmarks/README,
    # "Answers in seconds"): its prompt reading sets the time to the first token.
    budget: int | None = 800
    compressor: str = ""  # a compressor model folder; "" = the project's own
    chat_model: str = ""  # a GGUF path; "" = the bundled SmolLM2-135M-Instruct
    server_url: str = ""  # an OpenAI-compatible server; used instead of chat_model when set
    server_model: str = ""  # which of the server's models; "" = the first it lists
    kv_type: str = "q8_0"
    n_ctx: int = 2048  # the budget's ~900 model tokens, the question and a 512-token answer
    device: str = "auto"  # where the compressor runs
    precision: str = "auto"  # the compressor's number format (int8: faster on CPUs, opt-in)
    # Greedy: what the ask-flow benchmark measures (reproducible answers; no looping answer
    # in its 154 dev questions, with the loop guard and repeat penalty).
    temperature: float = 0.0
    # The longest answer; None: 64 tokens for a small local model (the bundled one: its
    # longer answers invent), 512 for others (engines.answer.conversation.answer_tokens).
    max_tokens: int | None = None
    # What the chat model reads of the context: "auto" (a small local model the evidence
    # sentences, others all of it), "evidence", "all" or a token count. Ctrl+Y copies it all.
    reader_context: str = "auto"

    def __post_init__(self) -> None:
        check(self)

    def with_changes(self, **changes: object) -> Config:
        return replace(self, **changes)


def check(config: Config) -> None:
    """Raise ConfigError naming the first setting that cannot work."""
    if config.rate is not None and not 0 < config.rate <= 1:
        raise ConfigError(f"rate must be in (0, 1], got {config.rate}")
    if config.budget is not None and config.budget < 1:
        raise ConfigError(f"budget must be a positive token count, got {config.budget}")
    if config.kv_type not in KV_TYPES:
        raise ConfigError(f"kv_type must be one of {', '.join(KV_TYPES)}, got {config.kv_type!r}")
    if config.device not in DEVICES:
        raise ConfigError(f"device must be one of {', '.join(DEVICES)}, got {config.device!r}")
    if config.precision not in PRECISIONS:
        raise ConfigError(
            f"precision must be one of {', '.join(PRECISIONS)}, got {config.precision!r}"
        )
    if config.reader_context not in ("auto", "evidence", "all") and not (
        config.reader_context.isdigit() and int(config.reader_context) > 0
    ):
        raise ConfigError(
            "reader_context must be auto, evidence, all or a token count, "
            f"got {config.reader_context!r}"
        )
    if config.n_ctx < 256:
        raise ConfigError(f"n_ctx must be at least 256, got {config.n_ctx}")
    if config.max_tokens is not None and config.max_tokens < 1:
        raise ConfigError(f"max_tokens must be at least 1, got {config.max_tokens}")
    if not 0 <= config.temperature <= 2:
        raise ConfigError(f"temperature must be in [0, 2], got {config.temperature}")


_TYPES = {f.name: f.type for f in fields(Config)}


def config_path() -> Path:
    return config_dir() / CONFIG_FILE


def load_config(path: Path | None = None) -> Config:
    """The saved settings over the defaults; unknown keys are ignored (a newer version's)."""
    path = path or config_path()
    if not path.exists():
        return Config()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read the config at {path}: {exc}") from exc
    values = {k: _coerce(k, v, path) for k, v in data.items() if k in _TYPES}
    for key in ("rate", "budget", "max_tokens"):
        if values.get(key) == 0:
            values[key] = None
    try:
        return Config(**values)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def save_config(config: Config, path: Path | None = None) -> Path:
    """Write every setting, keeping the comments and other keys already in the file."""
    path = path or config_path()
    doc = tomlkit.document()
    if path.exists():
        try:
            doc = tomlkit.parse(path.read_text(encoding="utf-8"))
        except Exception:  # noqa: BLE001 - a broken file is replaced by a good one
            doc = tomlkit.document()
    if not doc:
        doc.add(tomlkit.comment("ctxchat settings (the settings screen rewrites this file)"))
    for key, value in asdict(config).items():
        # TOML has no null: an unset rate, budget or max_tokens is written as 0.
        doc[key] = 0 if value is None else value
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".toml.tmp")
    tmp.write_text(tomlkit.dumps(doc), encoding="utf-8")
    tmp.replace(path)  # atomic: a crash never leaves half a config
    return path


def _coerce(key: str, value: object, path: Path) -> str | int | float | bool | None:
    kind = _TYPES[key]
    try:
        if "float" in kind:
            return float(value)
        if "int" in kind:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            return int(value)
        if not isinstance(value, str):
            raise ValueError
        return value
    except (TypeError, ValueError):
        raise ConfigError(f"{path}: {key} has a value of the wrong type: {value!r}") from None
