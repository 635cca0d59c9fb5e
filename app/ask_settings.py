"""The saved settings (and any command-line flags over them) as the engines' AskSettings.

One place for both front ends: `ctxchat ask` passes its flags, the TUI passes none, so for
the same config a question gets the same context from either (tests/answer/test_conversation.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ctxchat.app.config import Config
from ctxchat.engines.errors import CtxchatError

if TYPE_CHECKING:
    from ctxchat.engines.answer.conversation import AskSettings, ReaderChoice
    from ctxchat.engines.pipeline import CompressorSetup


def compressor_setup(
    config: Config,
    model: str | None = None,
    device: str | None = None,
    precision: str | None = None,
) -> CompressorSetup:
    """The word compressor the settings name, with any given values over them."""
    from ctxchat.engines.pipeline import CompressorSetup

    return CompressorSetup(
        model=model or config.compressor or None,
        device=device or config.device,
        precision=precision or config.precision,
    )


def reader_choice(
    config: Config,
    *,
    model: str | None = None,
    url: str | None = None,
    kv_type: str | None = None,
    n_ctx: int | None = None,
) -> ReaderChoice:
    """The chat model the settings name (cheap: imports no model code)."""
    from ctxchat.engines.answer.conversation import ReaderChoice

    n_ctx = n_ctx or config.n_ctx
    if n_ctx < 256:
        raise CtxchatError(f"--n-ctx must be at least 256, not {n_ctx}")
    return ReaderChoice(
        model=model or config.chat_model or None,
        url=url or config.server_url or None,
        n_ctx=n_ctx,
        kv_type=kv_type or config.kv_type,
        # the saved server's model, unless the flags name another server
        server_model=None if url else (config.server_model or None),
    )


def ask_settings(
    config: Config,
    *,
    budget: int | None = None,
    rate: float | None = None,
    model: str | None = None,
    url: str | None = None,
    kv_type: str | None = None,
    n_ctx: int | None = None,
    max_tokens: int | None = None,
    temperature: float | None = None,
    prune: bool | None = None,
    setup: CompressorSetup | None = None,
    reader_budget: int | None = None,
) -> AskSettings:
    """Given values over the config over the defaults; a bad value is a CtxchatError."""
    from ctxchat.engines.answer.conversation import AskSettings

    if budget is None and rate is None:
        budget, rate = (None, config.rate) if config.rate else (config.budget, None)
    if budget is not None and budget < 1:
        raise CtxchatError(f"the token budget must be positive, not {budget}")
    max_tokens = max_tokens if max_tokens is not None else config.max_tokens
    if max_tokens is not None and max_tokens < 1:
        raise CtxchatError(f"--max-tokens must be at least 1, not {max_tokens}")
    reader = reader_choice(config, model=model, url=url, kv_type=kv_type, n_ctx=n_ctx)
    if reader_budget is None and config.reader_context != "auto":
        reader_budget = parse_reader_context(config.reader_context)
    return AskSettings(
        reader=reader,
        budget=budget,
        rate=rate,
        max_tokens=max_tokens,
        temperature=temperature if temperature is not None else config.temperature,
        prune=prune,
        compressor=setup or compressor_setup(config),
        reader_budget=reader_budget,
    )


def parse_reader_context(value: str) -> int:
    """ "evidence", "all" or a positive token count, as the conversation's reader budget."""
    from ctxchat.engines.answer.conversation import ALL, EVIDENCE_ONLY

    named = {"evidence": EVIDENCE_ONLY, "all": ALL}
    if value in named:
        return named[value]
    if value.isdigit() and int(value) > 0:
        return int(value)
    raise CtxchatError(f"expected 'evidence', 'all' or a token count, not {value!r}")
