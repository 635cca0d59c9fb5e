"""ctxchat: compress long documents locally before chatting with an LLM about them.

Public API (stable):

    import ctxchat
    r = ctxchat.compress_text(text, query=None, budget=None, rate=None)
    r = ctxchat.compress_file(path, query=None, budget=None, rate=None)
    r.text, r.original_tokens, r.compressed_tokens, r.ratio, r.spans

    a = ctxchat.ask(path, question, settings=None)   # -> AskResult (the flow `ctxchat ask` runs)
    a.answer, a.pages, a.evidence, a.grounding, a.stats
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ctxchat")
except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
    __version__ = "0.0.0"

__all__ = [
    "AskResult",
    "AskSettings",
    "Compressed",
    "Span",
    "__version__",
    "ask",
    "compress_file",
    "compress_text",
]


def __getattr__(name: str):
    # The pipeline pulls in torch and transformers: import it on first use only, so
    # `import ctxchat` (and the CLI's --help) stays fast.
    if name in {"compress_text", "compress_file", "Compressed", "Span"}:
        from ctxchat.engines import pipeline

        return getattr(pipeline, name)
    if name in {"ask", "AskSettings", "AskResult"}:
        from ctxchat.engines.answer import conversation

        return conversation.ask_file if name == "ask" else getattr(conversation, name)
    raise AttributeError(f"module 'ctxchat' has no attribute {name!r}")
