"""Errors users can act on. The CLI prints str(error) on one line and exits 1."""

from __future__ import annotations


class CtxchatError(Exception):
    """Base of every error that carries a message meant for the user."""


class IngestError(CtxchatError):
    """A file could not be read into the library (missing, empty, corrupt, encrypted...)."""


class NeedsPasswordError(IngestError):
    """An encrypted document needs a password (or the one given was wrong)."""


class StoreError(CtxchatError):
    """The library database could not be used."""


class CompressorError(CtxchatError):
    """Bad compression input or a model folder that cannot serve as a compressor."""


class ModelNotFoundError(CtxchatError):
    """A model the user asked for (or the default) is not installed."""


class LLMError(CtxchatError):
    """The chat model could not load or answer."""
